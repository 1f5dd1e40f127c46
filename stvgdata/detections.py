"""Detector output as catalog data: per-frame boxes read from JSON or Parquet, checked against
the catalog's videos, and installed as the ``detections`` of one (dataset, source).

Accepted files (docs/detections.md):
- JSON nested: ``{video_id: {frame_idx: [{"box": [x1, y1, x2, y2], "score": s, "label": l}]}}``;
- JSON flat: ``[{"video_id": v, "frame_idx": f, "box": [x1, y1, x2, y2], "score": s,
  "label": l}, ...]``;
- Parquet: columns video_id, frame_idx, x1, y1, x2, y2, score, label (others are ignored); the
  schema metadata key ``stvg:source`` may name the source (the synthetic benchmark's file does).
Frames are absolute (0-based) frame indices, boxes pixel corners inside the frame.

Detections are keyed parts of an append-only table (``catalog.replace_part``), not dataset
tables: they come from a separate tool at a separate time, several sources may coexist for one
dataset, and ``stvg import`` must not have to carry them. Re-importing the same source replaces
its rows in one rename and drops the tubelets tracked from the old ones.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stvg.schemas import empty_table
from stvg.stvgdata.catalog import query, replace_part
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

SOURCE_METADATA_KEY = b"stvg:source"
FRAME_KEY = re.compile(r"-?\d+")
BOX_COLUMNS = ("x1", "y1", "x2", "y2")
INPUT_SCHEMA = pa.schema(
    [
        ("video_id", pa.string()),
        ("frame_idx", pa.int64()),
        *[(name, pa.float64()) for name in BOX_COLUMNS],
        ("score", pa.float64()),
        ("label", pa.string()),
    ]
)
"""What every reader returns, whatever the file's format."""


@dataclass(frozen=True)
class DetectionsFile:
    """A file's detections as ``INPUT_SCHEMA`` rows; ``locate(row)`` says where a row is in the
    file (for error messages); ``source`` is the source the file declares, if any."""

    rows: pa.Table
    locate: Callable[[int], str]
    source: str | None = None


@dataclass(frozen=True)
class ImportDetectionsSummary:
    dataset: str
    source: str
    path: str
    detections: int
    videos: int
    frames: int
    seconds: float


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _detection(path: Path, where: str, item: object) -> tuple[list[float], float, str]:
    """(box, score, label) of one JSON detection object; structure errors name the record."""
    if not isinstance(item, dict):
        raise BadInputError(path, where, "a detection must be an object {box, score, label}")
    box, score, label = item.get("box"), item.get("score"), item.get("label")
    if not (isinstance(box, list) and len(box) == 4 and all(map(_is_number, box))):
        raise BadInputError(path, where, f"box must be 4 numbers [x1, y1, x2, y2], got {box!r}")
    if not _is_number(score):
        raise BadInputError(path, where, f"score must be a number, got {score!r}")
    if not isinstance(label, str):
        raise BadInputError(path, where, f"label must be a string, got {label!r}")
    return box, score, label


def _nested_records(path: Path, data: dict) -> tuple[list[tuple], list[str]]:
    records, places = [], []
    for video_id, frames in data.items():
        if not isinstance(frames, dict):
            raise BadInputError(path, f"video {video_id!r}", "must map frame_idx -> detections")
        for key, items in frames.items():
            where = f"video {video_id!r} frame {key!r}"
            if not FRAME_KEY.fullmatch(key):
                raise BadInputError(path, where, "frame key must be an integer frame index")
            if not isinstance(items, list):
                raise BadInputError(path, where, "must be a list of detections")
            for j, item in enumerate(items):
                places.append(f"{where} detection {j}")
                records.append((video_id, int(key), *_detection(path, places[-1], item)))
    return records, places


def _flat_records(path: Path, data: list) -> list[tuple]:
    records = []
    for i, item in enumerate(data):
        where = f"record {i}"
        if not isinstance(item, dict):
            raise BadInputError(path, where, "must be an object")
        video_id, frame = item.get("video_id"), item.get("frame_idx")
        if not isinstance(video_id, str):
            raise BadInputError(path, where, f"video_id must be a string, got {video_id!r}")
        if not isinstance(frame, int) or isinstance(frame, bool):
            raise BadInputError(path, where, f"frame_idx must be an integer, got {frame!r}")
        records.append((video_id, frame, *_detection(path, where, item)))
    return records


def read_json(path: Path) -> DetectionsFile:
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise BadInputError(path, None, f"not valid JSON: {exc}") from None
    if isinstance(data, dict):
        records, places = _nested_records(path, data)
        locate = places.__getitem__
    elif isinstance(data, list):
        records, locate = _flat_records(path, data), "record {}".format
    else:
        raise BadInputError(path, None, "must be an object keyed by video_id or a list of records")
    video_ids, frames, boxes, scores, labels = list(zip(*records, strict=True)) or [()] * 5
    box_array = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    columns = [list(video_ids), list(frames), *box_array.T, list(scores), list(labels)]
    return DetectionsFile(pa.Table.from_arrays(columns, schema=INPUT_SCHEMA), locate)


def read_parquet(path: Path) -> DetectionsFile:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInputError(path, None, f"not a readable Parquet file: {exc}") from None
    missing = [name for name in INPUT_SCHEMA.names if name not in table.column_names]
    if missing:
        raise BadInputError(path, None, f"missing columns {missing}")
    try:
        rows = table.select(INPUT_SCHEMA.names).cast(INPUT_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise BadInputError(path, None, f"columns do not have the expected types: {exc}") from None
    for name in rows.column_names:
        if rows.column(name).null_count:
            first = pc.index(pc.is_null(rows.column(name)), True).as_py()
            raise BadInputError(path, f"row {first}", f"{name} is null")
    source = (table.schema.metadata or {}).get(SOURCE_METADATA_KEY)
    return DetectionsFile(rows, "row {}".format, source.decode() if source else None)


READERS: dict[str, Callable[[Path], DetectionsFile]] = {
    ".json": read_json,
    ".parquet": read_parquet,
    ".pq": read_parquet,
}


def read_detections_file(path: Path) -> DetectionsFile:
    """The detections of a JSON or Parquet file (chosen by its suffix), structure-checked."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, None, "no such file")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise BadInputError(path, None, f"unknown detections format; use one of {list(READERS)}")
    return reader(path)


def dataset_videos(ws: Workspace, dataset: str) -> pa.Table:
    """video_id, num_frames, width, height of the dataset's videos in the catalog."""
    videos = query(
        ws, "SELECT video_id, num_frames, width, height FROM videos WHERE dataset = ?", [dataset]
    )
    if videos.num_rows == 0:
        raise BadInputError(dataset, None, "no videos in the catalog; run `stvg import` first")
    return videos


def check_against_videos(path: Path, found: DetectionsFile, videos: pa.Table) -> None:
    """Every row names a known video, a frame inside it, a non-empty box inside the frame and a
    finite score >= 0; the first row that does not raises BadInputError naming it."""
    rows = found.rows
    video_ids = rows.column("video_id")
    index = pc.index_in(video_ids, value_set=videos.column("video_id"))
    if index.null_count:
        first = pc.index(pc.is_null(index), True).as_py()
        reason = f"unknown video {video_ids[first].as_py()!r} (not among the dataset's videos)"
        raise BadInputError(path, found.locate(first), reason)
    index = index.to_numpy()
    frames = rows.column("frame_idx").to_numpy()
    num_frames = videos.column("num_frames").to_numpy()[index]
    width = videos.column("width").to_numpy()[index]
    height = videos.column("height").to_numpy()[index]
    x1, y1, x2, y2 = (rows.column(name).to_numpy() for name in BOX_COLUMNS)
    score = rows.column("score").to_numpy()
    checks = [
        (
            (frames < 0) | (frames >= num_frames),
            lambda i: f"frame {frames[i]} is outside the video ({num_frames[i]} frames)",
        ),
        (
            ~((x2 > x1) & (y2 > y1)),
            lambda i: (
                f"box {[x1[i], y1[i], x2[i], y2[i]]} is empty or not a number "
                "(needs x2 > x1 and y2 > y1)"
            ),
        ),
        (
            (x1 < 0) | (y1 < 0) | (x2 > width) | (y2 > height),
            lambda i: (
                f"box {[x1[i], y1[i], x2[i], y2[i]]} is outside the {width[i]}x{height[i]} frame"
            ),
        ),
        (
            ~(np.isfinite(score) & (score >= 0)),
            lambda i: f"score {score[i]} is not a finite number >= 0",
        ),
    ]
    for bad, reason in checks:
        if bad.any():
            first = int(np.argmax(bad))
            raise BadInputError(path, found.locate(first), reason(first))


def import_detections(
    ws: Workspace,
    dataset: str,
    path: Path,
    source: str | None = None,
    progress: ProgressFn | None = None,
) -> ImportDetectionsSummary:
    """Read, check and install a detections file as the rows of (dataset, source); ``source``
    defaults to what the file declares, else the file's absolute path. All or nothing."""
    started = time.perf_counter()
    report = progress or no_progress
    path = Path(path)
    videos = dataset_videos(ws, dataset)
    found = read_detections_file(path)
    report("detections", 1, 3)
    check_against_videos(path, found, videos)
    report("detections", 2, 3)
    source = source or found.source or str(path.resolve())
    rows = found.rows.sort_by([("video_id", "ascending"), ("frame_idx", "ascending")])
    count = rows.num_rows
    table = rows.add_column(0, "dataset", pa.array([dataset] * count, pa.string()))
    table = table.append_column("source", pa.array([source] * count, pa.string()))
    replace_part(ws, "detections", (dataset, source), table)
    replace_part(ws, "tubelets", (dataset, source), empty_table("tubelets"))  # now stale
    report("detections", 3, 3)
    return ImportDetectionsSummary(
        dataset,
        source,
        str(path.resolve()),
        count,
        len(pc.unique(rows.column("video_id"))),
        rows.group_by(["video_id", "frame_idx"]).aggregate([]).num_rows,
        time.perf_counter() - started,
    )
