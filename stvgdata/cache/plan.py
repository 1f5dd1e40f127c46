"""Splitting extraction work between processes, and the files each process owns.

``--num-shards N --shard-index I`` gives process I the videos whose id hashes to I (mod N): the
split depends only on the id, so every machine computes the same disjoint partition without
talking to the others, and reruns keep each video with the same process. Each process writes
only shard files named with its own prefix, holds a lock on that prefix while it runs, and at
start removes what a killed run of the same prefix left behind.
"""

from __future__ import annotations

import fcntl
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from stvg.stvgdata.cache.manifest import referenced_shards
from stvg.stvgdata.cache.shard import SHARD_SUFFIX
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace

SHARDS_DIR = "shards"
# a manifest part is written in milliseconds: a temporary one this old belongs to a dead process
STALE_MANIFEST_TEMP_SECONDS = 3600


@dataclass(frozen=True)
class WorkSplit:
    """This process's part of the work: shard ``shard_index`` of ``num_shards``."""

    num_shards: int = 1
    shard_index: int = 0

    def __post_init__(self) -> None:
        if self.num_shards < 1 or not 0 <= self.shard_index < self.num_shards:
            raise BadInputError.for_field(
                "shard_index",
                None,
                f"need 0 <= shard index < num shards, got {self.shard_index} of {self.num_shards}",
            )

    def owns(self, video_id: str) -> bool:
        """Whether this process handles ``video_id`` (and every query on it)."""
        return zlib.crc32(video_id.encode()) % self.num_shards == self.shard_index

    @property
    def prefix(self) -> str:
        """Start of every shard file name this process writes."""
        return f"w{self.shard_index:04d}of{self.num_shards:04d}-"


def model_dir(dataset: str, model: str) -> str:
    """Directory of a model's shards, relative to the workspace's features directory."""
    return f"{SHARDS_DIR}/{dataset}/{model}"


def new_shard_name(dataset: str, model: str, split: WorkSplit) -> str:
    """A fresh shard path (relative to the features directory) that no other writer uses."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{model_dir(dataset, model)}/{split.prefix}{stamp}-{uuid.uuid4().hex[:8]}{SHARD_SUFFIX}"


@contextmanager
def worker_lock(ws: Workspace, dataset: str, split: WorkSplit) -> Iterator[None]:
    """Hold the store's one writer lock of this dataset and shard index: two processes never
    write the same prefix, whether they extract features (``extract``) or region sets
    (``extract-regions``, which also reads the feature timeline being written)."""
    lock_dir = ws.features_dir / SHARDS_DIR / dataset
    lock_dir.mkdir(parents=True, exist_ok=True)
    lock_path = lock_dir / f".{split.prefix}lock"
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BadInputError(
                lock_path,
                None,
                f"another extraction (extract or extract-regions) of {dataset} with shard index "
                f"{split.shard_index} of {split.num_shards} is running; wait for it, or give "
                "each process its own `shard_index`",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_files(ws: Workspace, dataset: str, models: list[str], split: WorkSplit) -> int:
    """Delete this prefix's leftovers of killed runs: temporary files and shards the manifest
    never received (killed between rename and manifest append), and old temporary manifest
    parts. Call under ``worker_lock``."""
    referenced = referenced_shards(ws)
    removed = _remove_old_manifest_temps(ws)
    for model in models:
        directory = ws.features_dir / model_dir(dataset, model)
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            if _is_stale(ws, path, split, referenced):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _remove_old_manifest_temps(ws: Workspace) -> int:
    """Delete temporary manifest parts of killed processes (any prefix: parts carry none, so
    only those older than any live write are removed)."""
    directory = ws.table_dir("features")
    if not directory.is_dir():
        return 0
    cutoff = time.time() - STALE_MANIFEST_TEMP_SECONDS
    old = [p for p in directory.glob(".part-*.tmp-*") if p.stat().st_mtime < cutoff]
    for path in old:
        path.unlink(missing_ok=True)
    return len(old)


def _is_stale(ws: Workspace, path: Path, split: WorkSplit, referenced: set[str]) -> bool:
    if path.name.startswith(f".{split.prefix}") and ".tmp-" in path.name:
        return True
    relative = path.relative_to(ws.features_dir).as_posix()
    return path.name.startswith(split.prefix) and relative not in referenced
