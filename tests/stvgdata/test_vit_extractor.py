"""The vit patch-token extractor: (T, 1 + P, C) rows cut at layer k, the same tokens as a
direct forward of the bottom layers, weights from a local HF directory, one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import CLIPConfig, CLIPModel

from stvg.stvgdata.cache import ShardReader, manifest_rows
from stvg.stvgdata.encoders.vit import bottom_tokens, build_vit_network, vit_layer
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors import ExtractorConfig, build_extractor
from stvg.stvgdata.video import iter_frames
from tests.heads.stop.stop_workspace import DATASET, FRAME_SIZE, build_stop_workspace

pytestmark = pytest.mark.usefixtures("quiet_random_init")


def test_cached_rows_are_the_bottom_layers_tokens_of_each_frame(tmp_path) -> None:
    ws = build_stop_workspace(tmp_path)
    row = manifest_rows(ws, DATASET, "vit").to_pylist()[0]
    assert row["shape"] == [1 + (64 // 16) * (96 // 16), 32]
    reader = ShardReader(ws.features_dir)
    cached = reader.read(row)
    assert "frozen_top=" in reader.description(row)
    reader.close()
    frames = np.stack(
        [
            rgb
            for _, rgb in iter_frames(
                _video_path(ws, row["video_id"]), row["frame_idx"], FRAME_SIZE
            )
        ]
    )
    extractor = build_extractor(
        "vit", ExtractorConfig(tiny=True, random_init=True, input_size=FRAME_SIZE, fps=10.0)
    )
    direct = extractor.forward(extractor.preprocess(frames)).numpy()
    np.testing.assert_allclose(cached, direct, atol=2e-2)  # cached as float16


def _video_path(ws, video_id: str):
    from stvg.stvgdata.catalog import connect

    con = connect(ws)
    (path,) = con.execute("SELECT path FROM videos WHERE video_id = ?", [video_id]).fetchone()
    con.close()
    return path


def test_weights_load_from_a_hugging_face_directory(tmp_path) -> None:
    network, tag, _ = build_vit_network(None, "tiny", seed=3)
    network.save_pretrained(tmp_path / "clip-vit")
    loaded, loaded_tag, _ = build_vit_network(tmp_path / "clip-vit", "ignored", seed=0)
    assert loaded_tag.startswith("sha256:") and tag == "random-init:3"
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(bottom_tokens(network, images, 1), bottom_tokens(loaded, images, 1))


def test_a_full_clip_directory_gives_its_vision_tower(tmp_path) -> None:
    """Real CLIP checkpoints (openai/clip-vit-base-patch32 and kin) are whole CLIPModel
    directories, text tower included: --weights vit=DIR must take the image tower's weights."""
    config = CLIPConfig(
        text_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "vocab_size": 64,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 64,
            "patch_size": 16,
        },
        projection_dim=16,
    )
    torch.manual_seed(5)
    clip = CLIPModel(config)
    clip.save_pretrained(tmp_path / "clip")
    loaded, tag, description = build_vit_network(tmp_path / "clip", "ignored", seed=0)
    assert tag.startswith("sha256:") and "hidden=32 layers=2" in description
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = clip.vision_model(pixel_values=images).last_hidden_state
        cut = bottom_tokens(loaded, images, 2)
    assert torch.allclose(cut, expected, atol=1e-5)


def test_bad_inputs_are_one_line_errors(tmp_path) -> None:
    with pytest.raises(BadInputError, match="Hugging Face directory"):
        build_vit_network(tmp_path / "missing.pt", "tiny", seed=0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="cannot load"):
        build_vit_network(tmp_path / "empty", "tiny", seed=0)
    with pytest.raises(BadInputError, match="unknown"):
        build_vit_network(None, "huge", seed=0)
    with pytest.raises(BadInputError, match="must be in 1..1"):
        vit_layer(2, depth=2)
    with pytest.raises(BadInputError, match="patch size 16"):
        build_extractor("vit", ExtractorConfig(tiny=True, random_init=True, input_size=(60, 64)))


def test_the_cut_defaults_to_half_the_depth() -> None:
    assert vit_layer(None, 12) == 6 and vit_layer(3, 4) == 3
