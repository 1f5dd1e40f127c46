"""The versions of the dataset tables: ``catalog/index.json`` names the current version directory
of each dataset; writers swap it under one lock, readers pin the versions they read.

A version directory is locked shared by every connection that reads it and exclusively by the
import that writes it (its staging name) or removes it, so that an import removes a replaced
version only when no reader holds it, and the next import removes what killed imports left.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stvg.schemas import DATASET_TABLES
from stvg.stvgdata.atomic import write_bytes_atomic
from stvg.stvgdata.errors import FaultError
from stvg.stvgdata.workspace import Workspace

REPAIR_HINT = "run `stvg verify-catalog --repair`"
STAGING_PREFIX = ".staging-"
_VERSION_NAME = re.compile(r"^(?P<dataset>[^.].*)-(?P<stamp>\d{8}T\d{6})-[0-9a-f]{8}$")


@contextmanager
def catalog_lock(ws: Workspace) -> Iterator[None]:
    """Serialize index updates and cleanups between processes (imports may overlap)."""
    lock = ws.catalog_dir / ".lock"
    try:
        ws.catalog_dir.mkdir(parents=True, exist_ok=True)
        handle = open(lock, "w")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise FaultError.from_os_error(lock, exc) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_index(ws: Workspace) -> dict[str, str]:
    """Dataset name -> name of its current version directory; a damaged index is a FaultError."""
    try:
        text = ws.catalog_index.read_text()
    except FileNotFoundError:
        return {}
    try:
        index = json.loads(text)
    except ValueError as exc:
        raise FaultError(ws.catalog_index, f"damaged ({exc}); {REPAIR_HINT}") from None
    if not isinstance(index, dict) or not all(isinstance(v, str) for v in index.values()):
        raise FaultError(ws.catalog_index, f"damaged (not a dataset -> version map); {REPAIR_HINT}")
    return index


def write_index(ws: Workspace, index: dict[str, str]) -> None:
    """Replace the index in one step (call under ``catalog_lock``)."""
    write_bytes_atomic(ws.catalog_index, json.dumps(index, indent=2, sort_keys=True).encode())


def parse_version(name: str) -> tuple[str, str] | None:
    """``(dataset, timestamp)`` of a version directory name, None for anything else."""
    match = _VERSION_NAME.match(name)
    return (match["dataset"], match["stamp"]) if match else None


def lock_nowait(path: Path, mode: int) -> int | None:
    """An open descriptor of ``path`` holding ``flock(mode | LOCK_NB)``, None if it is held."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _unused(path: Path) -> bool:
    """Whether no reader or writer holds ``path``'s lock."""
    try:
        fd = lock_nowait(path, fcntl.LOCK_EX)
    except FileNotFoundError:
        return False
    if fd is not None:
        os.close(fd)
    return fd is not None


def remove_unused(path: Path) -> bool:
    """Remove a version or staging directory unless a reader or writer holds its lock."""
    try:
        fd = lock_nowait(path, fcntl.LOCK_EX)
    except FileNotFoundError:
        return False
    if fd is None:
        return False
    try:
        shutil.rmtree(path, ignore_errors=True)
    finally:
        os.close(fd)
    return True


def orphans(ws: Workspace) -> list[Path]:
    """What killed or failed imports left behind: staging directories and version directories
    the index does not name that no process holds, and temporary index files."""
    found: list[Path] = []
    if ws.versions_dir.is_dir():
        current = set(read_index(ws).values())
        for path in sorted(ws.versions_dir.iterdir()):
            if path.is_dir() and path.name not in current and _unused(path):
                found.append(path)
    found.extend(sorted(ws.catalog_dir.glob(f".{ws.catalog_index.name}.tmp-*")))
    return found


def clean_orphans(ws: Workspace) -> list[Path]:
    """Remove the ``orphans``; call under ``catalog_lock``."""
    removed: list[Path] = []
    for path in orphans(ws):
        if path.is_dir():
            if remove_unused(path):
                removed.append(path)
        else:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class VersionPins:
    """The version directories one connection reads, each held with a shared lock so that a
    concurrent re-import cannot remove them before the connection closes."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.fds: list[int] = []
        self.index: dict[str, str] = {}
        self.index_fault: FaultError | None = None
        try:
            self._pin()
        except FaultError as fault:
            self.index_fault = fault

    def _pin(self) -> None:
        index = read_index(self.ws)
        for _ in range(100):  # each retry follows an index swap that happened meanwhile
            pinned = {dataset: self._lock(version) for dataset, version in index.items()}
            now = read_index(self.ws)
            if now == index or all(pinned.values()):
                self.index = index
                return
            self.release()
            index = now
        raise FaultError(self.ws.catalog_index, "keeps changing; try again")

    def _lock(self, version: str) -> bool:
        """Share-lock one version directory; False when it is gone (retired or missing)."""
        path = self.ws.versions_dir / version
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits while a writer removes it
        self.fds.append(fd)
        return path.is_dir()

    def release(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()

    def files(self, table: str) -> list[Path]:
        """The pinned files of dataset table ``table``; FaultError when one is missing."""
        files: list[Path] = []
        if table in DATASET_TABLES:
            if self.index_fault is not None:
                raise self.index_fault
            for dataset, version in sorted(self.index.items()):
                directory = self.ws.versions_dir / version
                path = directory / f"{table}.parquet"
                if not path.is_file():
                    missing = path if directory.is_dir() else directory
                    reason = f"missing: the catalog of {dataset} is damaged; {REPAIR_HINT}"
                    raise FaultError(missing, reason)
                files.append(path)
        return files
