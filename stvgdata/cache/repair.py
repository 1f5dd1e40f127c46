"""Which cached items ``extract`` computes again, and why.

An item cached under the current fingerprint is redone when its input changed (stale digest),
when its row predates input digests (unknown), when its shard file is gone, or when ``verify``
recorded a problem with it after the row was written. Only the manifest, the ``failures`` table
and one ``stat`` per shard and video are read: no shard is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from stvg.stvgdata.cache.digest import InputCheck
from stvg.stvgdata.cache.manifest import item_of
from stvg.stvgdata.catalog import query
from stvg.stvgdata.workspace import Workspace

VERIFY_STAGE = "verify"  # the failures rows verify records, read back here


@dataclass(frozen=True)
class Redo:
    """A cached item to compute again."""

    model: str
    item: str  # video id (frame models) or query id (text models)
    reason: str


def verify_flags(ws: Workspace, dataset: str) -> dict[tuple[str, str], tuple[datetime, str]]:
    """(model, item) -> (time, reason) of the latest problem ``verify`` recorded."""
    rows = query(
        ws,
        "SELECT model, item, error, created_at FROM failures WHERE stage = ? AND dataset = ? "
        "ORDER BY created_at",
        [VERIFY_STAGE, dataset],
    ).to_pylist()
    return {(row["model"], row["item"]): (row["created_at"], row["error"]) for row in rows}


def items_to_redo(
    features_dir: Path,
    rows: list[dict[str, Any]],
    check: InputCheck,
    flags: dict[tuple[str, str], tuple[datetime, str]],
) -> list[Redo]:
    """The cached items of ``rows`` (one model's) whose features can't be served as they are."""
    shard_present: dict[str, bool] = {}
    redo: dict[str, Redo] = {}
    for row in rows:
        item = item_of(row)
        shard = row["shard"]
        if shard not in shard_present:
            shard_present[shard] = (features_dir / shard).is_file()
        flag = flags.get((row["model"], item))
        reason = check.stale_reason(row)
        if not shard_present[shard]:
            reason = f"its shard {shard} is missing"
        elif reason is None and flag is not None and flag[0] > row["created_at"]:
            reason = f"verify found: {flag[1]}"
        elif reason is None and check.unknown(row):
            reason = "cached before input digests were recorded"
        if reason is not None:
            redo.setdefault(item, Redo(row["model"], item, reason))
    return list(redo.values())
