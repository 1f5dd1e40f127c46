"""Check the catalog's files and repair what a crash, a full disk or a damaged file left.

``verify_catalog`` lists each problem with the repair that ``repair_catalog`` applies:
- a damaged ``catalog/index.json`` is rebuilt from the newest complete version of each dataset;
- a dataset whose current version is missing or damaged falls back to its newest complete older
  version, else leaves the index (re-import it); a damaged version directory is moved to
  ``catalog/damaged/``;
- a damaged part of an append-only table is moved to ``catalog/damaged/<table>/`` (its rows
  leave the table);
- staging and retired version directories that no process holds are removed.
Nothing is deleted that could still hold readable rows: damaged files are moved aside.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from stvg.schemas import DATASET_TABLES, TABLES
from stvg.stvgdata.catalog import file_fault
from stvg.stvgdata.catalog_versions import (
    REPAIR_HINT,
    catalog_lock,
    clean_orphans,
    orphans,
    parse_version,
    read_index,
    write_index,
)
from stvg.stvgdata.errors import FaultError
from stvg.stvgdata.workspace import Workspace

DAMAGED_DIR = "damaged"


@dataclass(frozen=True)
class CatalogProblem:
    """One damaged or leftover file and what ``--repair`` does about it."""

    path: str
    problem: str
    repair: str

    @classmethod
    def of(cls, fault: FaultError, repair: str) -> CatalogProblem:
        return cls(fault.where, fault.reason.removesuffix(f"; {REPAIR_HINT}"), repair)


def _version_fault(ws: Workspace, version: str, deep: bool) -> FaultError | None:
    """The first missing or damaged table file of one version directory."""
    directory = ws.versions_dir / version
    if not directory.is_dir():
        return FaultError(directory, "missing")
    for table in DATASET_TABLES:
        fault = file_fault(directory / f"{table}.parquet", deep)
        if fault is not None:
            return fault
    return None


def _newest_complete(ws: Workspace, dataset: str, deep: bool) -> str | None:
    """The newest version directory of ``dataset`` whose table files all read."""
    if not ws.versions_dir.is_dir():
        return None
    parsed = [(parse_version(path.name), path.name) for path in ws.versions_dir.iterdir()]
    candidates = sorted((key[1], name) for key, name in parsed if key and key[0] == dataset)
    for _, version in reversed(candidates):
        if _version_fault(ws, version, deep) is None:
            return version
    return None


def _index_plan(
    ws: Workspace, deep: bool
) -> tuple[dict[str, str], list[CatalogProblem], list[str]]:
    """The index a repair writes, the problems found on the way, and the versions to move aside."""
    problems: list[CatalogProblem] = []
    to_move: list[str] = []
    try:
        index = read_index(ws)
    except FaultError as fault:
        datasets = {
            parsed[0]
            for path in (ws.versions_dir.iterdir() if ws.versions_dir.is_dir() else [])
            if (parsed := parse_version(path.name))
        }
        index = {dataset: "" for dataset in datasets}
        problems.append(CatalogProblem.of(fault, "rebuilt from the versions"))
    repaired: dict[str, str] = {}
    for dataset, version in sorted(index.items()):
        fault = _version_fault(ws, version, deep) if version else None
        if version and fault is None:
            repaired[dataset] = version
            continue
        fallback = _newest_complete(ws, dataset, deep)
        if fallback:
            repaired[dataset] = fallback
        if fault is not None:
            action = (
                f"{dataset} goes back to version {fallback}"
                if fallback
                else f"{dataset} leaves the catalog: re-import it with `stvg import {dataset}`"
            )
            problems.append(CatalogProblem.of(fault, action))
            if (ws.versions_dir / version).is_dir():
                to_move.append(version)
    return repaired, problems, to_move


def _damaged_parts(ws: Workspace, deep: bool) -> list[tuple[str, Path, FaultError]]:
    """(table, path, fault) of every unreadable part of an append-only table."""
    found = []
    for table in TABLES:
        part_dir = ws.table_dir(table)
        for path in sorted(part_dir.glob("part-*.parquet")) if part_dir.is_dir() else []:
            fault = file_fault(path, deep)
            if fault is not None:
                found.append((table, path, fault))
    return found


def verify_catalog(ws: Workspace, deep: bool = False) -> list[CatalogProblem]:
    """Every damaged or leftover catalog file with what ``repair_catalog`` would do about it."""
    ws.require()
    _, problems, _ = _index_plan(ws, deep)
    for table, _, fault in _damaged_parts(ws, deep):
        target = ws.catalog_dir / DAMAGED_DIR / table
        problems.append(CatalogProblem.of(fault, f"moved to {target}"))
    try:
        leftovers = orphans(ws)
    except FaultError:
        leftovers = []  # the index is damaged: reported above, leftovers are judged after repair
    problems.extend(CatalogProblem(str(p), "leftover of an import", "removed") for p in leftovers)
    return problems


def repair_catalog(ws: Workspace, deep: bool = False) -> list[CatalogProblem]:
    """Apply the repairs ``verify_catalog`` lists; returns them."""
    ws.require()
    try:
        return _repair(ws, deep)
    except OSError as exc:
        raise FaultError.from_os_error(ws.catalog_dir, exc, "cannot repair") from None


def _repair(ws: Workspace, deep: bool) -> list[CatalogProblem]:
    with catalog_lock(ws):
        index, problems, to_move = _index_plan(ws, deep)
        for version in to_move:
            _move_aside(ws.versions_dir / version, ws.catalog_dir / DAMAGED_DIR)
        write_index(ws, index)
        for table, path, fault in _damaged_parts(ws, deep):
            target = _move_aside(path, ws.catalog_dir / DAMAGED_DIR / table)
            problems.append(CatalogProblem.of(fault, f"moved to {target}"))
        removed = clean_orphans(ws)
    problems.extend(CatalogProblem(str(p), "leftover of an import", "removed") for p in removed)
    return problems


def _move_aside(path: Path, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / path.name
    shutil.move(path, target)
    return target
