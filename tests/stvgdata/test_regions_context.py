"""The motion-aware substitute (``context_frames`` > 1): window assembly at the video's edges,
streaming windows, stacked crops, the fingerprint naming the setting, training and extraction
with context, and a toy where only the multi-frame tower can tell two motions apart."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from stvg.stvgdata.encoders.config import SubstituteConfig, TrainVLConfig
from stvg.stvgdata.encoders.crops import (
    crop_regions,
    sliding_windows,
    stack_crops,
    stack_whole_frames,
    window_positions,
)
from stvg.stvgdata.encoders.vl_synth import (
    DualEncoder,
    SubstituteEncoder,
    Vocabulary,
    save_dual_encoder,
)
from stvg.stvgdata.encoders.vl_synth_train import (
    ContrastiveSet,
    collect_pairs,
    context_frame_idx,
    train_dual_encoder,
)
from stvg.stvgdata.regions import read_video_regions
from stvg.stvgdata.regions.config import RegionExtractConfig
from stvg.stvgdata.regions.extract import run_region_extraction
from stvg.stvgdata.sample_catalog import DATASET
from tests.stvgdata.regions_fixtures import TINY, regions_workspace

TINY3 = dataclasses.replace(TINY, context_frames=3)


def test_window_positions_repeat_the_edge_frames():
    assert window_positions(0, 5, 3).tolist() == [0, 0, 1]
    assert window_positions(2, 5, 3).tolist() == [1, 2, 3]
    assert window_positions(4, 5, 3).tolist() == [3, 4, 4]
    assert window_positions(0, 1, 3).tolist() == [0, 0, 0]
    assert window_positions(3, 5, 1).tolist() == [3]
    assert window_positions(0, 5, 2).tolist() == [0, 1]  # even c: one more frame after


@pytest.mark.parametrize("context_frames", [1, 2, 3, 5])
@pytest.mark.parametrize("count", [1, 2, 6])
def test_sliding_windows_match_the_clamped_positions(context_frames, count):
    frames = [(10 * i, np.full((2, 2, 3), i, np.uint8)) for i in range(count)]
    windows = list(sliding_windows(iter(frames), context_frames))
    assert [idx for idx, _ in windows] == [idx for idx, _ in frames]
    for position, (_, window) in enumerate(windows):
        expected = window_positions(position, count, context_frames).tolist()
        assert [int(rgb[0, 0, 0]) for rgb in window] == expected


def test_stacked_crops_are_the_same_box_on_each_frame_in_time_order():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (40, 60, 3), dtype=np.uint8) for _ in range(3)]
    boxes = np.array([[5.0, 5.0, 25.0, 30.0], [30.0, 10.0, 55.0, 35.0]])
    stacked = stack_crops(frames, boxes, 16)
    assert stacked.shape == (2, 16, 16, 9) and stacked.dtype == np.uint8
    for t, frame in enumerate(frames):
        assert np.array_equal(stacked[..., 3 * t : 3 * t + 3], crop_regions(frame, boxes, 16))
    assert stack_whole_frames(frames, 16).shape == (1, 16, 16, 9)
    assert stack_crops(frames, np.zeros((0, 4)), 16).shape == (0, 16, 16, 9)


def test_training_windows_step_at_the_extraction_rate_and_clamp_to_the_video():
    config = TrainVLConfig(dataset="d", sample_fps=5.0, model=TINY3)
    assert context_frame_idx(10, 100, 25.0, config).tolist() == [5, 10, 15]
    assert context_frame_idx(0, 100, 5.0, config).tolist() == [0, 0, 1]
    assert context_frame_idx(99, 100, 5.0, config).tolist() == [98, 99, 99]


def test_context_frames_must_be_positive():
    with pytest.raises(ValueError, match="context_frames"):
        SubstituteConfig(context_frames=0)


def save_tiny(directory, config: SubstituteConfig) -> SubstituteEncoder:
    torch.manual_seed(0)
    model = DualEncoder(config, Vocabulary.build(["the red square"]))
    save_dual_encoder(model, directory, {"split": "train"})
    return SubstituteEncoder(directory)


def test_fingerprint_names_the_context_setting(tmp_path):
    one = save_tiny(tmp_path / "one", TINY)
    three = save_tiny(tmp_path / "three", TINY3)
    assert one.fingerprint.startswith("stvg-vl-synth:") and "context" not in one.fingerprint
    assert three.fingerprint.startswith("stvg-vl-synth:context3-")
    assert three.context_frames == 3 and one.context_frames == 1
    images = np.zeros((2, 16, 16, 9), np.uint8)
    assert three.encode_images(images).shape == (2, TINY.dim)


def test_pairs_and_extraction_with_context_frames(tmp_path):
    ws = regions_workspace(tmp_path)
    config = TrainVLConfig(dataset=DATASET, frames_per_query=3, negatives=2, model=TINY3)
    data = collect_pairs(ws, config)
    assert data.crops.shape[1:] == (16, 16, 9)
    encoder = save_tiny(tmp_path / "enc", TINY3)
    extract = RegionExtractConfig(dataset=DATASET, weights=tmp_path / "enc", batch_size=5)
    summary = run_region_extraction(ws, extract)
    assert summary.videos_failed == 0 and summary.encoder == encoder.fingerprint
    regions = read_video_regions(ws, DATASET, "v1", "tubelets")
    assert regions.embeddings.shape[1] == TINY.dim
    assert np.allclose(np.linalg.norm(regions.frame_embeddings, axis=1), 1, atol=1e-5)


MOTIONS = {"the square moves left": -3, "the square moves right": 3}


def motion_set(samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three-frame stacks (n, 16, 16, 9) of a 4 px square stepping 3 px left or right, and the
    motion (n,) 0 = left, 1 = right; the middle frame's position is drawn alike for both."""
    rng = np.random.default_rng(seed)
    crops = np.zeros((samples, 16, 16, 9), np.uint8)
    motion = rng.integers(0, 2, samples)
    for i in range(samples):
        x, y = rng.integers(4, 9), rng.integers(2, 11)
        step = list(MOTIONS.values())[motion[i]]
        for t in range(3):
            left = x + (t - 1) * step
            crops[i, y : y + 4, left : left + 4, 3 * t : 3 * t + 3] = 255
    return crops, motion


def motion_accuracy(context_frames: int) -> float:
    """Train the tiny dual encoder on motion sentences; the share of held-out stacks whose more
    similar sentence names their motion (a one-frame tower gets only the middle frame)."""
    torch.manual_seed(0)
    keep = slice(0, 9) if context_frames == 3 else slice(3, 6)
    crops, motion = motion_set(96, seed=0)
    sentences = list(MOTIONS)
    data = ContrastiveSet(
        crops=crops[..., keep],
        sentences=[sentences[m] for m in motion],
        positive=np.arange(len(crops)),
        negatives=np.full((len(crops), 1), -1),
        target=motion,  # same motion = same "object": never pushed apart
        video=np.arange(len(crops)),
    )
    config = dataclasses.replace(TINY, context_frames=context_frames)
    model = DualEncoder(config, Vocabulary.build(sentences))
    train_dual_encoder(
        model, data, TrainVLConfig(dataset="toy", epochs=12, batch_size=16, lr=1e-2, model=config)
    )
    test, truth = motion_set(64, seed=1)
    with torch.no_grad():
        images = model.embed_images(torch.from_numpy(test[..., keep]).permute(0, 3, 1, 2) / 255)
        texts = model.embed_texts(sentences)
    return float(((images @ texts.T).argmax(1).numpy() == truth).mean())


def test_only_the_multi_frame_tower_tells_the_motions_apart():
    assert motion_accuracy(3) >= 0.9
    assert motion_accuracy(1) <= 0.7
