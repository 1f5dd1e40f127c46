"""``run_region_extraction`` and region sets in the feature store: what is cached reads back
exactly, reruns resume, changed inputs are redone, broken videos become failures rows, bad input
is one error."""

from __future__ import annotations

import numpy as np
import pytest

from stvg.stvgdata.adapters import sampling
from stvg.stvgdata.cache import REGIONS_MODEL, manifest_rows
from stvg.stvgdata.catalog import query, read_table
from stvg.stvgdata.encoders.crops import crop_regions
from stvg.stvgdata.encoders.vl_synth import SubstituteEncoder
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.regions import extract as extract_module
from stvg.stvgdata.regions import load_text_encoder, read_query_embeddings, read_video_regions
from stvg.stvgdata.regions.config import RegionExtractConfig
from stvg.stvgdata.regions.extract import run_region_extraction
from stvg.stvgdata.sample_catalog import DATASET, CatalogVideo, install_catalog, make_videos
from stvg.stvgdata.video.decode import iter_frames
from tests.stvgdata.regions_fixtures import (
    LENGTHS,
    install_boxes,
    regions_workspace,
    tiny_substitute,
)


@pytest.fixture
def ws(tmp_path):
    return regions_workspace(tmp_path)


@pytest.fixture
def weights(tmp_path):
    return tiny_substitute(tmp_path / "encoder")


def extract(ws, weights, **overrides):
    """Extract both box kinds at the test videos' own 10 fps with ``weights``."""
    values = dict(dataset=DATASET, boxes=("tubelets", "detections"), weights=weights, fps=10.0)
    return run_region_extraction(ws, RegionExtractConfig(**(values | overrides)))


def test_round_trip_returns_the_boxes_frames_and_embeddings(ws, weights):
    summary = extract(ws, weights)
    assert (summary.videos_done, summary.videos_failed) == (2, 0)
    regions = read_video_regions(ws, DATASET, "v2", boxes="tubelets")
    np.testing.assert_array_equal(regions.frame_idx, np.arange(16))
    assert regions.region_frame.shape == (32,) and set(regions.region_frame) <= set(range(16))
    assert regions.boxes[0].tolist() == [8.0, 6.0, 30.0, 30.0]
    assert sorted(set(regions.tubelet_id)) == [0, 1]
    assert np.isnan(regions.scores[regions.region_frame == 1]).all()  # bridged frame
    assert set(regions.labels) == {"square", "circle"}
    np.testing.assert_allclose(np.linalg.norm(regions.embeddings, axis=1), 1, atol=1e-5)
    assert regions.frame_embeddings.shape == (16, 8)
    # the cached embedding of a box is the encoder's embedding of that box's crop
    encoder = SubstituteEncoder(weights)
    video = query(ws, "SELECT path, width, height FROM videos WHERE video_id = 'v2'").to_pylist()[0]
    _, rgb = next(iter_frames(video["path"], np.array([3]), (video["height"], video["width"])))
    on_frame = regions.region_frame == 3
    expected = encoder.encode_images(crop_regions(rgb, regions.boxes[on_frame], 16))
    np.testing.assert_allclose(regions.embeddings[on_frame], expected, atol=1e-5)
    detections = read_video_regions(ws, DATASET, "v2", boxes="detections")
    assert (detections.tubelet_id == -1).all() and len(detections.boxes) == 32


def test_frames_without_a_cache_timeline_follow_the_dataset_sampling(ws, weights, monkeypatch):
    monkeypatch.setitem(sampling.SAMPLING, DATASET, sampling.Sampling(10.0, (224, 384)))
    extract(ws, weights, fps=None, boxes=("tubelets",))
    regions = read_video_regions(ws, DATASET, "v2")
    np.testing.assert_array_equal(regions.frame_idx, np.arange(LENGTHS["v2"]))  # all, at 10 fps
    assert RegionExtractConfig(dataset=DATASET, fps=2.5).target_fps == 2.5  # the option wins


def test_sentences_and_text_encoder_match(ws, weights):
    extract(ws, weights)
    sentences = query(ws, "SELECT query_id, sentence FROM queries ORDER BY query_id").to_pylist()
    ids = [row["query_id"] for row in sentences][::-1]
    cached = read_query_embeddings(ws, DATASET, ids)
    text = load_text_encoder(ws, DATASET)
    assert text.fingerprint == SubstituteEncoder(weights).fingerprint
    expected = text.encode([row["sentence"] for row in sentences][::-1])
    np.testing.assert_allclose(cached, expected, atol=1e-5)
    tokens = text.encode_tokens(["the red square"])
    assert tokens[0].shape == (3, 8)
    twice = read_query_embeddings(ws, DATASET, [ids[0], ids[0]])
    np.testing.assert_array_equal(twice[0], twice[1])


def test_video_without_boxes_has_frames_and_no_regions(ws, weights):
    install_boxes(ws, "tubelets", {"v1": 12})
    extract(ws, weights, boxes=("tubelets",))
    regions = read_video_regions(ws, DATASET, "v2")
    assert regions.embeddings.shape == (0, 8) and regions.boxes.shape == (0, 4)
    assert regions.frame_embeddings.shape == (16, 8)


def test_rerun_skips_cached_and_redoes_changed_boxes(ws, weights):
    extract(ws, weights)
    rows = manifest_rows(ws, DATASET, REGIONS_MODEL).num_rows
    again = extract(ws, weights)
    assert (again.videos_cached, again.videos_done, again.sentences) == (2, 0, 0)
    assert again.sentences_cached == 4
    assert manifest_rows(ws, DATASET, REGIONS_MODEL).num_rows == rows
    install_boxes(ws, "tubelets", {"v1": 12, "v2": 10})  # re-tracked: v2 changed
    third = extract(ws, weights)
    assert (third.videos_cached, third.videos_done) == (1, 1)
    assert len(read_video_regions(ws, DATASET, "v2").boxes) == 20
    # the stale rows were dropped, not shadowed: one row per (part, item), as for features
    assert manifest_rows(ws, DATASET, REGIONS_MODEL).num_rows == rows


def test_broken_video_is_a_failures_row_and_the_rest_goes_on(tmp_path, weights):
    ws = regions_workspace(tmp_path)
    videos = make_videos(tmp_path / "videos", LENGTHS)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    install_catalog(ws, [*videos, CatalogVideo("v3", broken, 12)], queries_per_video=2)
    install_boxes(ws, "tubelets", {**LENGTHS, "v3": 12})
    summary = extract(ws, weights, boxes=("tubelets",))
    assert (summary.videos_done, summary.videos_failed) == (2, 1)
    failures = read_table(ws, "failures").to_pylist()
    assert [(f["stage"], f["item"]) for f in failures] == [("extract-regions", "v3")]
    with pytest.raises(BadInputError, match="v3: no cached frame embeddings"):
        read_video_regions(ws, DATASET, "v3")


def test_another_encoder_is_refused_unless_replaced(ws, weights, tmp_path):
    extract(ws, weights)
    other = tiny_substitute(tmp_path / "other", seed=1)
    with pytest.raises(BadInputError, match=r"differs in weights \S+ -> \S+other .*`replace_reg"):
        extract(ws, other)
    summary = extract(ws, other, replace_region_cache=True)
    assert summary.videos_done == 2
    rows = manifest_rows(ws, DATASET, REGIONS_MODEL)
    assert set(rows["fingerprint"].to_pylist()) == {summary.encoder}
    assert len(list((ws.features_dir / "shards" / DATASET / "regions").glob("*.h5"))) == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dataset": "nope"}, "unknown dataset"),
        ({"weights": "/no/such/dir"}, "weights path not found"),
        ({"encoder": "clip", "weights": None}, "clip-vit-base-patch32 are not in this cache"),
        ({"encoder": "siglip"}, "unknown encoder"),
    ],
)
def test_bad_input_is_one_error(ws, weights, overrides, message):
    overrides = {"weights": weights} | overrides
    with pytest.raises(BadInputError, match=message):
        extract(ws, **overrides)


def test_no_tubelets_yet_names_the_command(tmp_path, weights):
    ws = regions_workspace(tmp_path)
    install_boxes(ws, "tubelets", {})
    with pytest.raises(BadInputError, match="no tubelets for this dataset yet; run `stvg track`"):
        extract(ws, weights, boxes=("tubelets",))


def test_reading_before_extraction_names_the_command(ws):
    with pytest.raises(BadInputError, match="run `stvg extract-regions --dataset vidstg`"):
        read_video_regions(ws, DATASET, "v1")
    with pytest.raises(BadInputError, match="stvg extract-regions"):
        load_text_encoder(ws, DATASET)


def test_interrupted_run_keeps_committed_videos_and_resumes(ws, weights, monkeypatch):
    real = extract_module._embed_video

    def interrupt_on_v2(encoder, video, kinds, batch_size):
        if video.video_id == "v2":
            raise KeyboardInterrupt
        return real(encoder, video, kinds, batch_size)

    monkeypatch.setattr(extract_module, "_embed_video", interrupt_on_v2)
    with pytest.raises(KeyboardInterrupt):
        extract(ws, weights, videos_per_shard=1)
    assert len(read_video_regions(ws, DATASET, "v1").boxes) == 24
    leftovers = [p.name for p in (ws.features_dir / "shards" / DATASET / "regions").iterdir()]
    assert not [name for name in leftovers if ".tmp-" in name]
    monkeypatch.setattr(extract_module, "_embed_video", real)
    resumed = extract(ws, weights)
    assert (resumed.videos_cached, resumed.videos_done, resumed.sentences) == (1, 1, 4)


def test_weights_of_another_encoder_are_refused_naming_the_field():
    from pathlib import Path

    from stvg.stvgdata.errors import BadInputError
    from stvg.stvgdata.regions.config import encoder_weights

    assert encoder_weights("clip", {"clip": "/m"}) == Path("/m")
    with pytest.raises(BadInputError) as error:
        encoder_weights("stvg-vl-synth", {"clip": "/m"})
    assert error.value.field == "weights" and "`encoder`" in error.value.reason


def test_the_encoder_runs_where_extract_runs_by_default():
    """``auto`` as for frame models: a GPU when one is visible, else the CPU."""
    import torch

    from stvg.stvgdata.extractors.config import resolve_device

    assert RegionExtractConfig(dataset=DATASET).device == "auto"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
