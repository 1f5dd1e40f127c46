"""The two encoders behind one interface: shapes, L2 normalization, fingerprints, loading a
tiny CLIP saved to disk (no download), and the refusals (no weights, wrong path, changed)."""

from __future__ import annotations

import json
import string

import numpy as np
import pytest
from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

from stvg.stvgdata.encoders.crops import crop_regions, whole_frame
from stvg.stvgdata.encoders.registry import build_encoder, load_encoder
from stvg.stvgdata.encoders.vl_synth import SubstituteEncoder, words
from stvg.stvgdata.errors import BadInputError
from tests.stvgdata.regions_fixtures import tiny_substitute


def tiny_clip(directory):
    """A randomly initialised 1-layer CLIP and a character-level CLIP tokenizer, saved the way
    ``save_pretrained`` saves a real one."""
    chars = [*string.ascii_lowercase, ".", "?"]
    vocab = {token: i for i, token in enumerate([*chars, *(c + "</w>" for c in chars)])}
    vocab |= {"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1}
    directory.mkdir(parents=True)
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"))
    layers = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2)
    specials = dict(
        eos_token_id=vocab["<|endoftext|>"],
        bos_token_id=vocab["<|startoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
    )
    config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), max_position_embeddings=32, **layers, **specials),
        vision_config=dict(image_size=32, patch_size=16, **layers),
        projection_dim=8,
    )
    saved = directory / "clip"
    CLIPModel(config).save_pretrained(saved)
    tokenizer.save_pretrained(saved)
    return saved


@pytest.fixture(params=["stvg-vl-synth", "clip"])
def encoder(request, tmp_path):
    if request.param == "clip":
        return build_encoder("clip", tiny_clip(tmp_path / "hf"))
    return build_encoder("stvg-vl-synth", tiny_substitute(tmp_path / "synth"))


def unit_rows(array):
    return np.allclose(np.linalg.norm(array, axis=-1), 1.0, atol=1e-5)


def test_encoder_shapes_and_normalization(encoder):
    size = encoder.image_size
    images = np.random.default_rng(0).integers(0, 256, (3, size, size, 3), dtype=np.uint8)
    embedded = encoder.encode_images(images)
    assert embedded.shape == (3, 8) and embedded.dtype == np.float32 and unit_rows(embedded)
    texts = encoder.encode(["the red square moves.", "what is it?"])
    assert texts.shape == (2, 8) and texts.dtype == np.float32 and unit_rows(texts)
    tokens = encoder.encode_tokens(["the red square moves.", "a"])
    assert [t.shape[1] for t in tokens] == [8, 8] and tokens[0].shape[0] > tokens[1].shape[0]
    assert all(unit_rows(t) for t in tokens)
    assert encoder.encode([]).shape == (0, 8)


def test_reloading_by_fingerprint_gives_the_same_encoder(encoder):
    again = load_encoder(encoder.fingerprint, encoder.weights)
    assert again.fingerprint == encoder.fingerprint
    np.testing.assert_allclose(again.encode(["red"]), encoder.encode(["red"]), atol=1e-6)


def test_changed_weights_are_refused(tmp_path):
    saved = tiny_substitute(tmp_path / "synth")
    fingerprint = SubstituteEncoder(saved).fingerprint
    tiny_substitute(saved, seed=1)  # retrained in place
    with pytest.raises(BadInputError, match="weights changed since the regions were cached"):
        load_encoder(fingerprint, str(saved))


def test_substitute_sentence_is_the_mean_of_its_tokens(tmp_path):
    encoder = SubstituteEncoder(tiny_substitute(tmp_path / "synth"))
    model = encoder.model
    ids, mask = model.vocabulary.encode(["the red square moves."], model.config.max_words)
    tokens = model.text(ids, mask)[0].detach().numpy()  # (L, D) before normalization
    mean = tokens.mean(0) / np.linalg.norm(tokens.mean(0))
    np.testing.assert_allclose(encoder.encode(["the red square moves."])[0], mean, atol=1e-5)
    assert words("The red square.") == ["the", "red", "square", "."]


def test_clip_directory_without_config_is_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="not a Hugging Face CLIP directory"):
        build_encoder("clip", tmp_path)


def test_clip_default_comes_from_the_hugging_face_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    with pytest.raises(BadInputError, match="openai/clip-vit-base-patch32 are not in this cache"):
        build_encoder("clip", None)
    revision = "c0ffee" * 6 + "c0ff"
    repo = tmp_path / "hf" / "hub" / "models--openai--clip-vit-base-patch32"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    (repo / "snapshots").mkdir()
    tiny_clip(tmp_path / "saved").rename(repo / "snapshots" / revision)
    encoder = build_encoder("clip", None)
    assert encoder.weights == str(repo / "snapshots" / revision)
    assert load_encoder(encoder.fingerprint, encoder.weights).fingerprint == encoder.fingerprint


def test_substitute_directory_without_model_is_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="train one with `stvg train-vl-encoder"):
        build_encoder("stvg-vl-synth", tmp_path)


def test_crops_cut_the_box_with_context_and_frames_resize():
    frame = np.zeros((40, 80, 3), np.uint8)
    frame[10:30, 20:60] = (200, 10, 10)
    crops = crop_regions(frame, np.array([[20.0, 10.0, 60.0, 30.0]]), 24)
    assert crops.shape == (1, 24, 24, 3)
    assert (crops[0, 12, 12] == (200, 10, 10)).all()  # centre: the object
    assert (crops[0, 0, 0] == 0).all()  # corner: the 10% context around it
    assert whole_frame(frame, 16).shape == (1, 16, 16, 3)
    assert crop_regions(frame, np.zeros((0, 4)), 24).shape == (0, 24, 24, 3)
