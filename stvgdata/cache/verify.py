"""``stvg verify``: check every manifest row (feature arrays and region sets alike) against the
shard it points at, through its kind's check (``kinds``).

Shallow checks read metadata only (file, dataset, row range, shape, dtype, attributes) and
compare each row's input digest with the catalog's current input (a stale row is a problem; a
row without a digest is counted, not failed). ``deep`` also reads every row, which checks the
fletcher32 checksum of every chunk, and looks for NaN/inf. Duplicate manifest entries for one
item and overlapping row ranges are problems too, since readers would pick one arbitrarily.
Problems are recorded in the ``failures`` table (stage ``verify``), so that the next
``stvg extract`` computes those items again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import pyarrow as pa

from stvg.stvgdata.cache.checks import checksummed
from stvg.stvgdata.cache.digest import InputCheck
from stvg.stvgdata.cache.faults import StorageError, storage_faults
from stvg.stvgdata.cache.kinds import storage_of
from stvg.stvgdata.cache.manifest import item_of, manifest_rows
from stvg.stvgdata.cache.plan import SHARDS_DIR
from stvg.stvgdata.cache.repair import VERIFY_STAGE
from stvg.stvgdata.cache.shard import SHARD_SUFFIX
from stvg.stvgdata.catalog import append_rows, failure_row, query
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace


@dataclass(frozen=True)
class Problem:
    shard: str
    array_path: str
    item: str
    reason: str
    dataset: str = ""
    model: str = ""

    @classmethod
    def of(cls, row: dict[str, Any], reason: str) -> Problem:
        """The problem ``reason`` with manifest row ``row``."""
        shard, path = row["shard"], row["array_path"]
        return cls(shard, path, _item(row), reason, row["dataset"], row["model"])


@dataclass
class VerifyReport:
    rows_checked: int = 0
    shards_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)  # shard files no row points at
    no_digest: int = 0  # rows cached before input digests existed: inputs not comparable
    no_checksum: int = 0  # rows in arrays without fletcher32: deep reads can't see damage
    recorded: bool = True  # problems written to the failures table (False: read-only storage)

    @property
    def ok(self) -> bool:
        return not self.problems


def _item(row: dict[str, Any]) -> str:
    return item_of(row) or ""


def _group(row: dict[str, Any]) -> str:
    """The top HDF5 group of a row's array: the model, or a region set's part."""
    return row["array_path"].strip("/").split("/", 1)[0]


def _manifest_problems(rows: list[dict[str, Any]]) -> list[Problem]:
    """Duplicate items and overlapping row ranges within one array."""
    problems = []
    seen: dict[tuple[str, str, str, str], int] = defaultdict(int)
    ranges: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        seen[(row["dataset"], row["model"], _group(row), _item(row))] += 1
        ranges[(row["shard"], row["array_path"])].append(row)
    for (dataset, model, group, item), count in seen.items():
        if count > 1:
            where = model if group == model else f"{model} {group}"
            reason = f"{count} manifest rows for {dataset}/{where}"
            problems.append(Problem("", "", item, reason, dataset, model))
    for spans in ranges.values():
        spans.sort(key=lambda row: (row["row_start"], row["row_end"]))
        for before, row in zip(spans, spans[1:], strict=False):
            if row["row_start"] < before["row_end"] and before["row_start"] < before["row_end"]:
                problems.append(Problem.of(row, "row range overlaps another item"))
    return problems


def _input_checks(ws: Workspace, dataset: str | None) -> dict[str, InputCheck]:
    """dataset -> the check of its rows against the catalog's current videos and sentences."""
    where, params = ("WHERE dataset = ?", [dataset]) if dataset else ("", [])
    videos = query(ws, f"SELECT dataset, video_id, path FROM videos {where}", params)
    sentences = query(ws, f"SELECT dataset, query_id, sentence FROM queries {where}", params)
    paths: dict[str, dict[str, str]] = defaultdict(dict)
    texts: dict[str, dict[str, str]] = defaultdict(dict)
    for row in videos.to_pylist():
        paths[row["dataset"]][row["video_id"]] = row["path"]
    for row in sentences.to_pylist():
        texts[row["dataset"]][row["query_id"]] = row["sentence"]
    return {name: InputCheck(paths[name], texts[name]) for name in {*paths, *texts}}


def _input_problems(
    rows: list[dict[str, Any]], checks: dict[str, InputCheck], report: VerifyReport
) -> None:
    """Stale rows become problems; rows without a digest are counted."""
    empty = InputCheck({}, {})
    for row in rows:
        check = checks.get(row["dataset"], empty)
        if check.unknown(row):
            report.no_digest += 1
        elif (reason := check.stale_reason(row)) is not None:
            report.problems.append(Problem.of(row, f"stale: {reason}"))


def _record(ws: Workspace, report: VerifyReport) -> None:
    """Write the problems of items to the failures table, for the next extract to redo them."""
    rows = [
        failure_row(VERIFY_STAGE, p.dataset, p.item, p.reason, p.shard or None, p.model)
        for p in report.problems
        if p.item and p.model
    ]
    try:
        with storage_faults(ws.tables_dir):
            append_rows(ws, "failures", pa.Table.from_pylist(rows))
    except StorageError:
        report.recorded = False


def _check_shard(path: Path, rows: list[dict[str, Any]], deep: bool, report: VerifyReport) -> None:
    """Add the problems of the manifest rows of one shard file to ``report``."""
    if not path.is_file():
        report.problems.extend(Problem.of(row, "shard file missing") for row in rows)
        return
    try:
        with h5py.File(path, "r") as handle:
            for row in rows:
                reasons = storage_of(row).check(handle, row, deep)
                report.problems.extend(Problem.of(row, reason) for reason in reasons)
            report.no_checksum += sum(1 for row in rows if not checksummed(handle, row))
    except OSError as exc:
        reason = f"shard unreadable: {str(exc).splitlines()[0]}"
        report.problems.extend(Problem.of(row, reason) for row in rows)


def verify_cache(
    ws: Workspace,
    deep: bool = False,
    dataset: str | None = None,
    progress: ProgressFn | None = None,
    record: bool = True,
) -> VerifyReport:
    """Check the manifest (of ``dataset``, or all) against its shards and inputs; with
    ``record``, write the problems to the failures table (skipped on read-only storage)."""
    progress = progress or no_progress
    rows = manifest_rows(ws, dataset).to_pylist()
    report = VerifyReport(problems=_manifest_problems(rows))
    _input_problems(rows, _input_checks(ws, dataset), report)
    by_shard: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_shard[row["shard"]].append(row)
    for shard, shard_rows in by_shard.items():
        _check_shard(ws.features_dir / shard, shard_rows, deep, report)
        report.rows_checked += len(shard_rows)
        report.shards_checked += 1
        progress("verify", report.rows_checked, len(rows))
    shards_root = ws.features_dir / SHARDS_DIR / (dataset or "")
    if shards_root.is_dir():
        on_disk = {
            path.relative_to(ws.features_dir).as_posix()
            for path in shards_root.rglob(f"*{SHARD_SUFFIX}")
        }
        report.unreferenced = sorted(on_disk - set(by_shard))
    if record and report.problems:
        _record(ws, report)
    return report
