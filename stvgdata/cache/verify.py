"""``stvg verify``: check every manifest row against the shard it points at.

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
import numpy as np
import pyarrow as pa

from stvg.schemas.arrays import ARRAY_LAYOUTS, TOKEN_IDS_PATH
from stvg.stvgdata.cache.digest import InputCheck
from stvg.stvgdata.cache.faults import StorageError, storage_faults
from stvg.stvgdata.cache.manifest import item_column, manifest_rows
from stvg.stvgdata.cache.plan import SHARDS_DIR
from stvg.stvgdata.cache.repair import VERIFY_STAGE
from stvg.stvgdata.cache.shard import SHARD_SUFFIX, read_runs
from stvg.stvgdata.catalog import append_rows, failure_row, query
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

DEEP_READ_ROWS = 64  # rows per read in deep mode: bounded memory for 10-minute videos


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
    return row[item_column(row["model"])] or ""


def _check_row(handle: h5py.File, row: dict[str, Any], deep: bool) -> list[str]:
    """Reasons why ``row`` does not match its array (empty when it does)."""
    path = row["array_path"]
    if path not in handle:
        return [f"array {path} missing from the shard"]
    data = handle[path]
    start, stop = row["row_start"], row["row_end"]
    reasons = []
    if not 0 <= start < stop <= data.shape[0]:
        reasons.append(f"rows [{start}, {stop}) outside the array's {data.shape[0]} rows")
    if list(data.shape[1:]) != list(row["shape"]):
        reasons.append(f"row shape {list(data.shape[1:])} != manifest {row['shape']}")
    if data.dtype.name != row["dtype"]:
        reasons.append(f"dtype {data.dtype.name} != manifest {row['dtype']}")
    for attr in ("model", "fingerprint"):
        if data.attrs.get(attr) != row[attr]:
            reasons.append(f"attribute {attr}={data.attrs.get(attr)!r} != manifest {row[attr]!r}")
    if ARRAY_LAYOUTS[row["model"]].timeline == "frame":
        stored = np.asarray(data.attrs.get("frame_idx", []))
        if stop - start != len(row["frame_idx"]) or not np.array_equal(stored, row["frame_idx"]):
            reasons.append("frame_idx differs between the manifest and the array")
    else:
        ids = handle.get(TOKEN_IDS_PATH.format(model=row["model"]))
        if ids is None or ids.shape[0] != data.shape[0]:
            reasons.append("token ids missing or of another length than the features")
    if deep and not reasons:
        reasons.extend(_deep_reasons(handle, row))
    return reasons


def _unchecksummed(handle: h5py.File, rows: list[dict[str, Any]]) -> int:
    """How many of ``rows`` are stored without fletcher32 checksums."""
    paths = [row["array_path"] for row in rows]
    return sum(1 for path in paths if path in handle and not handle[path].fletcher32)


def _deep_reasons(handle: h5py.File, row: dict[str, Any]) -> list[str]:
    """Read every row of ``row`` (and its token ids) with checksums checked, unlike the
    training path's reads: checksum failures and NaN/inf."""
    start, stop = row["row_start"], row["row_end"]
    data = handle[row["array_path"]]
    for chunk_start in range(start, stop, DEEP_READ_ROWS):
        run = (chunk_start, min(stop, chunk_start + DEEP_READ_ROWS))
        try:
            block = read_runs(data, [run], verify_checksums=True)
        except OSError as exc:  # fletcher32 mismatch, or bytes HDF5 cannot decode
            return [f"damaged data in rows from {chunk_start}: {str(exc).splitlines()[0]}"]
        if not np.isfinite(block).all():
            return [f"non-finite values in rows from {chunk_start}"]
    if ARRAY_LAYOUTS[row["model"]].timeline == "token":
        try:
            ids = handle[TOKEN_IDS_PATH.format(model=row["model"])]
            read_runs(ids, [(start, stop)], verify_checksums=True)
        except OSError as exc:
            return [f"damaged token ids: {str(exc).splitlines()[0]}"]
    return []


def _manifest_problems(rows: list[dict[str, Any]]) -> list[Problem]:
    """Duplicate items and overlapping row ranges within one array."""
    problems = []
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    ranges: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        seen[(row["dataset"], row["model"], _item(row))] += 1
        ranges[(row["shard"], row["array_path"])].append(row)
    for (dataset, model, item), count in seen.items():
        if count > 1:
            reason = f"{count} manifest rows for {dataset}/{model}"
            problems.append(Problem("", "", item, reason, dataset, model))
    for spans in ranges.values():
        spans.sort(key=lambda row: (row["row_start"], row["row_end"]))
        for before, row in zip(spans, spans[1:], strict=False):
            if row["row_start"] < before["row_end"]:
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
                report.problems.extend(Problem.of(row, r) for r in _check_row(handle, row, deep))
            report.no_checksum += _unchecksummed(handle, rows)
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
