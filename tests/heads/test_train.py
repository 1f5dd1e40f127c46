"""Training: a tiny batch is overfit, runs are deterministic for a seed, resume equals an
uninterrupted run, early stopping, checkpoints and configuration on disk."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch

from heads.config import CSDVLConfig, TrainConfig, config_from_dict, config_to_dict
from heads.data import QueryData
from heads.models import FeatureDims
from heads.train import (
    BEST_CHECKPOINT,
    CONFIG_FILE,
    LAST_CHECKPOINT,
    fit,
    load_model,
)
from schemas import FeatureSet
from tests.heads.fake_batch import concat_queries, make_batch, split_queries

TINY = CSDVLConfig(
    d_model=16,
    num_layers=1,
    num_heads=2,
    ffn_dim=32,
    dropout=0.1,
    d_m=8,
    map_conv_layers=1,
    map_kernel=3,
)
TRAIN = TrainConfig(epochs=2, batch_size=2, lr=1e-3, grad_clip=1.0, seed=3)


def _data(queries: int = 4) -> QueryData:
    batch = make_batch(lengths=(6,) * queries, text_lengths=(4,) * queries, seed=1)
    items = split_queries(batch)
    return QueryData(items, concat_queries, FeatureDims.of_batch(batch))


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / LAST_CHECKPOINT, weights_only=False)["model"]


def _assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], atol=0, rtol=0, msg=name)


def test_a_few_steps_overfit_a_tiny_batch(tmp_path):
    train = dataclasses.replace(TRAIN, epochs=20, batch_size=4, lr=3e-3)
    config = dataclasses.replace(TINY, dropout=0.0)
    result = fit(tmp_path / "run", _data(), config, train)
    first, last = result.history[0]["total"], result.history[-1]["total"]
    assert last < 0.7 * first
    assert result.history[-1]["l1"] < result.history[0]["l1"]


def test_same_seed_same_run_and_other_seed_other_run(tmp_path):
    fit(tmp_path / "a", _data(), TINY, TRAIN)
    fit(tmp_path / "b", _data(), TINY, TRAIN)
    _assert_same_weights(tmp_path / "a", tmp_path / "b")
    fit(tmp_path / "c", _data(), TINY, dataclasses.replace(TRAIN, seed=4))
    wa, wc = _weights(tmp_path / "a"), _weights(tmp_path / "c")
    assert not torch.equal(wa["frame_proj.0.weight"], wc["frame_proj.0.weight"])


def test_resume_gives_the_same_result_as_an_uninterrupted_run(tmp_path):
    full = fit(tmp_path / "full", _data(), TINY, dataclasses.replace(TRAIN, epochs=3))
    fit(tmp_path / "cut", _data(), TINY, dataclasses.replace(TRAIN, epochs=1))
    resumed = fit(
        tmp_path / "cut", _data(), TINY, dataclasses.replace(TRAIN, epochs=3), resume=True
    )
    _assert_same_weights(tmp_path / "full", tmp_path / "cut")
    assert resumed.epochs_completed == 3
    assert [h["total"] for h in resumed.history] == [h["total"] for h in full.history]


def test_run_dir_holds_config_and_loadable_checkpoint(tmp_path):
    result = fit(tmp_path / "run", _data(), TINY, TRAIN)
    stored = json.loads((result.run_dir / CONFIG_FILE).read_text())
    assert stored["model"]["d_model"] == 16 and stored["train"]["seed"] == 3
    model, train_config = load_model(result.checkpoint)
    assert train_config == TRAIN
    assert model.config == TINY
    assert result.checkpoint.name == LAST_CHECKPOINT  # nothing validated: last


def test_early_stopping_keeps_the_best_epoch(tmp_path):
    scores = iter([0.5, 0.4, 0.3, 0.9])
    train = dataclasses.replace(TRAIN, epochs=4, patience=2, val_split="val")
    result = fit(tmp_path / "run", _data(), TINY, train, validate=lambda model: next(scores))
    assert result.stopped_early and result.epochs_completed == 3
    assert result.best_epoch == 1 and result.best_val_m_viou == 0.5
    assert result.checkpoint.name == BEST_CHECKPOINT
    assert [h["val_m_viou"] for h in result.history] == [0.5, 0.4, 0.3]


def test_feature_set_round_trips_and_old_configs_get_the_default():
    chosen = TrainConfig(features=FeatureSet(frame="vl-synth-map", text="vl-synth-text"))
    stored = json.loads(json.dumps(config_to_dict(CSDVLConfig(), chosen)))
    assert config_from_dict(stored)[1] == chosen
    del stored["train"]["features"]  # a run written before the field existed
    assert config_from_dict(stored)[1].features == FeatureSet()
