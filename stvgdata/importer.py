"""Import a dataset from its on-disk layout into the workspace catalog, and summarize what the
catalog holds.

An import either installs the whole new version of the dataset or nothing (see
``catalog.replace_dataset``): bad annotations raise ``BadInputError`` before anything is
written. Missing video files are not fatal: they become ``failures`` rows (stage ``import``)
so that annotation-only work can go on and extraction knows what to skip.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from stvg.schemas import empty_table, schema_for, validate_table
from stvg.stvgdata.adapters import ADAPTERS, Adapter
from stvg.stvgdata.adapters.base import gc_paused
from stvg.stvgdata.catalog import failure_row, query, replace_dataset
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

IMPORT_STAGE = "import"


@dataclass(frozen=True)
class ImportSummary:
    """What one import installed: rows per table and where the new version lives."""

    dataset: str
    layout: str
    root: Path
    version_dir: Path
    counts: dict[str, int]
    seconds: float


def choose_adapter(dataset: str, root: Path, layout: str | None = None) -> Adapter:
    """The adapter for ``dataset``: the named ``layout``, else the one layout found under root."""
    if dataset not in ADAPTERS:
        raise BadInputError("dataset", dataset, f"unknown dataset; known: {', '.join(ADAPTERS)}")
    _check_root(root)
    adapters = ADAPTERS[dataset]
    if layout is not None:
        for adapter in adapters:
            if adapter.layout == layout:
                return adapter
        known = ", ".join(a.layout for a in adapters)
        raise BadInputError.for_field(
            "layout", layout, f"unknown layout of {dataset}; known: {known}"
        )
    found = [adapter for adapter in adapters if adapter.detect(root)]
    if not found:
        expected = "; ".join(f"{a.layout}: {a.summary}" for a in adapters)
        raise BadInputError(root, None, f"no {dataset} layout found (expected {expected})")
    if len(found) > 1:
        names = ", ".join(a.layout for a in found)
        raise BadInputError(
            root, None, f"matches several {dataset} layouts ({names}); pass `layout`"
        )
    return found[0]


def _check_root(root: Path) -> None:
    if not root.is_dir():
        raise BadInputError(root, None, "root is not a directory")
    if next(root.iterdir(), None) is None:
        raise BadInputError(root, None, "root is empty")


def video_failures(dataset: str, videos: pa.Table, progress: ProgressFn) -> pa.Table:
    """One ``failures`` row per video whose file is missing or empty (files are not opened)."""
    rows: list[dict[str, object]] = []
    video_ids = videos.column("video_id").to_pylist()
    paths = videos.column("path").to_pylist()
    for done, (video_id, path) in enumerate(zip(video_ids, paths, strict=True), 1):
        file = Path(path)
        problem = None
        if not file.is_file():
            problem = "video file not found"
        elif file.stat().st_size == 0:
            problem = "video file is empty"
        if problem:
            rows.append(failure_row(IMPORT_STAGE, dataset, video_id, problem, path))
        if done % 1000 == 0 or done == len(paths):
            progress("check videos", done, len(paths))
    table = pa.Table.from_pylist(rows, schema=schema_for("failures"))
    return validate_table("failures", table, dataset)


def import_dataset(
    ws: Workspace,
    dataset: str,
    root: Path,
    layout: str | None = None,
    check_videos: bool = True,
    progress: ProgressFn | None = None,
) -> ImportSummary:
    """Read ``dataset`` under ``root`` and replace its catalog tables in one atomic step.

    ``check_videos=False`` skips the video-file check (annotation-only copies at catalog scale).
    """
    progress = progress or no_progress
    started = time.perf_counter()
    root = Path(root).expanduser().resolve()
    adapter = choose_adapter(dataset, root, layout)
    with gc_paused():  # every layout: parsed annotations hold no cycles
        tables = adapter.read(root, dataset, progress)
    failures = (
        video_failures(dataset, tables.videos, progress)
        if check_videos
        else empty_table("failures")
    )
    progress("write catalog", 0, 1)
    version_dir = replace_dataset(
        ws,
        dataset,
        {
            "videos": tables.videos,
            "queries": tables.queries,
            "boxes": tables.boxes,
            "failures": failures,
        },
    )
    progress("write catalog", 1, 1)
    counts = {
        "videos": tables.videos.num_rows,
        "queries": tables.queries.num_rows,
        "boxes": tables.boxes.num_rows,
        "failures": failures.num_rows,
    }
    return ImportSummary(
        dataset, adapter.layout, root, version_dir, counts, time.perf_counter() - started
    )


# Per dataset and split: videos, queries by sentence type, mean tube length, missing videos.
SUMMARY_SQL = """
WITH per_video AS (
    SELECT v.dataset, v.split, count(*) AS videos, count(f.item) AS missing_videos
    FROM videos v
    LEFT JOIN (SELECT DISTINCT dataset, item FROM failures WHERE stage = 'import') f
        ON f.dataset = v.dataset AND f.item = v.video_id
    GROUP BY v.dataset, v.split
),
per_query AS (
    SELECT q.dataset, q.split,
        count(*) AS queries,
        count(*) FILTER (WHERE q.sentence_type = 'declarative') AS declarative,
        count(*) FILTER (WHERE q.sentence_type = 'interrogative') AS interrogative,
        avg(q.tube_end_frame - q.tube_start_frame) AS mean_tube_frames,
        avg((q.tube_end_frame - q.tube_start_frame) / v.fps) AS mean_tube_seconds
    FROM queries q JOIN videos v ON v.dataset = q.dataset AND v.video_id = q.video_id
    GROUP BY q.dataset, q.split
)
SELECT pv.dataset, pv.split, pv.videos,
    coalesce(pq.queries, 0) AS queries,
    coalesce(pq.declarative, 0) AS declarative,
    coalesce(pq.interrogative, 0) AS interrogative,
    round(pq.mean_tube_frames, 1) AS mean_tube_frames,
    round(pq.mean_tube_seconds, 2) AS mean_tube_seconds,
    pv.missing_videos
FROM per_video pv LEFT JOIN per_query pq USING (dataset, split)
ORDER BY pv.dataset, CASE pv.split WHEN 'train' THEN 0 WHEN 'val' THEN 1 ELSE 2 END
"""


def catalog_summary(ws: Workspace) -> pa.Table:
    """Per dataset and split counts and mean tube length (what ``stvg info`` prints)."""
    return query(ws, SUMMARY_SQL)
