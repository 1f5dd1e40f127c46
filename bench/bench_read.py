"""Reading from the feature cache: random query reads vs one .npz per video, and sequential
throughput vs plain file reads.

Builds a cache of random float16 arrays with ``ShardWriter`` (the store's real layout and
chunking), the same arrays as one uncompressed .npz per video, and a catalog whose queries
each cover part of a video (VidSTG-like segments). Then:
- random reads: ``CachedQueryDataset`` items (ResNet rows of the query's clip, with boxes)
  vs loading the video's array from its .npz and selecting the same rows (target >= 3x);
- sequential: every manifest row read whole in manifest order, as the loader reads (checksums
  not checked), vs reading the shard files' bytes with plain ``read()`` (target >= 50 %); the
  same with checksums checked, as ``verify --deep`` reads, for comparison.
Files are in the page cache for both sides (the OS is not asked to drop caches).

    .venv/bin/python bench/bench_read.py [--videos 60] [--frames 200] [--queries 300]
        [--chunk-kib 4096] [--repeats 3]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from stvg.schemas.batch import FeatureSet
from stvg.stvgdata.cache import (
    ModelIdentity,
    ShardReader,
    ShardWriter,
    StorageConfig,
    WorkSplit,
    manifest_rows,
    new_shard_name,
)
from stvg.stvgdata.loader import CachedQueryDataset, clip_positions
from stvg.stvgdata.sample_catalog import DATASET, CatalogVideo, install_catalog
from stvg.stvgdata.workspace import Workspace

ROW_SHAPE = (7, 12, 256)  # (h, w, C): a 224x384 frame at stride 32, fewer channels than 2048
VIDEOS_PER_SHARD = 16
MAX_FRAMES = 200


def build(root: Path, videos: int, frames: int, storage: StorageConfig) -> tuple[Workspace, Path]:
    """Cache + npz directory holding the same (T, h, w, C) float16 arrays."""
    ws = Workspace(root / "ws")
    npz_dir = root / "npz"
    npz_dir.mkdir(parents=True)
    install_catalog(
        ws,
        [CatalogVideo(f"v{i:04d}", Path(f"/none/{i}.mp4"), frames) for i in range(videos)],
        queries_per_video=3,
        segment_frames=frames // 3,  # a query covers a third of its video, as in VidSTG
    )
    identity = ModelIdentity("resnet101", "bench", "random arrays")
    rng = np.random.default_rng(0)
    writer = None
    for i in range(videos):
        if writer is None or writer.num_items >= VIDEOS_PER_SHARD:
            if writer is not None:
                writer.commit()
            name = new_shard_name(DATASET, "resnet101", WorkSplit())
            writer = ShardWriter(ws, name, DATASET, storage)
        array = rng.standard_normal((frames, *ROW_SHAPE), dtype=np.float32).astype(np.float16)
        frame_idx = np.arange(frames)
        handle = writer.begin_video(identity, f"v{i:04d}", 10.0, frame_idx, ROW_SHAPE)
        writer.write_rows(handle, 0, array)
        writer.finish_video(handle)
        np.savez(npz_dir / f"v{i:04d}.npz", features=array, frame_idx=frame_idx)
    writer.commit()
    return ws, npz_dir


def random_reads(ws: Workspace, npz_dir: Path, queries: int) -> tuple[float, float]:
    """Seconds for ``queries`` random query reads: (cache loader, npz per video)."""
    data = CachedQueryDataset(
        ws, DATASET, "train", max_frames=MAX_FRAMES, features=FeatureSet(clip=None, text=None)
    )
    order = [random.Random(1).randrange(len(data)) for _ in range(queries)]
    began = time.perf_counter()
    for index in order:
        data[index]["frame_feats"]
    cache_seconds = time.perf_counter() - began
    began = time.perf_counter()
    for index in order:
        record = data.records[index]
        with np.load(npz_dir / f"{record.video_id}.npz") as npz:
            timeline = npz["frame_idx"]
            segment = (record.frame_idx[0], record.frame_idx[-1] + 1)
            positions = clip_positions(timeline, segment, MAX_FRAMES)
            npz["features"][positions]
    return cache_seconds, time.perf_counter() - began


def cache_rate(ws: Workspace, rows: list[dict], verify_checksums: bool) -> tuple[float, int]:
    """(bytes/s reading every manifest row whole, bytes)."""
    reader = ShardReader(ws.features_dir, verify_checksums=verify_checksums)
    began = time.perf_counter()
    total = sum(reader.read(row).nbytes for row in rows)
    rate = total / (time.perf_counter() - began)
    reader.close()
    return rate, total


def sequential(ws: Workspace) -> tuple[float, float, float, int]:
    """(cache bytes/s unchecked, checked, plain read bytes/s of the shard files, bytes)."""
    rows = manifest_rows(ws, DATASET).to_pylist()
    unchecked, total = cache_rate(ws, rows, verify_checksums=False)
    checked, _ = cache_rate(ws, rows, verify_checksums=True)
    files = sorted({ws.features_dir / row["shard"] for row in rows})
    began = time.perf_counter()
    plain = 0
    for path in files:
        with open(path, "rb", buffering=0) as handle:
            while chunk := handle.read(16 << 20):
                plain += len(chunk)
    return unchecked, checked, plain / (time.perf_counter() - began), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=60)
    parser.add_argument("--frames", type=int, default=200, help="sampled frames per video")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--chunk-kib", type=int, default=StorageConfig.chunk_bytes >> 10)
    parser.add_argument(
        "--repeats", type=int, default=3, help="sequential passes; the best rate of each side"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="stvg-bench-read-"))
    ws, npz_dir = build(
        root, args.videos, args.frames, StorageConfig(chunk_bytes=args.chunk_kib << 10)
    )
    sequential(ws)  # warm the page cache for both sides
    cache_s, npz_s = random_reads(ws, npz_dir, args.queries)
    passes = [sequential(ws) for _ in range(args.repeats)]
    unchecked, checked, plain_rate, total = (max(rates) for rates in zip(*passes, strict=True))
    print(
        f"videos={args.videos} frames={args.frames} row={ROW_SHAPE} float16, "
        f"chunks of ~{args.chunk_kib} KiB, "
        f"{total / 2**20:.0f} MiB, {args.queries} random queries, best of {args.repeats} "
        "sequential passes"
    )
    print(
        f"random query read: cache {1e3 * cache_s / args.queries:.2f} ms, "
        f"npz per video {1e3 * npz_s / args.queries:.2f} ms"
    )
    print(f"ratio npz / cache = {npz_s / cache_s:.2f}x faster (target >= 3x)")
    print(
        f"sequential: cache {unchecked / 2**20:.0f} MiB/s (checksums checked: "
        f"{checked / 2**20:.0f} MiB/s), plain read {plain_rate / 2**20:.0f} MiB/s"
    )
    print(
        f"ratio cache / plain = {100 * unchecked / plain_rate:.0f} % (target >= 50 %), "
        f"checked {100 * checked / plain_rate:.0f} %"
    )


if __name__ == "__main__":
    main()
