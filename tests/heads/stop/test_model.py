"""STOP on tiny cached tokens: shapes of the prompters, a training step that moves prompts and
heads but never the frozen ViT layers, and the refusal of tokens cut from another network."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pyarrow as pa
import pytest
import torch

from stvg.heads.runs import LAST_CHECKPOINT, TrainRequest, read_run
from stvg.heads.stop.config import StopConfig
from stvg.heads.stop.frozen import build_frozen_top
from stvg.heads.stop.train import build_model, load_data, train_stop, training_step
from stvg.schemas.tables import OPTIONAL_COLUMNS, RUNS, validate_table
from stvg.stvgdata.catalog import connect
from stvg.stvgdata.errors import BadInputError
from tests.heads.stop.stop_workspace import DATASET, FRAME_SIZE, build_stop_workspace
from tests.helpers import quiet_random_init

CONFIG = StopConfig(vit_tiny=True, frames=3, num_spatial=2, max_temporal=3, epochs=1)
GRID = (FRAME_SIZE[0] // 16, FRAME_SIZE[1] // 16)
PATCHES = GRID[0] * GRID[1]


pytestmark = pytest.mark.usefixtures("quiet_random_init")


@pytest.fixture(scope="module")
def workspace_and_data(tmp_path_factory):
    with quiet_random_init():
        ws = build_stop_workspace(tmp_path_factory.mktemp("stop"))
        return ws, load_data(ws, DATASET, CONFIG, "test")


def test_cached_clips_and_text_have_the_documented_shapes(workspace_and_data) -> None:
    _, data = workspace_and_data
    train = data.train
    assert train.clips.shape == (3, CONFIG.frames, 1 + PATCHES, 32)  # 3 tubes, 2 queries each
    assert train.target.tolist() == [0, 0, 1, 1, 2, 2]
    assert train.text.shape[0] == 6 and train.text_mask.shape == train.text.shape[:2]
    assert train.frame_size == FRAME_SIZE


def test_prompters_keep_shapes_and_count_temporal_slots(workspace_and_data) -> None:
    _, data = workspace_and_data
    model = build_model(CONFIG, data.train)
    tokens = data.train.clips[:2].float()  # (B=2, T=3, 1 + P, C)
    sequence, valid = model.frame_sequences(tokens)
    assert sequence.shape == (2, 3, 1 + PATCHES + CONFIG.max_temporal, 32)
    assert valid.shape == sequence.shape[:3]
    assert valid[:, :, : 1 + PATCHES].all()
    assert not valid[:, 0, 1 + PATCHES :].any()  # no gap before the first frame
    out = model.temporal(sequence[:, :, 1 : 1 + PATCHES], torch.zeros(2, 3, PATCHES).bool(), GRID)
    assert out.counts.shape == (2, 2) and out.weights.shape == (2, 2)
    assert torch.equal(valid[:, 1:, 1 + PATCHES :].sum(-1), out.counts)
    assert model.encode_video(tokens).shape == (2, CONFIG.embed_dim)


def test_spatial_prompts_land_only_on_the_top_regions(workspace_and_data) -> None:
    _, data = workspace_and_data
    model = build_model(dataclasses.replace(CONFIG, temporal=False), data.train)
    torch.nn.init.normal_(model.spatial.prompter[-1].weight)  # non-zero prompts
    tokens = data.train.clips[:1].float()
    attention = model.frozen.cls_attention(tokens.flatten(0, 1)).view(1, 3, PATCHES)
    out = model.spatial(tokens[:, :, 1:], attention, GRID)
    assert out.regions.sum(-1).eq(CONFIG.num_spatial).all()
    changed = (out.patches - tokens[:, :, 1:]).abs().sum(-1) > 0
    assert torch.equal(changed, out.regions)


def test_a_training_step_moves_prompts_and_heads_not_the_frozen_layers(workspace_and_data) -> None:
    _, data = workspace_and_data
    model = build_model(CONFIG, data.train)
    frozen_before = {k: v.clone() for k, v in model.frozen.state_dict().items()}
    heads_before = {k: v.clone() for k, v in model.state_dict().items() if "frozen" not in k}
    optimizer = torch.optim.AdamW(model.trainable_parameters(), lr=1e-2)
    losses = training_step(model, data.train, torch.arange(3), torch.tensor([0, 2, 4]), CONFIG)
    losses["total"].backward()
    assert all(p.grad is None for p in model.frozen.parameters())
    optimizer.step()
    assert all(torch.equal(v, frozen_before[k]) for k, v in model.frozen.state_dict().items())
    moved = [k for k, v in model.state_dict().items() if k in heads_before]
    moved = [k for k in moved if not torch.equal(model.state_dict()[k], heads_before[k])]
    assert any(k.startswith("spatial.") for k in moved)
    assert any(k.startswith("temporal.") for k in moved)
    assert any(k.startswith("text_head.") for k in moved)


def test_tokens_of_another_network_are_refused(workspace_and_data) -> None:
    _, data = workspace_and_data
    with pytest.raises(BadInputError, match="not cut from this network"):
        build_frozen_top(dataclasses.replace(CONFIG, vit_seed=1), data.train.cached_config)


def test_a_run_is_recorded_with_retrieval_metrics_only(workspace_and_data) -> None:
    ws, data = workspace_and_data
    run = train_stop(TrainRequest(ws, DATASET, CONFIG, "test"), data)
    assert (run.run_dir / LAST_CHECKPOINT).is_file()
    record = read_run(ws, run.run_id)
    assert (record.method, record.variant, record.result["split"]) == (
        "stop",
        run.config.variant_name(),
        "test",
    )
    assert {f["model"] for f in record.features} == {"vit", "roberta"}
    con = connect(ws)
    row = con.execute(
        "SELECT method, variant, m_viou, r_at_1, median_rank, num_queries FROM runs "
        "WHERE run_id = ?",
        [run.run_id],
    ).fetchone()
    con.close()
    assert row[:3] == ("stop", "spatial+temporal", None)
    assert 0 <= row[3] <= 1 and row[4] >= 1 and row[5] == 2


def test_runs_rows_without_retrieval_columns_still_validate() -> None:
    """Writers older than the retrieval columns (csdvl, e3m) keep working: nulls are filled."""
    row = {name: None for name in RUNS.names if name not in OPTIONAL_COLUMNS["runs"]}
    row.update(run_id="r", dataset="d", method="csdvl", variant="full", split="test")
    row.update(protocol="all-frames", sentence_type="all", num_queries=1, config="{}")
    row.update(m_viou=0.5, created_at=datetime.now(UTC))
    checked = validate_table("runs", pa.Table.from_pylist([row]))
    assert checked.column("r_at_1").null_count == 1 and checked.column("m_viou")[0].as_py() == 0.5
