"""Frame extractors (resnet101, slowfast): shapes, timeline alignment, determinism,
fingerprints and the random-init calibration, on tiny configs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors import (
    ExtractorConfig,
    FrameExtractor,
    RandomInitWarning,
    build_extractor,
)
from tests.helpers import build_random

SIZE = (64, 96)  # (H, W) -> a 2 x 3 feature grid
TINY = ExtractorConfig(input_size=SIZE, tiny=True, random_init=True, clip_frames=8, alpha=4)


def build_quietly(model: str, config: ExtractorConfig) -> FrameExtractor:
    return build_random(model, config)


def moving_box_frames(num_frames: int, seed: int = 0) -> np.ndarray:
    """uint8 (T, H, W, 3): a coloured box sliding over a textured background, like the
    synthetic benchmark's videos."""
    rng = np.random.default_rng(seed)
    frames = np.empty((num_frames, *SIZE, 3), np.uint8)
    background = rng.integers(60, 120, (*SIZE, 3), dtype=np.uint8)
    for t in range(num_frames):
        frames[t] = background
        frames[t, 20:44, 4 + 2 * t : 28 + 2 * t] = (220, 40, 40)
    return frames


@pytest.fixture(scope="module")
def resnet101() -> FrameExtractor:
    return build_quietly("resnet101", TINY)


@pytest.fixture(scope="module")
def slowfast() -> FrameExtractor:
    return build_quietly("slowfast", TINY)


@pytest.mark.parametrize(
    ("model", "channels", "chunk"), [("resnet101", 512, 1), ("slowfast", 576, 8)]
)
def test_output_is_one_map_per_frame(model: str, channels: int, chunk: int, request) -> None:
    extractor = request.getfixturevalue(model)
    frames = moving_box_frames(2 * chunk)
    assert extractor.preprocess(frames).dtype == torch.uint8  # normalized on the device
    features = extractor.forward(extractor.preprocess(frames))
    assert extractor.output_grid() == (2, 3)
    assert (extractor.channels, extractor.chunk_frames, extractor.min_frames) == (
        channels,
        chunk,
        chunk,
    )
    assert features.shape == (2 * chunk, 2, 3, channels) and features.dtype == torch.float32


def test_output_grid_matches_the_network_for_sizes_not_divisible_by_32(resnet101) -> None:
    odd = build_quietly("resnet101", replace(TINY, input_size=(50, 70)))
    frames = np.zeros((1, 50, 70, 3), np.uint8)
    assert odd.forward(odd.preprocess(frames)).shape[1:3] == odd.output_grid() == (2, 3)


def test_slowfast_rows_align_with_the_frame_timeline(slowfast) -> None:
    frames = moving_box_frames(16)
    features = slowfast.forward(slowfast.preprocess(frames)).numpy()
    slow_channels = 512
    slow, fast = features[..., :slow_channels], features[..., slow_channels:]
    # rows of one alpha group share the slow map; every row has its own fast map
    for group_start in range(0, 16, 4):
        for row in range(group_start + 1, group_start + 4):
            np.testing.assert_array_equal(slow[row], slow[group_start])
            assert not np.allclose(fast[row], fast[group_start])
    assert not np.allclose(slow[0], slow[4])
    # clips do not see each other: changing the second clip leaves the first one's rows alone
    changed = frames.copy()
    changed[8:] = 255 - changed[8:]
    other = slowfast.forward(slowfast.preprocess(changed)).numpy()
    np.testing.assert_allclose(other[:8], features[:8], rtol=1e-4, atol=1e-4)
    assert not np.allclose(other[8:], features[8:])


def test_pad_chunk_repeats_the_last_frame(slowfast, resnet101) -> None:
    frames = moving_box_frames(11)
    padded = slowfast.pad_chunk(frames)
    assert len(padded) == 16
    np.testing.assert_array_equal(padded[11:], np.repeat(frames[-1:], 5, axis=0))
    assert len(slowfast.pad_chunk(frames[:8])) == 8
    assert len(resnet101.pad_chunk(frames)) == 11


def test_forward_rejects_partial_chunks(slowfast) -> None:
    with pytest.raises(ValueError, match="multiple"):
        slowfast.forward(slowfast.preprocess(moving_box_frames(5)))


@pytest.mark.parametrize("model", ["resnet101", "slowfast"])
def test_random_init_is_seeded_and_warned_loudly(model: str) -> None:
    frames = moving_box_frames(8)
    with pytest.warns(RandomInitWarning, match="RANDOMLY INITIALISED"):
        first = build_extractor(model, TINY)
    second = build_quietly(model, TINY)
    other_seed = build_quietly(model, replace(TINY, seed=1))
    out = [e.forward(e.preprocess(frames)) for e in (first, second, other_seed)]
    torch.testing.assert_close(out[0], out[1], rtol=0, atol=0)
    assert not torch.allclose(out[0], out[2])
    assert "random-init:0" in first.fingerprint_text
    assert first.fingerprint == second.fingerprint != other_seed.fingerprint


@pytest.mark.parametrize(
    "change",
    [
        {"fps": 2.5},
        {"input_size": (96, 128)},
        {"seed": 3},
        {"dtype": "float64"},
        {"clip_frames": 16},
        {"alpha": 2},
        {"variant": "r101"},
        {"autocast": "bfloat16"},
    ],
)
def test_fingerprint_changes_with_every_component(change: dict, slowfast) -> None:
    changed = build_quietly("slowfast", replace(TINY, **change))
    assert changed.fingerprint != slowfast.fingerprint
    assert changed.fingerprint_text != slowfast.fingerprint_text


def test_fingerprint_names_model_preprocessing_and_fps(resnet101, slowfast) -> None:
    assert resnet101.fingerprint != slowfast.fingerprint
    for text in (resnet101.fingerprint_text, slowfast.fingerprint_text):
        assert "resize 64x96" in text and "fps=5.0" in text and "mean=" in text
    assert len(resnet101.fingerprint) == 16


def _float16_safe(features: torch.Tensor) -> None:
    assert torch.isfinite(features).all()
    assert features.abs().max() < 200  # float16 overflows at 65504
    assert features.std() > 0.05  # and the map has not collapsed


@pytest.mark.parametrize("model", ["resnet101", "slowfast"])
def test_tiny_random_init_features_are_float16_safe(model: str, request) -> None:
    extractor = request.getfixturevalue(model)
    for frames in (moving_box_frames(8), np.zeros((8, *SIZE, 3), np.uint8)):
        _float16_safe(extractor.forward(extractor.preprocess(frames)))


@pytest.mark.slow
@pytest.mark.parametrize("model", ["resnet101", "slowfast"])
def test_full_size_random_init_features_are_float16_safe(model: str) -> None:
    config = ExtractorConfig(input_size=SIZE, clip_frames=8, random_init=True)
    extractor = build_quietly(model, config)
    for frames in (moving_box_frames(8), np.full((8, *SIZE, 3), 255, np.uint8)):
        features = extractor.forward(extractor.preprocess(frames))
        assert features.shape[-1] == (2048 if model == "resnet101" else 2304)
        _float16_safe(features)


def test_unknown_model_or_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown feature model"):
        build_extractor("vgg", TINY)
    with pytest.raises(ValueError, match="variant"):
        build_quietly("slowfast", replace(TINY, variant="r18"))


def test_autocast_runs_the_forward_in_mixed_precision_close_to_float32(resnet101) -> None:
    mixed = build_quietly("resnet101", replace(TINY, autocast="bfloat16"))
    frames = moving_box_frames(2)
    exact = resnet101.forward(resnet101.preprocess(frames))
    approx = mixed.forward(mixed.preprocess(frames))
    assert approx.dtype == torch.float32 and approx.shape == exact.shape
    assert not torch.equal(approx, exact)  # bfloat16 matmuls, not float32
    assert float((approx - exact).norm() / exact.norm()) < 0.05


def test_unknown_autocast_dtype_is_refused() -> None:
    with pytest.raises(BadInputError, match="autocast"):
        replace(TINY, autocast="int8")


def test_cuda_layouts_are_chosen_for_the_device_only(resnet101, slowfast) -> None:
    from stvg.stvgdata.extractors.base import memory_format

    assert memory_format(torch.device("cuda", 0), channels_last=True) == torch.channels_last
    assert memory_format(torch.device("cuda", 0), channels_last=False) == torch.contiguous_format
    assert memory_format(torch.device("cpu"), channels_last=True) == torch.contiguous_format
    assert resnet101.channels_last and not slowfast.channels_last  # ResNet's convs gain on CUDA
    batch = resnet101.preprocess(moving_box_frames(1))
    assert not batch.is_pinned()  # pinned host memory on CUDA only


def test_auto_device_is_the_local_rank_gpu_under_torchrun(monkeypatch) -> None:
    from stvg.stvgdata.extractors.config import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto", {"LOCAL_RANK": "3"}) == "cuda:3"
    assert resolve_device("auto", {}) == "cuda"
    assert resolve_device("cpu", {"LOCAL_RANK": "3"}) == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto", {"LOCAL_RANK": "3"}) == "cpu"
