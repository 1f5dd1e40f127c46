"""vl-synth-map and vl-synth-text: the trained stvg-vl-synth substitute as cache features
(shapes, agreement with the towers, fingerprints, missing weights, extract -> loader), on an
untrained tiny substitute: plumbing is checked, never what the features mean."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from schemas import FeatureSet
from stvgdata.errors import BadInputError
from stvgdata.extract import run_extraction
from stvgdata.extractors import ExtractorConfig, build_extractor
from stvgdata.loader import CachedQueryDataset, collate_queries
from stvgdata.regions.crops import images_to_tensor
from stvgdata.regions.substitute import SubstituteEncoder
from tests.stvgdata.cache_fixtures import DATASET, TINY_SIZE, tiny_config
from tests.stvgdata.regions_fixtures import TINY, regions_workspace, tiny_substitute

SIZE = (64, 96)  # multiples of 32: a 2 x 3 grid whose pooling windows are all full


@pytest.fixture(scope="module")
def substitute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_substitute(tmp_path_factory.mktemp("vl") / "encoder")


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
    with pytest.raises(BadInputError, match=f"train-vl-encoder.*--weights {model}=DIR"):
        build_extractor(model, config(None))


def test_map_refuses_a_multi_frame_encoder(substitute, tmp_path) -> None:
    stacked = tmp_path / "stacked"
    stacked.mkdir()
    saved = json.loads((substitute / "config.json").read_text())
    saved["config"]["context_frames"] = 2
    (stacked / "config.json").write_text(json.dumps(saved))
    state = torch.load(substitute / "model.pt", weights_only=True)
    first = next(k for k in state if k.startswith("image.trunk.0"))
    state[first] = state[first].repeat(1, 2, 1, 1)  # 3 -> 6 input channels
    state["image.mean"] = torch.full((1, 6, 1, 1), 0.5)
    torch.save(state, stacked / "model.pt")
    with pytest.raises(BadInputError, match="single-frame"):
        build_extractor("vl-synth-map", config(stacked))


def test_extracted_features_load_as_the_chosen_feature_set(substitute, tmp_path) -> None:
    ws = regions_workspace(tmp_path)
    weights = {"vl-synth-map": str(substitute), "vl-synth-text": str(substitute)}
    run_extraction(ws, tiny_config(models=("vl-synth-map", "vl-synth-text"), weights=weights))
    chosen = FeatureSet(frame="vl-synth-map", clip=None, text="vl-synth-text")
    data = CachedQueryDataset(ws, DATASET, "train", features=chosen)
    assert len(data) > 0 and data.missing == 0
    batch = collate_queries([data[0]])
    grid = tuple(math.ceil(side / 32) for side in TINY_SIZE)
    assert batch["frame_feats"].shape[2:] == (*grid, TINY.dim)
    assert batch["text_feats"].shape[-1] == TINY.dim and "clip_feats" not in batch
