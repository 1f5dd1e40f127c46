"""``run_extraction`` with tiny networks: faults become failures rows, resume skips, shards
split the work, fingerprints never mix, and the cache verifies."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from stvg.stvgdata.cache import ShardReader, WorkSplit, manifest_rows, verify_cache
from stvg.stvgdata.catalog import query
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extract import run_extraction
from stvg.stvgdata.sample_catalog import DATASET, install_catalog, make_videos
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import TINY_SIZE, make_faulty_videos, tiny_config

GOOD = {"a": 20, "b": 13, "d": 9}  # crc32 puts d in shard 0 of 2, a and b in 1


@pytest.fixture(autouse=True)
def _quiet_random_init():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    return make_videos(root, GOOD), make_faulty_videos(root / "faulty")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory, videos):
    """A workspace where good and faulty videos went through one extraction."""
    good, faulty = videos
    ws = Workspace(tmp_path_factory.mktemp("ws"))
    install_catalog(ws, good + list(faulty.values()), queries_per_video=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = run_extraction(ws, tiny_config(storage_max_items=2))
    return ws, summary


def fresh_workspace(tmp_path: Path, videos) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    install_catalog(ws, videos[0], queries_per_video=1)
    return ws


def cached(ws: Workspace, model: str) -> list[str]:
    column = "query_id" if model == "roberta" else "video_id"
    return sorted(manifest_rows(ws, DATASET, model)[column].to_pylist())


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("truncated", "truncated"),
        ("zero-length", "zero-length"),
        ("missing", "missing"),
        ("unreadable codec", "unreadable"),
        ("too short", "too short"),
    ],
)
def test_each_faulty_video_becomes_a_failures_row(extracted, videos, fault, reason) -> None:
    ws, _ = extracted
    video_id = videos[1][fault].video_id
    rows = query(ws, f"SELECT model, error FROM failures WHERE item = '{video_id}'").to_pylist()
    models = {"slowfast"} if fault == "too short" else {"resnet101", "slowfast"}
    assert {row["model"] for row in rows} == models
    assert all(reason in row["error"].lower() and "\n" not in row["error"] for row in rows)
    assert not any("unexpected" in row["error"] for row in rows)


def test_the_rest_carries_on_and_verifies(extracted, videos) -> None:
    ws, summary = extracted
    assert cached(ws, "resnet101") == ["a", "b", "d", "short"]
    assert cached(ws, "slowfast") == ["a", "b", "d"]
    assert len(cached(ws, "roberta")) == 2 * (len(GOOD) + len(videos[1]))  # text needs no video
    report = verify_cache(ws, deep=True)
    assert report.ok and report.rows_checked == 4 + 3 + 16 and not report.unreferenced
    assert summary.shards >= 4  # rotation after 2 videos
    assert not list(ws.features_dir.rglob(".*.tmp-*"))


def test_rows_match_a_direct_forward_of_the_same_frames(extracted, videos) -> None:
    from stvg.stvgdata.extract import build_extractors
    from stvg.stvgdata.video import iter_frames

    ws, _ = extracted
    row = next(
        r for r in manifest_rows(ws, DATASET, "slowfast").to_pylist() if r["video_id"] == "b"
    )
    frames = np.stack(
        [rgb for _, rgb in iter_frames(videos[0][1].path, row["frame_idx"], TINY_SIZE)]
    )
    extractor = build_extractors(tiny_config(models=("slowfast",)))["slowfast"]
    expected = extractor.forward(extractor.preprocess(extractor.pad_chunk(frames)))[: len(frames)]
    stored = ShardReader(ws.features_dir).read(row).astype(np.float32)
    assert row["frame_idx"] == list(range(13)) and stored.shape == (13, 2, 2, extractor.channels)
    torch.testing.assert_close(torch.from_numpy(stored), expected, atol=2e-2, rtol=1e-2)


def test_rerun_skips_the_manifest_without_reading_shards(extracted, tmp_path, videos) -> None:
    ws = fresh_workspace(tmp_path, videos)
    run_extraction(ws, tiny_config())
    before = manifest_rows(ws).num_rows
    for shard in ws.features_dir.rglob("*.h5"):
        shard.write_bytes(b"not hdf5")  # any attempt to read would fail
    summary = run_extraction(ws, tiny_config())
    assert manifest_rows(ws).num_rows == before and summary.shards == 0
    assert [(m.done, m.cached) for m in summary.models] == [(0, 3), (0, 3), (0, 3)]


def test_two_shard_indices_are_disjoint_and_complete(tmp_path, videos) -> None:
    ws = fresh_workspace(tmp_path, videos)
    parts = []
    for index in range(2):
        run_extraction(ws, tiny_config(split=WorkSplit(2, index), models=("resnet101", "roberta")))
        parts.append(set(cached(ws, "resnet101")) - set().union(*parts))
    assert parts[0] and parts[1] and parts[0] | parts[1] == set(GOOD)
    assert len(cached(ws, "resnet101")) == len(GOOD) and len(cached(ws, "roberta")) == len(GOOD)
    names = {Path(s).name[:12] for s in manifest_rows(ws)["shard"].to_pylist()}
    assert names == {"w0000of0002-", "w0001of0002-"}
    assert verify_cache(ws).ok


def test_dry_run_writes_nothing_and_estimates_storage(tmp_path, videos) -> None:
    ws = fresh_workspace(tmp_path, videos)
    plan = run_extraction(ws, tiny_config(dry_run=True))
    assert manifest_rows(ws).num_rows == 0 and not ws.features_dir.exists()
    done = run_extraction(ws, tiny_config())
    for planned, actual in zip(plan.models[:2], done.models[:2], strict=True):
        assert (planned.rows, planned.bytes) == (actual.rows, actual.bytes) == (42, actual.bytes)
    assert plan.models[2].rows > 0
    assert all(m.est_seconds > 0 for m in plan.models)  # timed probe x planned rows


def test_dry_run_plans_over_another_fingerprint_and_names_what_differs(tmp_path, videos) -> None:
    ws = fresh_workspace(tmp_path, videos)
    run_extraction(ws, tiny_config(models=("resnet101",)))
    plan = run_extraction(ws, tiny_config(models=("resnet101",), fps=5.0, dry_run=True))
    (model,) = plan.models
    assert model.cached == 0 and model.rows > 0  # the cached rows are of another fingerprint
    assert "differs in fps" in model.replaces and "-> 5.0" in model.replaces


def test_the_refusal_names_a_new_frame_size_that_keeps_the_grid(tmp_path, videos) -> None:
    ws = fresh_workspace(tmp_path, videos)
    run_extraction(ws, tiny_config(models=("resnet101",)))
    smaller = (TINY_SIZE[0] - 4, TINY_SIZE[1] - 4)  # the same ceil(size / 32) feature grid
    with pytest.raises(BadInputError) as refusal:
        run_extraction(ws, tiny_config(models=("resnet101",), input_size=smaller))
    assert f"differs in size {list(TINY_SIZE)} -> {list(smaller)} from" in str(refusal.value)


def test_other_fingerprint_is_refused_then_replaced_on_request(tmp_path, videos) -> None:
    ws = fresh_workspace(tmp_path, videos)
    run_extraction(ws, tiny_config(models=("resnet101",)))
    old = set(manifest_rows(ws)["shard"].to_pylist())
    with pytest.raises(
        BadInputError, match="which differs in fps .* -> 5.0 from .*`replace_model_cache`"
    ):
        run_extraction(ws, tiny_config(models=("resnet101",), fps=5.0))
    run_extraction(ws, tiny_config(models=("resnet101",), fps=5.0, replace_model_cache=True))
    rows = manifest_rows(ws).to_pylist()
    assert len(rows) == len(GOOD) and {r["fps"] for r in rows} == {5.0}
    assert not any((ws.features_dir / shard).exists() for shard in old)


def test_wrong_architecture_weights_are_one_line_errors(tmp_path, videos) -> None:
    ws = fresh_workspace(tmp_path, videos)
    from stvg.stvgdata.extract import build_extractors

    resnet = build_extractors(tiny_config(models=("resnet101",)))["resnet101"]
    weights = tmp_path / "resnet.pth"
    torch.save(resnet.network.state_dict(), weights)
    with pytest.raises(BadInputError, match="not a .*slowfast") as caught:
        run_extraction(ws, tiny_config(weights={"slowfast": str(weights)}))
    assert "\n" not in str(caught.value) and manifest_rows(ws).num_rows == 0


def test_a_crash_mid_run_commits_nothing_half_written(tmp_path, videos, monkeypatch) -> None:
    from stvg.stvgdata.cache import ShardWriter

    ws = fresh_workspace(tmp_path, videos)
    calls = {"n": 0}
    real = ShardWriter.write_rows

    def failing(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(self, *args)

    monkeypatch.setattr(ShardWriter, "write_rows", failing)
    with pytest.raises(RuntimeError, match="shard writer failed"):
        run_extraction(ws, tiny_config(models=("resnet101",), batch_size=4))
    assert manifest_rows(ws).num_rows == 0 and not list(ws.features_dir.rglob("*.h5*"))
    monkeypatch.setattr(ShardWriter, "write_rows", real)
    run_extraction(ws, tiny_config(models=("resnet101",)))
    assert cached(ws, "resnet101") == sorted(GOOD)


def test_two_decoder_threads_interleave_videos_into_the_same_rows(tmp_path, videos) -> None:
    arrays = []
    for threads in (1, 2):
        ws = fresh_workspace(tmp_path / f"t{threads}", videos)
        config = tiny_config(
            models=("resnet101", "slowfast"), decode_threads=threads, batch_size=12
        )
        run_extraction(ws, config)
        reader = ShardReader(ws.features_dir)
        rows = sorted(manifest_rows(ws).to_pylist(), key=lambda r: (r["model"], r["video_id"]))
        arrays.append([(r["model"], r["video_id"], reader.read(r)) for r in rows])
    assert [a[:2] for a in arrays[0]] == [a[:2] for a in arrays[1]] and len(arrays[0]) == 6
    for (_, _, one), (_, _, two) in zip(*arrays, strict=True):
        np.testing.assert_allclose(one.astype(np.float32), two.astype(np.float32), atol=1e-2)
