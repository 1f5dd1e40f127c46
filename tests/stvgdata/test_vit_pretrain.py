"""``stvg pretrain-vit``: the contrastive loss falls on a toy set, the saved directory loads
through ``--weights vit=PATH`` with a weights hash (not random-init) in the fingerprint, and
STOP's frozen top accepts tokens cut from it and refuses them for other weights."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest

from heads.stop.config import StopConfig
from heads.stop.frozen import build_frozen_top
from stvgdata.cache import ShardReader, manifest_rows
from stvgdata.errors import BadInputError
from stvgdata.extractors import RandomInitWarning
from stvgdata.extractors.vit_pretrain import (
    PROVENANCE_FILE,
    FramePairs,
    FrameTextModel,
    VitPretrainConfig,
    random_vit,
    train_frame_text,
)
from stvgdata.regions.config import SubstituteConfig
from stvgdata.regions.substitute import Vocabulary
from tests.heads.stop_workspace import DATASET, FRAME_SIZE, build_stop_workspace

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


@pytest.fixture(autouse=True)
def _quiet_random_init():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RandomInitWarning)
        yield


def _toy_pairs() -> FramePairs:
    """One video per colour: frames (64, 96) with a box of that colour at random places,
    each paired with 'a <colour> box'."""
    rng = np.random.default_rng(0)
    frames, sentences, video = [], [], []
    for number, (name, rgb) in enumerate(COLOURS.items()):
        for _ in range(4):
            frame = np.full((*FRAME_SIZE, 3), 90, np.uint8)
            y, x = rng.integers(0, 40), rng.integers(0, 70)
            frame[y : y + 24, x : x + 24] = rgb
            frames.append(frame)
            sentences.append(f"a {name} box")
            video.append(number)
    return FramePairs(np.stack(frames), sentences, np.arange(len(frames)), np.array(video))


def test_the_contrastive_loss_falls_on_a_toy_set() -> None:
    data = _toy_pairs()
    text = SubstituteConfig(dim=16, text_width=16, text_layers=1, text_heads=2)
    model = FrameTextModel(random_vit("tiny", 0), text, Vocabulary.build(data.sentences))
    config = VitPretrainConfig(dataset="toy", arch="tiny", epochs=25, batch_size=6, lr=3e-3)
    losses = train_frame_text(model, data, config)
    assert losses[-1] < 0.5 * losses[0]


def test_pretrained_directory_loads_through_weights_and_the_frozen_top_checks_it(
    tmp_path, run_cli
) -> None:
    ws = build_stop_workspace(tmp_path / "ws")
    vit_dir = tmp_path / "vit"
    trained = run_cli(
        "pretrain-vit", "--dataset", DATASET, "--arch", "tiny", "--size", "64x96",
        "--epochs", "1", "--output", vit_dir, "--json", workspace_path=ws.root,
    )  # fmt: skip
    assert trained.exit_code == 0, trained.stderr
    summary = json.loads(trained.stdout)
    assert summary["weights"].startswith("sha256:") and summary["pairs"] > 0
    provenance = json.loads((vit_dir / PROVENANCE_FILE).read_text())
    assert provenance["config"]["split"] == "train" and "NOT pretrained CLIP" in provenance["what"]

    extracted = run_cli(
        "extract", "--dataset", DATASET, "--features", "vit", "--size", "64x96",
        "--weights", f"vit={vit_dir}", "--replace-model-cache", workspace_path=ws.root,
    )  # fmt: skip
    assert extracted.exit_code == 0, extracted.stderr
    row = manifest_rows(ws, DATASET, "vit").to_pylist()[0]
    reader = ShardReader(ws.features_dir)
    description = reader.description(row)
    reader.close()
    assert summary["weights"] in description and "random-init" not in description

    pretrained = StopConfig(vit_weights=str(vit_dir))
    assert build_frozen_top(pretrained, description) is not None
    with pytest.raises(BadInputError, match="not cut from this network"):
        build_frozen_top(
            dataclasses.replace(pretrained, vit_weights=None, vit_tiny=True), description
        )


def test_bad_inputs_are_one_line_errors(run_cli) -> None:
    unknown = run_cli("pretrain-vit", "--dataset", DATASET, "--arch", "huge")
    assert unknown.exit_code == 2 and "unknown" in unknown.stderr
    empty = run_cli("pretrain-vit", "--dataset", DATASET, "--arch", "tiny", "--split", "none")
    assert empty.exit_code == 2 and "no queries" in empty.stderr
