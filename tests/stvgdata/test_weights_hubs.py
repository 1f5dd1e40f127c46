"""Default pretrained weights through the hubs' caches, offline: caches built here with the real
file names and key layouts (tiny shapes), the one-line refusal on an empty cache, MDETR's
backbone keys, and the readable weights label beside the fingerprint."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import CLIPVisionConfig, CLIPVisionModel

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors import (
    ExtractorConfig,
    RandomInitWarning,
    build_extractor,
    config_record,
)
from stvg.stvgdata.extractors.resnet import PUBLISHED as RESNET_URLS
from stvg.stvgdata.extractors.slowfast import PUBLISHED as SLOWFAST_URLS
from stvg.stvgdata.weights.fingerprint import hash_weights
from tests.helpers import build_random
from tests.stvgdata.test_extractors_roberta import hf_directory  # noqa: F401 (fixture)

SIZE = (64, 64)
TINY = ExtractorConfig(input_size=SIZE, tiny=True, clip_frames=8, random_init=True)
REVISION = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(autouse=True)
def empty_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty TORCH_HOME and HF_HOME under tmp_path, downloads off."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def random_trunk(model: str, seed: int):
    return build_random(model, replace(TINY, seed=seed)).network


def torch_hub_file(tmp_path: Path, url: str) -> Path:
    """Where torch.hub keeps the download of ``url`` under this test's TORCH_HOME."""
    path = tmp_path / "torch" / "hub" / "checkpoints" / Path(url).name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def hf_snapshot_dir(tmp_path: Path, name: str) -> Path:
    """A Hugging Face cache entry of hub model ``name`` at REVISION (refs/main points at it)."""
    repo = tmp_path / "hf" / "hub" / f"models--{name.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(REVISION)
    return repo / "snapshots" / REVISION


def one_line_error(model: str, config: ExtractorConfig) -> str:
    with pytest.raises(BadInputError) as caught:
        build_extractor(model, config)
    message = str(caught.value)
    assert "\n" not in message
    return message


def frames(count: int) -> torch.Tensor:
    rng = np.random.default_rng(0)
    return torch.from_numpy(rng.integers(0, 256, (count, *SIZE, 3), dtype=np.uint8))


def test_resnet_published_name_loads_from_the_torch_hub_cache(tmp_path: Path) -> None:
    trunk = random_trunk("resnet101", seed=5)
    path = torch_hub_file(tmp_path, RESNET_URLS["IMAGENET1K_V1"])
    torch.save({**trunk.state_dict(), "fc.weight": torch.zeros(1000, 512)}, path)
    extractor = build_extractor("resnet101", replace(TINY, weights="IMAGENET1K_V1"))
    for name, tensor in trunk.state_dict().items():
        assert torch.equal(extractor.network.state_dict()[name], tensor)
    assert extractor.weights == "IMAGENET1K_V1"
    assert f"weights=IMAGENET1K_V1 {hash_weights(path)}" in extractor.fingerprint_text


def test_slowfast_published_name_loads_a_pytorchvideo_checkpoint(tmp_path: Path) -> None:
    trunk = random_trunk("slowfast", seed=6)
    path = torch_hub_file(tmp_path, SLOWFAST_URLS["slowfast_r50"])
    assert path.name == "SLOWFAST_8x8_R50.pyth"
    torch.save({"model_state": trunk.state_dict(), "epoch": 196}, path)
    extractor = build_extractor("slowfast", replace(TINY, weights="slowfast_r50"))
    assert extractor.weights == "slowfast_r50"
    assert hash_weights(path) in extractor.fingerprint_text
    batch = frames(8)
    expected = random_trunk("slowfast", seed=6)
    assert torch.equal(
        extractor.network.state_dict()["blocks.0.multipathway_blocks.0.conv.weight"],
        expected.state_dict()["blocks.0.multipathway_blocks.0.conv.weight"],
    )
    assert np.isfinite(extractor.forward(batch).numpy()).all()


def test_slowfast_r101_name_builds_the_r101_trunk_its_checkpoint_fits(tmp_path: Path) -> None:
    trunk = build_random("slowfast", replace(TINY, variant="r101", seed=7)).network
    path = torch_hub_file(tmp_path, SLOWFAST_URLS["slowfast_r101"])
    torch.save({"model_state": trunk.state_dict()}, path)
    config = replace(TINY, weights="slowfast_r101")  # the name alone, no variant option
    extractor = build_extractor("slowfast", config)
    assert extractor.weights == "slowfast_r101"
    assert "arch=slowfast-r101" in extractor.fingerprint_text
    assert config_record(config, extractor)["variant"] == "r101"


@pytest.mark.parametrize(
    ("model", "name", "cache"),
    [
        ("resnet101", "IMAGENET1K_V2", "torch/hub/checkpoints"),
        ("slowfast", "slowfast_r50", "torch/hub/checkpoints"),
        ("roberta", "roberta-base", "hf/hub"),
        ("vit", "openai/clip-vit-base-patch32", "hf/hub"),
    ],
)
def test_default_weights_missing_offline_is_one_line_naming_the_ways_out(
    tmp_path: Path, model: str, name: str, cache: str
) -> None:
    message = one_line_error(model, ExtractorConfig(input_size=SIZE, clip_frames=8))
    assert message.startswith(f"{tmp_path / cache}: {model}: weights {name} ")
    assert f"`weights` {model}=PATH" in message and "`random_init`" in message


def test_tiny_networks_without_weights_need_random_init() -> None:
    with pytest.raises(BadInputError, match="tiny networks have no published weights"):
        replace(TINY, random_init=False)


def test_mistyped_published_name_is_refused() -> None:
    message = one_line_error("resnet101", replace(TINY, weights="IMAGENET1K_V3"))
    assert "IMAGENET1K_V2" in message and "not found" in message


def test_roberta_default_is_roberta_base_from_the_hf_cache(
    tmp_path: Path,
    hf_directory: Path,  # noqa: F811
) -> None:
    snapshot = hf_snapshot_dir(tmp_path, "roberta-base")
    snapshot.mkdir(parents=True)
    for file in hf_directory.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())
    extractor = build_extractor("roberta", ExtractorConfig())
    assert extractor.weights == f"roberta-base@{REVISION[:12]}"
    assert hash_weights(snapshot) in extractor.fingerprint_text
    direct = build_extractor("roberta", ExtractorConfig(weights=hf_directory))
    assert direct.weights.startswith("file:")
    (ids, features), (direct_ids, direct_features) = (
        e.encode(["a man walks"])[0] for e in (extractor, direct)
    )
    np.testing.assert_array_equal(ids, direct_ids)
    np.testing.assert_allclose(features, direct_features)


def test_vit_default_is_openai_clip_from_the_hf_cache(tmp_path: Path) -> None:
    snapshot = hf_snapshot_dir(tmp_path, "openai/clip-vit-base-patch32")
    shape = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2}
    config = CLIPVisionConfig(num_attention_heads=2, patch_size=16, image_size=64, **shape)
    CLIPVisionModel(config).save_pretrained(snapshot)
    extractor = build_extractor("vit", ExtractorConfig(input_size=SIZE))
    assert extractor.weights == f"openai/clip-vit-base-patch32@{REVISION[:12]}"
    assert extractor.forward(frames(2)).shape == (2, 1 + 16, 32)


def test_mdetr_backbone_checkpoint_loads_under_torchvision_names(tmp_path: Path) -> None:
    trunk = random_trunk("resnet101", seed=9)
    state = {f"backbone.0.body.{k}": v for k, v in trunk.state_dict().items()}
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    state["transformer.encoder.layers.0.linear1.weight"] = torch.zeros(4, 4)  # MDETR's rest
    state["backbone.0.body.fc.weight"] = torch.zeros(1, 1)  # a stray head key is skipped
    path = tmp_path / "pretrained_resnet101_checkpoint.pth"
    torch.save({"model": state, "args": {}}, path)
    extractor = build_extractor("resnet101", replace(TINY, weights=path))
    for name, tensor in trunk.state_dict().items():
        if not name.endswith("num_batches_tracked"):  # MDETR's frozen BatchNorm has none
            assert torch.equal(extractor.network.state_dict()[name], tensor), name
    assert extractor.weights == f"file:{hash_weights(path).removeprefix('sha256:')}"


def test_random_init_is_named_in_label_and_fingerprint() -> None:
    with pytest.warns(RandomInitWarning):
        extractor = build_extractor("resnet101", replace(TINY, seed=4))
    assert extractor.weights == "random-init:4"
    assert "weights=random-init:4" in extractor.fingerprint_text


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "url", "label"),
    [
        ("resnet101", RESNET_URLS["IMAGENET1K_V2"], "IMAGENET1K_V2"),
        ("slowfast", SLOWFAST_URLS["slowfast_r50"], "slowfast_r50"),
    ],
)
def test_full_size_default_loads_from_the_torch_hub_cache(
    tmp_path: Path, model: str, url: str, label: str
) -> None:
    full = ExtractorConfig(input_size=SIZE, clip_frames=8, random_init=True)
    trunk = build_random(model, full).network
    state = {  # float16 halves the file; loading casts to the trunk's float32
        name: tensor.half() if tensor.is_floating_point() else tensor
        for name, tensor in trunk.state_dict().items()
    }
    torch.save(state, torch_hub_file(tmp_path, url))
    extractor = build_extractor(model, replace(full, random_init=False))
    assert extractor.weights == label
    loaded = extractor.network.state_dict()
    assert all(
        torch.equal(loaded[name], tensor.to(loaded[name].dtype)) for name, tensor in state.items()
    )


def test_one_resolution_of_hub_names_and_local_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stvg.stvgdata.weights import hubs

    monkeypatch.setenv("HOME", str(tmp_path))
    local = tmp_path / "weights"
    local.mkdir()
    (local / "config.json").write_text("{}")
    directory, source = hubs.hf_weights("vit", "~/weights")  # ~ is expanded for every model
    assert directory == local and source.label.startswith("file:")
    snapshot = hf_snapshot_dir(tmp_path, "org/model")
    snapshot.mkdir(parents=True)
    (snapshot / "model.safetensors").write_bytes(b"0")
    assert hubs.hf_directory("clip", "org/model") == snapshot
    assert hubs.hf_weights("roberta", "org/model")[1].label == f"org/model@{REVISION[:12]}"


def test_vit_weights_in_a_home_relative_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    shape = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2}
    config = CLIPVisionConfig(num_attention_heads=2, patch_size=16, image_size=64, **shape)
    CLIPVisionModel(config).save_pretrained(tmp_path / "clip")
    extractor = build_extractor("vit", ExtractorConfig(input_size=SIZE, weights="~/clip"))
    assert extractor.weights.startswith("file:")


def test_open_clip_names_resolve_to_the_hub_copy_of_the_same_weights(tmp_path: Path) -> None:
    snapshot = hf_snapshot_dir(tmp_path, "openai/clip-vit-base-patch32")
    shape = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2}
    config = CLIPVisionConfig(num_attention_heads=2, patch_size=16, image_size=64, **shape)
    CLIPVisionModel(config).save_pretrained(snapshot)
    extractor = build_extractor("vit", ExtractorConfig(input_size=SIZE, weights="ViT-B-32/openai"))
    default = build_extractor("vit", ExtractorConfig(input_size=SIZE))
    assert extractor.weights == f"openai/clip-vit-base-patch32@{REVISION[:12]}"
    assert extractor.fingerprint == default.fingerprint  # one set of weights, one fingerprint
