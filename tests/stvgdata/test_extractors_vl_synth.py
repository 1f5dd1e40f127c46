"""vl-synth-map, vl-synth-motion-map and vl-synth-text: the trained stvg-vl-synth substitute as
cache features (shapes, windows, agreement with the towers, fingerprints, missing weights,
extract -> loader), on an untrained tiny substitute: plumbing is checked, never what the
features mean."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from stvg.schemas import FeatureSet
from stvg.stvgdata.encoders.crops import images_to_tensor
from stvg.stvgdata.encoders.vl_synth import SubstituteEncoder
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extract import run_extraction
from stvg.stvgdata.extractors import ExtractorConfig, build_extractor
from stvg.stvgdata.loader import CachedQueryDataset, collate_queries
from stvg.stvgdata.sample_catalog import DATASET
from tests.stvgdata.cache_fixtures import TINY_SIZE, tiny_config
from tests.stvgdata.regions_fixtures import TINY, regions_workspace, tiny_substitute

SIZE = (64, 96)  # multiples of 32: a 2 x 3 grid whose pooling windows are all full


@pytest.fixture(scope="module")
def substitute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_substitute(tmp_path_factory.mktemp("vl") / "encoder")


@pytest.fixture(scope="module")
def motion_substitute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_substitute(tmp_path_factory.mktemp("vl3") / "encoder", context_frames=3)


def config(weights: Path | None, **changes: object) -> ExtractorConfig:
    return ExtractorConfig(**{"input_size": SIZE, "weights": weights, **changes})


def frames(count: int, size: tuple[int, int] = SIZE) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (count, *size, 3), dtype=np.uint8)


@pytest.mark.parametrize("size", [SIZE, (70, 100)])
def test_map_is_one_stride_32_cell_map_per_frame_in_the_joint_space(substitute, size) -> None:
    extractor = build_extractor("vl-synth-map", config(substitute, input_size=size))
    out = extractor.forward(extractor.preprocess(frames(3, size)))
    grid = (math.ceil(size[0] / 32), math.ceil(size[1] / 32))
    assert extractor.output_grid() == grid
    assert out.shape == (3, *grid, TINY.dim) and extractor.channels == TINY.dim
    assert torch.isfinite(out).all()


def test_map_cells_average_to_the_towers_embedding_of_the_whole_frame(substitute) -> None:
    """Same pixels scaling and mean as the substitute's crops (images_to_tensor + its tower);
    projecting cells then averaging equals the tower's pool-then-project on the full frame."""
    extractor = build_extractor("vl-synth-map", config(substitute))
    batch = frames(2)
    cells = extractor.forward(extractor.preprocess(batch))  # (2, 2, 3, D)
    tower = SubstituteEncoder(substitute).model.image
    with torch.inference_mode():
        whole = tower(images_to_tensor(batch))  # (2, D) unnormalized
    torch.testing.assert_close(cells.mean(dim=(1, 2)), whole, atol=1e-5, rtol=1e-4)


def test_text_gives_the_text_towers_tokens_with_vocabulary_ids(substitute) -> None:
    extractor = build_extractor("vl-synth-text", config(substitute, text_batch_size=2))
    sentences = ["the red square moves", "the square .", "zebra"]
    encoded = extractor.encode(sentences)
    expected = SubstituteEncoder(substitute).encode_tokens(sentences)
    vocabulary = SubstituteEncoder(substitute).model.vocabulary
    assert extractor.channels == TINY.dim
    for (ids, feats), want, sentence in zip(encoded, expected, sentences, strict=True):
        assert ids.dtype == np.int32 and feats.dtype == np.float32
        assert feats.shape == want.shape and len(ids) == len(feats)
        np.testing.assert_allclose(feats, want, atol=1e-6)
        assert ids.tolist() == vocabulary.encode([sentence], TINY.max_words)[0][0].tolist()


@pytest.mark.parametrize("model", ["vl-synth-map", "vl-synth-text"])
def test_fingerprint_carries_the_substitutes_and_ignores_tiny(substitute, tmp_path, model) -> None:
    built = build_extractor(model, config(substitute))
    weights = SubstituteEncoder(substitute).fingerprint
    assert f"weights={weights}" in built.fingerprint_text
    assert build_extractor(model, config(substitute, tiny=True)).fingerprint == built.fingerprint
    other = tiny_substitute(tmp_path / "other", seed=1)
    assert build_extractor(model, config(other)).fingerprint != built.fingerprint


def test_map_fingerprint_names_preprocessing_and_size(substitute) -> None:
    built = build_extractor("vl-synth-map", config(substitute))
    assert "rgb/255" in built.fingerprint_text and "tower_mean=0.5" in built.fingerprint_text
    resized = build_extractor("vl-synth-map", config(substitute, input_size=(96, 160)))
    assert resized.fingerprint != built.fingerprint


@pytest.mark.parametrize("model", ["vl-synth-map", "vl-synth-text"])
def test_missing_weights_is_a_user_error_saying_how_to_train_one(model) -> None:
    with pytest.raises(BadInputError, match=f"train-vl-encoder.*`weights` {model}=DIR"):
        build_extractor(model, config(None))


def test_map_refuses_a_multi_frame_encoder(motion_substitute) -> None:
    with pytest.raises(BadInputError, match="single-frame"):
        build_extractor("vl-synth-map", config(motion_substitute))


def test_motion_map_refuses_a_single_frame_encoder(substitute) -> None:
    with pytest.raises(BadInputError, match="multi-frame.*`context_frames`"):
        build_extractor("vl-synth-motion-map", config(substitute))


def test_motion_map_row_reads_its_centred_window_like_the_towers_crops(motion_substitute) -> None:
    """Row t of a clip is the tower on frames (t-1, t, t+1) stacked on channels in time order,
    the layout of the substitute's training crops; cells average to the tower's embedding."""
    extractor = build_extractor("vl-synth-motion-map", config(motion_substitute, clip_frames=4))
    batch = frames(8)
    cells = extractor.forward(extractor.preprocess(batch))  # two clips of 4
    assert cells.shape == (8, 2, 3, TINY.dim) and extractor.min_frames == 1
    tower = SubstituteEncoder(motion_substitute).model.image
    for row, window in [(1, [0, 1, 2]), (0, [0, 0, 1]), (3, [2, 3, 3]), (4, [4, 4, 5])]:
        stacked = np.concatenate([batch[i] for i in window], axis=-1)[None]  # (1, H, W, 9)
        with torch.inference_mode():
            whole = tower(images_to_tensor(stacked))
        torch.testing.assert_close(cells[row].mean(dim=(0, 1)), whole[0], atol=1e-5, rtol=1e-4)


def test_motion_map_rows_see_no_frame_outside_their_clip(motion_substitute) -> None:
    extractor = build_extractor("vl-synth-motion-map", config(motion_substitute, clip_frames=4))
    batch = frames(8)
    changed = batch.copy()
    changed[3] = 255 - changed[3]  # last frame of the first clip
    before = extractor.forward(extractor.preprocess(batch))
    after = extractor.forward(extractor.preprocess(changed))
    differs = [not torch.equal(before[i], after[i]) for i in range(8)]
    assert differs == [False, False, True, True, False, False, False, False]


def test_motion_map_fingerprint_names_its_windows(motion_substitute) -> None:
    built = build_extractor("vl-synth-motion-map", config(motion_substitute, clip_frames=4))
    assert "windows of 3 sampled frames" in built.fingerprint_text
    assert "context3-" in built.fingerprint_text  # the encoder's own fingerprint
    longer = build_extractor("vl-synth-motion-map", config(motion_substitute, clip_frames=8))
    assert longer.fingerprint != built.fingerprint


def test_extracted_features_load_as_the_chosen_feature_set(
    substitute, motion_substitute, tmp_path
) -> None:
    ws = regions_workspace(tmp_path)
    weights = {
        "vl-synth-map": str(substitute),
        "vl-synth-motion-map": str(motion_substitute),
        "vl-synth-text": str(substitute),
    }
    models = ("vl-synth-map", "vl-synth-motion-map", "vl-synth-text")
    run_extraction(ws, tiny_config(models=models, weights=weights))
    chosen = FeatureSet(frame="vl-synth-map", clip="vl-synth-motion-map", text="vl-synth-text")
    data = CachedQueryDataset(ws, DATASET, "train", features=chosen)
    assert len(data) > 0 and data.missing == 0
    batch = collate_queries([data[0]])
    grid = tuple(math.ceil(side / 32) for side in TINY_SIZE)
    assert batch["frame_feats"].shape[2:] == (*grid, TINY.dim)
    assert batch["clip_feats"].shape == batch["frame_feats"].shape
    assert batch["text_feats"].shape[-1] == TINY.dim


def test_cell_similarity_is_the_cosine_of_each_cell_with_the_sentence(substitute) -> None:
    encoder = SubstituteEncoder(substitute)
    sentence = "the red square moves 0 ."
    embedding = encoder.encode([sentence])[0]
    other = np.roll(embedding, 1) - embedding * float(np.roll(embedding, 1) @ embedding)
    cells = np.zeros((2, 1, 3, embedding.size), np.float32)  # (T, H, W, C)
    cells[0, 0, 0], cells[0, 0, 1], cells[0, 0, 2] = 3 * embedding, other, -embedding
    cells[1] = embedding
    scores = encoder.cell_similarity(cells, sentence)
    assert scores.shape == (2, 3)
    np.testing.assert_allclose(scores[0], [1.0, 0.0, -1.0], atol=1e-5)  # any scale: a cosine
    np.testing.assert_allclose(scores[1], 1.0, atol=1e-5)
