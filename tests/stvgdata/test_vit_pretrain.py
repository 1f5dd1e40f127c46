"""``stvg pretrain-vit``: the contrastive loss falls on a toy set, the saved directory loads
through ``--weights vit=PATH`` with a weights hash (not random-init) in the fingerprint, and
STOP's frozen top accepts tokens cut from it and refuses them for other weights."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from stvg.heads.stop.config import StopConfig
from stvg.heads.stop.frozen import build_frozen_top
from stvg.stvgdata.cache import ShardReader, manifest_rows, row_config
from stvg.stvgdata.encoders.config import SubstituteConfig
from stvg.stvgdata.encoders.vit_pretrain import (
    PROVENANCE_FILE,
    FramePairs,
    FrameTextModel,
    VitPretrainConfig,
    box_patch_weights,
    random_vit,
    shift_frames,
    train_frame_text,
)
from stvg.stvgdata.encoders.vl_synth import Vocabulary
from stvg.stvgdata.errors import BadInputError
from tests.heads.stop.stop_workspace import DATASET, FRAME_SIZE, build_stop_workspace

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


pytestmark = pytest.mark.usefixtures("quiet_random_init")


def _toy_pairs() -> FramePairs:
    """One video per colour: frames (64, 96) with a box of that colour at random places,
    each paired with 'a <colour> box'."""
    rng = np.random.default_rng(0)
    frames, sentences, video, boxes = [], [], [], []
    for number, (name, rgb) in enumerate(COLOURS.items()):
        for _ in range(4):
            frame = np.full((*FRAME_SIZE, 3), 90, np.uint8)
            y, x = rng.integers(0, 40), rng.integers(0, 70)
            frame[y : y + 24, x : x + 24] = rgb
            frames.append(frame)
            boxes.append((x, y, x + 24, y + 24))
            sentences.append(f"a {name} box")
            video.append(number)
    index = np.arange(len(frames))
    return FramePairs(
        np.stack(frames), sentences, index, np.array(video), np.array(boxes, np.float32), index
    )


def test_the_contrastive_loss_falls_on_a_toy_set() -> None:
    data = _toy_pairs()
    text = SubstituteConfig(dim=16, text_width=16, text_layers=1, text_heads=2)
    model = FrameTextModel(random_vit("tiny", 0), text, Vocabulary.build(data.sentences))
    config = VitPretrainConfig(dataset="toy", arch="tiny", epochs=25, batch_size=6, lr=3e-3)
    losses = train_frame_text(model, data, config)
    assert losses[-1] < 0.5 * losses[0]


def _two_object_pairs(count: int, seed: int) -> FramePairs:
    """Frames each showing two boxes of different colours; the pair names one of them. Every
    frame is its own video, so only the region term can tell which box a sentence means."""
    rng = np.random.default_rng(seed)
    names = list(COLOURS)
    frames, sentences, boxes, target = [], [], [], []
    for _ in range(count):
        frame = np.full((*FRAME_SIZE, 3), 90, np.uint8)
        named, other = rng.choice(len(names), 2, replace=False)
        x = rng.integers(0, 24)
        for colour, left in ((named, x), (other, x + 48)):
            frame[16:32, left : left + 16] = COLOURS[names[colour]]
        frames.append(frame)
        sentences.append(f"a {names[named]} box")
        boxes.append((x, 16, x + 16, 32))
        target.append(named)
    index = np.arange(count)
    return FramePairs(
        np.stack(frames), sentences, index, index, np.array(boxes, np.float32), np.array(target)
    )


def test_the_region_term_teaches_the_patches_under_the_box() -> None:
    data = _two_object_pairs(24, seed=0)
    text = SubstituteConfig(dim=16, text_width=16, text_layers=1, text_heads=2)
    model = FrameTextModel(random_vit("tiny", 0), text, Vocabulary.build(data.sentences))
    config = VitPretrainConfig(
        dataset="toy", arch="tiny", epochs=30, batch_size=8, lr=3e-3, max_shift=0
    )
    train_frame_text(model, data, config)
    held_out = _two_object_pairs(24, seed=1)
    with torch.no_grad():
        _, regions = model.embed_frames(
            torch.from_numpy(held_out.frames), torch.from_numpy(held_out.boxes)
        )
        colours = model.embed_texts([f"a {name} box" for name in COLOURS])
    named = (regions @ colours.T).argmax(1).numpy()
    assert (named == held_out.target).mean() > 0.8  # chance 1/3


def test_box_patch_weights_share_the_box_area_among_patches() -> None:
    boxes = torch.tensor([[16.0, 0.0, 32.0, 16.0], [8.0, 16.0, 24.0, 32.0]])
    weights = box_patch_weights(boxes, (2, 3), 16).view(2, 2, 3)  # (n, h, w)
    assert weights[0, 0, 1] == 1 and weights[0].sum() == 1
    assert torch.equal(weights[1, 1], torch.tensor([0.5, 0.5, 0.0]))


def test_shift_frames_moves_each_box_with_its_frame() -> None:
    frames = np.zeros((20, 32, 48, 3), np.uint8)
    frames[:, 10:14, 20:24] = 255
    boxes = np.tile(np.array([[20.0, 10.0, 24.0, 14.0]], np.float32), (20, 1))
    shifted, moved = shift_frames(frames, boxes, 4, np.random.default_rng(0))
    assert np.abs(moved - boxes).max() <= 4 and len(np.unique(moved[:, 0])) > 1
    for frame, (x1, y1, x2, y2) in zip(shifted, moved.astype(int), strict=True):
        assert frame[y1:y2, x1:x2].min() == 255 and frame.sum() == 255 * 3 * 16
    same, kept = shift_frames(frames, boxes, 0, np.random.default_rng(0))
    assert same is frames and kept is boxes


def test_pretrained_directory_loads_through_weights_and_the_frozen_top_checks_it(
    tmp_path, run_cli
) -> None:
    ws = build_stop_workspace(tmp_path / "ws")
    vit_dir = tmp_path / "vit"
    trained = run_cli(
        "pretrain-vit", "--dataset", DATASET, "--arch", "tiny", "--size", "64x96",
        "--epochs", "1", "--region-weight", "0.5", "--max-shift", "2", "--out", vit_dir,
        "--json", workspace_path=ws.root,
    )  # fmt: skip
    assert trained.exit_code == 0, trained.stderr
    summary = json.loads(trained.stdout)
    assert summary["weights"].startswith("sha256:") and summary["pairs"] > 0
    provenance = json.loads((vit_dir / PROVENANCE_FILE).read_text())
    assert provenance["config"]["split"] == "train" and "NOT pretrained CLIP" in provenance["what"]
    assert (provenance["config"]["region_weight"], provenance["config"]["max_shift"]) == (0.5, 2)

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

    cached = row_config(row, ws.features_dir)
    pretrained = StopConfig(vit_weights=str(vit_dir))
    assert build_frozen_top(pretrained, cached) is not None
    with pytest.raises(BadInputError, match="not cut from this network"):
        build_frozen_top(dataclasses.replace(pretrained, vit_weights=None, vit_tiny=True), cached)


def test_bad_inputs_are_one_line_errors(run_cli) -> None:
    unknown = run_cli("pretrain-vit", "--dataset", DATASET, "--arch", "huge")
    assert unknown.exit_code == 2 and "unknown" in unknown.stderr
    empty = run_cli("pretrain-vit", "--dataset", DATASET, "--arch", "tiny", "--train-split", "none")
    assert empty.exit_code == 2 and "no queries" in empty.stderr
    negative = run_cli("pretrain-vit", "--dataset", DATASET, "--region-weight", "-1")
    assert negative.exit_code == 2
