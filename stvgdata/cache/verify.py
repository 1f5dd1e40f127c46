"""``stvg verify``: check every manifest row against the shard it points at.

Shallow checks read metadata only (file, dataset, row range, shape, dtype, attributes);
``deep`` also reads every row and looks for NaN/inf. Duplicate manifest entries for one item
and overlapping row ranges are problems too, since readers would pick one arbitrarily.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

from schemas.arrays import ARRAY_LAYOUTS, TOKEN_IDS_PATH
from stvgdata.cache.manifest import item_column, manifest_rows
from stvgdata.cache.plan import SHARDS_DIR
from stvgdata.cache.shard import SHARD_SUFFIX
from stvgdata.progress import ProgressFn, no_progress
from stvgdata.workspace import Workspace

DEEP_READ_ROWS = 64  # rows per read in deep mode: bounded memory for 10-minute videos


@dataclass(frozen=True)
class Problem:
    shard: str
    array_path: str
    item: str
    reason: str


@dataclass
class VerifyReport:
    rows_checked: int = 0
    shards_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)  # shard files no row points at

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
        for chunk_start in range(start, stop, DEEP_READ_ROWS):
            block = data[chunk_start : min(stop, chunk_start + DEEP_READ_ROWS)]
            if not np.isfinite(block).all():
                reasons.append(f"non-finite values in rows from {chunk_start}")
                break
    return reasons


def _manifest_problems(rows: list[dict[str, Any]]) -> list[Problem]:
    """Duplicate items and overlapping row ranges within one array."""
    problems = []
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    ranges: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
    for row in rows:
        seen[(row["dataset"], row["model"], _item(row))] += 1
        ranges[(row["shard"], row["array_path"])].append(
            (row["row_start"], row["row_end"], _item(row))
        )
    for (dataset, model, item), count in seen.items():
        if count > 1:
            problems.append(Problem("", "", item, f"{count} manifest rows for {dataset}/{model}"))
    for (shard, path), spans in ranges.items():
        spans.sort()
        for (_, end, _), (start, _, item) in zip(spans, spans[1:], strict=False):
            if start < end:
                problems.append(Problem(shard, path, item, "row range overlaps another item"))
    return problems


def verify_cache(
    ws: Workspace,
    deep: bool = False,
    dataset: str | None = None,
    progress: ProgressFn | None = None,
) -> VerifyReport:
    """Check the manifest (of ``dataset``, or all) against its shards."""
    progress = progress or no_progress
    rows = manifest_rows(ws, dataset).to_pylist()
    report = VerifyReport(problems=_manifest_problems(rows))
    by_shard: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_shard[row["shard"]].append(row)
    for shard, shard_rows in by_shard.items():
        try:
            with h5py.File(ws.features_dir / shard, "r") as handle:
                for row in shard_rows:
                    for reason in _check_row(handle, row, deep):
                        report.problems.append(
                            Problem(shard, row["array_path"], _item(row), reason)
                        )
        except OSError as exc:
            reason = f"shard unreadable: {str(exc).splitlines()[0]}"
            report.problems.extend(
                Problem(shard, row["array_path"], _item(row), reason) for row in shard_rows
            )
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
    return report
