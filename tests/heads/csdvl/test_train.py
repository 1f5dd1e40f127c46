"""Training: a tiny batch is overfit, runs are deterministic for a seed, resume equals an
uninterrupted run, early stopping, checkpoints and configuration on disk."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from stvg.heads.csdvl.config import CSDVLConfig, TrainConfig, config_from_dict, config_to_dict
from stvg.heads.csdvl.data import QueryData
from stvg.heads.csdvl.model import FeatureDims
from stvg.heads.csdvl.predict import load_model
from stvg.heads.csdvl.train import check_warmup, fit
from stvg.heads.runs import BEST_CHECKPOINT, LAST_CHECKPOINT
from stvg.schemas import FeatureSet
from stvg.stvgdata.errors import BadInputError
from tests.heads.csdvl.fake_batch import concat_queries, make_batch, split_queries

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


def test_checkpoint_holds_its_config_and_loads(tmp_path):
    result = fit(tmp_path / "run", _data(), TINY, TRAIN)
    stored = torch.load(result.checkpoint, weights_only=False)["config"]
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


def test_runs_stored_before_the_anchor_option_keep_the_anchor_they_were_trained_with():
    stored = json.loads(json.dumps(config_to_dict(CSDVLConfig(anchor="none"), TrainConfig())))
    assert config_from_dict(stored)[0].anchor == "none"
    del stored["model"]["anchor"]
    stored["model"]["d2s_anchor"] = True  # a run from the boolean option's time
    assert config_from_dict(stored)[0].anchor == "static+d2s"
    stored["model"]["d2s_anchor"] = False
    assert config_from_dict(stored)[0].anchor == "static"
    del stored["model"]["d2s_anchor"]  # a run written before either existed
    assert config_from_dict(stored)[0].anchor == "static"
    assert CSDVLConfig().anchor == "static"  # default: the same anchor for every variant


def _collaboration_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return {k: v for k, v in _weights(run_dir).items() if k.startswith("collaboration.")}


def test_warm_start_trains_the_streams_apart_then_switches_the_exchange_on(tmp_path):
    """During the warm-up epochs the collaboration blocks get no gradient (AdamW skips them,
    weight decay included), so they still hold their initial values; afterwards they train."""
    warm = dataclasses.replace(TRAIN, epochs=2, collab_warmup=1)
    fit(tmp_path / "init", _data(), TINY, dataclasses.replace(warm, epochs=1, lr=0.0))
    fit(tmp_path / "warm", _data(), TINY, dataclasses.replace(warm, epochs=1))
    initial = _collaboration_weights(tmp_path / "init")
    warmed = _collaboration_weights(tmp_path / "warm")
    assert initial and all(torch.equal(initial[k], warmed[k]) for k in initial)
    result = fit(tmp_path / "warm", _data(), TINY, warm, resume=True)
    after = _collaboration_weights(tmp_path / "warm")
    assert any(not torch.equal(initial[k], after[k]) for k in initial)
    assert [h["warmup"] for h in result.history] == [1.0, 0.0]


def test_warm_start_never_keeps_a_warm_up_epoch_as_best(tmp_path):
    scores = iter([0.9, 0.2, 0.3])
    train = dataclasses.replace(TRAIN, epochs=3, collab_warmup=1, val_split="val")
    result = fit(tmp_path / "run", _data(), TINY, train, validate=lambda model: next(scores))
    assert result.best_epoch == 3 and result.best_val_m_viou == 0.3
    assert load_model(result.checkpoint)[0].exchange_on  # evaluated as the full model


def test_warm_start_changes_nothing_without_an_exchange(tmp_path):
    none = dataclasses.replace(TINY, s2d=False, d2s=False)
    fit(tmp_path / "plain", _data(), none, TRAIN)
    fit(tmp_path / "warm", _data(), none, dataclasses.replace(TRAIN, collab_warmup=5))
    _assert_same_weights(tmp_path / "plain", tmp_path / "warm")


@pytest.mark.parametrize("warmup", [-1, 2])
def test_warm_start_must_leave_epochs_with_the_exchange(warmup):
    with pytest.raises(BadInputError, match="collab_warmup"):
        check_warmup(TINY, dataclasses.replace(TRAIN, epochs=2, collab_warmup=warmup))
