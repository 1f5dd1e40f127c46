"""What every dataset adapter is and produces: one adapter per on-disk layout, all with the same
``read(root, dataset, progress) -> CatalogTables`` entry point."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn


@dataclass(frozen=True)
class CatalogTables:
    """The videos, queries and boxes tables of one dataset, already in the catalog convention.

    Import failures are not here: the importer records them (they concern video files, which
    adapters never open).
    """

    videos: pa.Table
    queries: pa.Table
    boxes: pa.Table


@dataclass(frozen=True)
class Adapter:
    """One on-disk layout of one dataset.

    ``detect`` looks at file names only (cheap, used to pick a layout under ``--root``);
    ``read`` parses the annotation files into catalog tables and raises ``BadInputError`` on
    anything it cannot use.
    """

    layout: str
    summary: str
    detect: Callable[[Path], bool]
    read: Callable[[Path, str, ProgressFn], CatalogTables]


def find_path(root: Path, relative: str, max_depth: int = 2) -> Path | None:
    """The shallowest ``root/[*/...]relative`` present, searching ``max_depth`` levels down.

    Releases are unpacked under differently named top folders (``anno_v1/``, ``vidor/``, ...),
    so adapters look for their well-known file names rather than one fixed path. A name that is
    there but cannot be read (a dangling or looping symlink, a directory) is found all the same,
    so that reading it fails loudly instead of the split silently going missing; a directory
    that cannot be listed is an error for the same reason.
    """
    level = [root]
    for _ in range(max_depth + 1):
        for directory in level:
            if os.path.lexists(directory / relative):
                return directory / relative
        level = [sub for directory in level for sub in subdirectories(directory)]
    return None


def subdirectories(directory: Path) -> list[Path]:
    """The sorted subdirectories of ``directory``; ``BadInputError`` if it cannot be listed."""
    try:
        with os.scandir(directory) as entries:
            return sorted(Path(entry.path) for entry in entries if _is_dir(entry))
    except OSError as exc:
        raise BadInputError(directory, None, f"cannot list directory ({exc.strerror})") from None


def _is_dir(entry: os.DirEntry) -> bool:
    """Whether the entry is a directory; a symlink loop is not."""
    try:
        return entry.is_dir()
    except OSError:
        return False


class SplitFileReader(Protocol):
    """A reader that turns one annotation file per split into catalog row buffers."""

    videos: Any
    queries: Any
    boxes: Any

    def read_file(self, path: Path, split: str) -> None: ...


def read_split_files(
    reader: SplitFileReader, files: dict[str, Path], dataset: str, progress: ProgressFn
) -> CatalogTables:
    """Feed every split's file to ``reader`` (reporting progress) and build the tables."""
    for done, (split, path) in enumerate(files.items(), 1):
        reader.read_file(path, split)
        progress("read annotations", done, len(files))
    return CatalogTables(
        videos=reader.videos.rows.to_table(dataset),
        queries=reader.queries.to_table(dataset),
        boxes=reader.boxes.to_table(dataset, reader.queries.column("query_id")),
    )


@contextmanager
def gc_paused() -> Iterator[None]:
    """Cyclic garbage collection off for the block: parsed annotations hold no cycles, and a
    VidSTG-scale import creates millions of objects, over which every full collection would
    walk again (reference counting still frees everything)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
