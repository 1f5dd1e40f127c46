"""Loading local checkpoints into the frame trunks, and the one-line errors for wrong files."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.models.resnet import BasicBlock, ResNet

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors import ExtractorConfig, RandomInitWarning, build_extractor
from tests.helpers import build_random

SIZE = (64, 64)
TINY = ExtractorConfig(input_size=SIZE, tiny=True, random_init=True, clip_frames=8)


def frames(num_frames: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (num_frames, *SIZE, 3), dtype=np.uint8)


def build_without_random_init(model: str, config: ExtractorConfig):
    """Build, failing the test if the random-init warning fires."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RandomInitWarning)
        return build_extractor(model, config)


@pytest.fixture(scope="module")
def torchvision_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ResNet]:
    """A torchvision-format state dict (fc included) of the tiny ResNet, and its network."""
    torch.manual_seed(7)
    network = ResNet(BasicBlock, [1, 1, 1, 1]).eval()
    path = tmp_path_factory.mktemp("weights") / "resnet_tiny.pth"
    torch.save(network.state_dict(), path)
    return path, network


@pytest.fixture(scope="module")
def slowfast_checkpoint(tmp_path_factory: pytest.TempPathFactory):
    """A pytorchvideo-style checkpoint: nested under model_state, DataParallel prefixes and a
    classifier head, holding the trunk of a seed-3 tiny SlowFast; and that extractor."""
    source = build_random("slowfast", replace(TINY, seed=3))
    state = {f"module.{k}": v for k, v in source.network.state_dict().items()}
    state["module.blocks.6.proj.weight"] = torch.zeros(80, 576)
    path = tmp_path_factory.mktemp("weights") / "slowfast_tiny.pyth"
    torch.save({"model_state": state, "epoch": 3}, path)
    return path, source


def test_torchvision_resnet_checkpoint_loads_into_the_trunk(torchvision_checkpoint) -> None:
    path, network = torchvision_checkpoint
    extractor = build_without_random_init("resnet101", replace(TINY, weights=path))
    rgb = frames(3)
    # ImageNet normalization, no crop, channels first: what torchvision's weights expect
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    images = ((torch.from_numpy(rgb).float() / 255 - mean) / std).permute(0, 3, 1, 2)
    trunk_only = torch.nn.Sequential(*list(network.children())[:-2])
    with torch.no_grad():
        expected = trunk_only(images).permute(0, 2, 3, 1)
    torch.testing.assert_close(extractor.forward(extractor.preprocess(rgb)), expected)
    assert "sha256:" in extractor.fingerprint_text
    assert "random-init" not in extractor.fingerprint_text


def test_pytorchvideo_checkpoint_reproduces_its_features(slowfast_checkpoint) -> None:
    path, source = slowfast_checkpoint
    loaded = build_without_random_init("slowfast", replace(TINY, weights=path, seed=0))
    batch = loaded.preprocess(frames(8))
    torch.testing.assert_close(loaded.forward(batch), source.forward(batch))
    assert loaded.fingerprint != source.fingerprint


def test_weights_hash_enters_the_fingerprint(torchvision_checkpoint, tmp_path: Path) -> None:
    path, network = torchvision_checkpoint
    state = network.state_dict()
    state["conv1.weight"] = state["conv1.weight"] * 2
    other = tmp_path / "other.pth"
    torch.save(state, other)
    first = build_without_random_init("resnet101", replace(TINY, weights=path))
    second = build_without_random_init("resnet101", replace(TINY, weights=other))
    assert first.fingerprint != second.fingerprint


def _one_line_error(model: str, weights: Path) -> str:
    with pytest.raises(BadInputError) as caught:
        build_extractor(model, replace(TINY, weights=weights))
    message = str(caught.value)
    assert "\n" not in message and str(weights) in message
    return message


def test_checkpoint_of_another_architecture_is_one_line_error(slowfast_checkpoint) -> None:
    path, _ = slowfast_checkpoint
    message = _one_line_error("resnet101", path)
    assert "conv1.weight: missing key (not a resnet-tiny" in message


def test_shape_mismatch_names_key_and_shapes(torchvision_checkpoint, tmp_path: Path) -> None:
    _, network = torchvision_checkpoint
    state = network.state_dict()
    state["layer2.0.conv1.weight"] = torch.zeros(128, 64, 1, 1)
    path = tmp_path / "wrong_shape.pth"
    torch.save(state, path)
    message = _one_line_error("resnet101", path)
    assert "layer2.0.conv1.weight: shape (128, 64, 1, 1) does not match" in message
    assert "(128, 64, 3, 3)" in message


def test_unexpected_trunk_key_is_refused(torchvision_checkpoint, tmp_path: Path) -> None:
    _, network = torchvision_checkpoint
    state = {**network.state_dict(), "layer5.0.conv1.weight": torch.zeros(1)}
    path = tmp_path / "extra.pth"
    torch.save(state, path)
    assert "layer5.0.conv1.weight: unexpected key" in _one_line_error("resnet101", path)


def test_files_that_are_not_checkpoints_are_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "notes.pth"
    garbage.write_text("not a checkpoint\n")
    assert "not a PyTorch checkpoint" in _one_line_error("slowfast", garbage)
    passwd_like = tmp_path / "passwd.pth"
    passwd_like.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/sh\n")
    assert "not a PyTorch checkpoint" in _one_line_error("resnet101", passwd_like)
    assert "weights file not found" in _one_line_error("resnet101", tmp_path / "absent.pth")
