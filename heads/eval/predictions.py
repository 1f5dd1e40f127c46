"""The one in-memory prediction type every head produces, and the files that carry predictions.

Two file formats:
- ``stvg``: our own JSON (``{"format": "stvg-predictions", "version": 1, "predictions": [...]}``),
  one record per query with absolute frame indices, a half-open predicted tube and pixel xyxy
  boxes; ``write_stvg_predictions`` / ``read_stvg_predictions`` round-trip it exactly;
- ``tubedetr``: the result dictionaries of TubeDETR's evaluators (``video_predictions``:
  ``{id: {"sted": [start, end_exclusive]}}``, ``predictions``: ``{"<id>_<frame>": {"boxes":
  [[x1, y1, x2, y2]]}}``), alone or nested one level deep as in TubeDETR's ``log_stats.json``.
  TubeDETR keys queries by its running sentence id; ``id_map`` turns those into catalog query ids.
  On HC-STVG TubeDETR counts frames one later than the catalog (``TUBEDETR_FRAME_SHIFT``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson
import pyarrow as pa

from stvg.stvgdata.atomic import write_bytes_atomic
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

if TYPE_CHECKING:
    from stvg.heads.runs import Run

STVG_FORMAT = "stvg-predictions"
STVG_VERSION = 1
FORMATS = ("auto", "stvg", "tubedetr")
# TubeDETR's frame index minus the catalog's, per dataset. TubeDETR reads HC-STVG's 1-based
# st_frame as 0-based, so its frame f carries the annotation the catalog stores at frame f - 1
# (bbox[f - st_frame]); its VidSTG frames are the catalog's.
TUBEDETR_FRAME_SHIFT = {"hcstvg-v1": 1, "hcstvg-v2": 1}


@dataclass(frozen=True, eq=False)
class QueryPrediction:
    """A predicted tube: the interval [start_frame, end_frame) and boxes on some frames.

    ``frame_idx`` (M,) int64 holds absolute frame indices, strictly increasing; ``boxes`` (M, 4)
    float64 holds pixel xyxy boxes on those frames. Boxes may lie outside the predicted interval
    (sIoU scores boxes on every ground-truth frame, whatever the predicted timing).
    """

    query_id: str
    start_frame: int
    end_frame: int
    frame_idx: np.ndarray
    boxes: np.ndarray

    def __post_init__(self) -> None:
        frame_idx = np.asarray(self.frame_idx, dtype=np.int64).reshape(-1)
        boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        if len(frame_idx) != len(boxes):
            raise ValueError(
                f"{self.query_id}: {len(frame_idx)} frame indices but {len(boxes)} boxes"
            )
        if len(frame_idx) > 1 and not np.all(np.diff(frame_idx) > 0):
            raise ValueError(f"{self.query_id}: frame_idx must be strictly increasing")
        object.__setattr__(self, "start_frame", int(self.start_frame))
        object.__setattr__(self, "end_frame", int(self.end_frame))
        object.__setattr__(self, "frame_idx", frame_idx)
        object.__setattr__(self, "boxes", boxes)


def _checked_prediction(
    file: object,
    record: object,
    query_id: str,
    interval: tuple[float, float],
    boxes_by_frame: Mapping[int, object],
    frame_shift: int = 0,
) -> QueryPrediction:
    """Build a prediction from file values, raising BadInputError naming ``file``/``record``.

    ``frame_shift`` is subtracted from every frame (``TUBEDETR_FRAME_SHIFT``): frames that fall
    before the video's first frame have no catalog counterpart, so their boxes are dropped and a
    start there becomes 0.
    """
    start, end = (
        _frame_number(file, record, "start/end", value) - frame_shift for value in interval
    )
    if frame_shift:
        start = max(start, 0)
        boxes_by_frame = {
            frame - frame_shift: box
            for frame, box in boxes_by_frame.items()
            if frame >= frame_shift
        }
    if end <= start:
        raise BadInputError(file, record, f"predicted end {end} is not after start {start}")
    if start < 0:
        raise BadInputError(file, record, f"predicted start {start} is negative")
    frames = sorted(boxes_by_frame)
    if frames and frames[0] < 0:
        raise BadInputError(file, record, f"frame index {frames[0]} is negative")
    values = [_unwrapped(boxes_by_frame[frame]) for frame in frames]
    boxes = _box_array(values)
    # Not an (M, 4) array: some value is no box (check all); else check only the flagged rows.
    suspects = range(len(values)) if boxes is None else np.flatnonzero(_bad_boxes(boxes))
    for row in suspects:  # the first bad box raises, naming its frame
        _checked_box(file, f"{record} frame {frames[row]}", values[row])
    return QueryPrediction(query_id, start, end, np.asarray(frames, dtype=np.int64), boxes)


def _unwrapped(value: object) -> object:
    """TubeDETR writes one box per frame as ``[[x1, y1, x2, y2]]``; we accept it bare too."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        return value[0]
    return value


def _box_array(values: list) -> np.ndarray | None:
    """Boxes (M, 4) float64 from M lists of 4 numbers, or None when they are not that."""
    if not values:
        return np.zeros((0, 4), dtype=np.float64)
    try:
        boxes = np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError):
        return None
    if boxes.shape != (len(values), 4):
        return None
    numbers = all(type(v) in (int, float) for box in values for v in box)  # no bools or strings
    return boxes if numbers else None


def _bad_boxes(boxes: np.ndarray) -> np.ndarray:
    """(M,) True where a box has non-finite numbers, x2 <= x1 or y2 <= y1."""
    finite = np.isfinite(boxes).all(axis=1)
    return ~finite | (boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])


def _frame_number(file: object, record: object, what: str, value: object) -> int:
    """A frame index given as an int or an integral float (TubeDETR writes floats)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInputError(file, record, f"{what} {value!r} is not a number")
    if not math.isfinite(value) or value != int(value):
        raise BadInputError(file, record, f"{what} {value!r} is not a whole frame index")
    return int(value)


def _checked_box(file: object, record: str, value: object) -> np.ndarray:
    """One pixel xyxy box ``[x1, y1, x2, y2]`` with x2 > x1 and y2 > y1, else BadInputError."""
    if not (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise BadInputError(file, record, f"box {value!r} is not 4 numbers x1, y1, x2, y2")
    box = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(box)):
        raise BadInputError(file, record, f"box {value!r} has non-finite numbers")
    if box[2] <= box[0] or box[3] <= box[1]:
        raise BadInputError(file, record, f"box {value!r} has x2 <= x1 or y2 <= y1")
    return box


def _load_json(path: Path) -> object:
    try:
        return orjson.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise BadInputError(path, None, "file not found") from None
    except orjson.JSONDecodeError as exc:
        raise BadInputError(path, None, f"malformed JSON: {exc}") from None


def write_stvg_predictions(path: Path, predictions: Iterable[QueryPrediction]) -> None:
    """Write predictions in stvg's own JSON format (atomically: temp name, then rename)."""
    records = [
        {
            "query_id": pred.query_id,
            "start_frame": pred.start_frame,
            "end_frame": pred.end_frame,
            "frame_idx": pred.frame_idx.tolist(),
            "boxes": pred.boxes.tolist(),
        }
        for pred in predictions
    ]
    document = {"format": STVG_FORMAT, "version": STVG_VERSION, "predictions": records}
    write_bytes_atomic(Path(path), orjson.dumps(document))


def read_stvg_predictions(path: Path) -> dict[str, QueryPrediction]:
    """Read stvg's JSON predictions; query ids are catalog query ids."""
    return _stvg_from_document(path, _load_json(path))


def _stvg_from_document(path: Path, document: object) -> dict[str, QueryPrediction]:
    if not (isinstance(document, dict) and document.get("format") == STVG_FORMAT):
        raise BadInputError(path, None, f"not an stvg predictions file (format != {STVG_FORMAT})")
    if document.get("version") != STVG_VERSION:
        raise BadInputError(path, None, f"unsupported version {document.get('version')!r}")
    records = document.get("predictions")
    if not isinstance(records, list):
        raise BadInputError(path, "predictions", "must be a list of records")
    result: dict[str, QueryPrediction] = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict) or not isinstance(record.get("query_id"), str):
            raise BadInputError(path, f"predictions[{index}]", "record lacks a string query_id")
        query_id = record["query_id"]
        frames, boxes = record.get("frame_idx"), record.get("boxes")
        if not (isinstance(frames, list) and isinstance(boxes, list) and len(frames) == len(boxes)):
            raise BadInputError(path, query_id, "frame_idx and boxes must be lists of one length")
        if query_id in result:
            raise BadInputError(path, query_id, "query predicted twice")
        by_frame = {
            _frame_number(path, query_id, "frame_idx", frame): box
            for frame, box in zip(frames, boxes, strict=True)
        }
        if len(by_frame) != len(frames):
            raise BadInputError(path, query_id, "a frame index appears twice")
        interval = (record.get("start_frame"), record.get("end_frame"))
        result[query_id] = _checked_prediction(path, query_id, query_id, interval, by_frame)
    return result


def _tubedetr_sections(path: Path, document: object) -> tuple[dict, dict]:
    """The ``video_predictions`` and ``predictions`` dicts, at the top or one level down."""
    keys = ("video_predictions", "predictions")
    if isinstance(document, dict) and all(isinstance(document.get(k), dict) for k in keys):
        return document["video_predictions"], document["predictions"]
    nested = (
        [v for v in document.values() if isinstance(v, dict) and all(k in v for k in keys)]
        if isinstance(document, dict)
        else []
    )
    if len(nested) != 1:
        found = "several result sections" if nested else "no result section"
        raise BadInputError(
            path,
            None,
            f"not a TubeDETR result file: {found} with 'video_predictions' and 'predictions'",
        )
    return _tubedetr_sections(path, nested[0])


def _boxes_by_tubedetr_id(path: Path, frame_predictions: dict) -> dict[str, dict[int, object]]:
    """Group ``{"<id>_<frame>": {"boxes": ...}}`` by TubeDETR id, then by frame."""
    grouped: dict[str, dict[int, object]] = {}
    for key, value in frame_predictions.items():
        source_id, _, frame = key.rpartition("_")
        if not source_id or not frame.isdigit():
            raise BadInputError(path, f"predictions[{key!r}]", "key is not '<id>_<frame>'")
        if not isinstance(value, dict) or "boxes" not in value:
            raise BadInputError(path, f"predictions[{key!r}]", "entry lacks 'boxes'")
        grouped.setdefault(source_id, {})[int(frame)] = value["boxes"]
    return grouped


def read_tubedetr_predictions(
    path: Path, id_map: Mapping[str, str], frame_shift: int = 0
) -> dict[str, QueryPrediction]:
    """Read a TubeDETR-style result file; ``id_map`` maps TubeDETR ids to catalog query ids,
    ``frame_shift`` its frames to the catalog's (``TUBEDETR_FRAME_SHIFT`` of the dataset).

    Every id must be known to ``id_map`` and every box id must have a ``sted`` entry: a file
    written for another split or dataset fails here, naming the first unknown id.
    """
    return _tubedetr_from_document(path, _load_json(path), id_map, frame_shift)


def _tubedetr_from_document(
    path: Path, document: object, id_map: Mapping[str, str], frame_shift: int
) -> dict[str, QueryPrediction]:
    video_predictions, frame_predictions = _tubedetr_sections(path, document)
    boxes = _boxes_by_tubedetr_id(path, frame_predictions)
    orphans = sorted(set(boxes) - set(video_predictions))
    if orphans:
        raise BadInputError(path, f"predictions id {orphans[0]}", "boxes without a 'sted' entry")
    result: dict[str, QueryPrediction] = {}
    for source_id, entry in video_predictions.items():
        where = f"video_predictions[{source_id!r}]"
        query_id = id_map.get(source_id)
        if query_id is None:
            raise BadInputError(
                path,
                where,
                "unknown id: no query of this split has it as query_id or source_query_id "
                "(TubeDETR's preprocessed annotations can map it: `annotations`)",
            )
        sted = entry.get("sted") if isinstance(entry, dict) else None
        if not (isinstance(sted, list) and len(sted) == 2):
            raise BadInputError(path, where, "'sted' must be [start, end]")
        if query_id in result:
            raise BadInputError(path, where, f"query {query_id} predicted twice")
        result[query_id] = _checked_prediction(
            path, where, query_id, (sted[0], sted[1]), boxes.get(source_id, {}), frame_shift
        )
    return result


def read_predictions(
    path: Path, fmt: str, id_map: Mapping[str, str], tubedetr_frame_shift: int = 0
) -> dict[str, QueryPrediction]:
    """Read a predictions file in ``fmt`` (one of FORMATS); ``id_map`` and
    ``tubedetr_frame_shift`` serve TubeDETR files (see ``read_tubedetr_predictions``).

    ``auto`` picks ``stvg`` when the document declares our format, else ``tubedetr``.
    """
    if fmt not in FORMATS:
        raise BadInputError(path, None, f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    document = _load_json(path)
    declares_stvg = isinstance(document, dict) and document.get("format") == STVG_FORMAT
    if fmt == "stvg" or (fmt == "auto" and declares_stvg):
        return _stvg_from_document(path, document)
    return _tubedetr_from_document(path, document, id_map, tubedetr_frame_shift)


def read_file_predictions(
    path: Path, fmt: str, dataset: str, queries: pa.Table, annotations: Path | None = None
) -> dict[str, QueryPrediction]:
    """A predictions file (``fmt``: one of FORMATS) for the catalog ``queries`` of ``dataset``:
    TubeDETR ids resolve through the catalog (and ``annotations``), TubeDETR frames shift by
    the dataset's ``TUBEDETR_FRAME_SHIFT``."""
    shift = TUBEDETR_FRAME_SHIFT.get(dataset, 0)
    return read_predictions(path, fmt, tubedetr_id_map(queries, annotations, shift), shift)


def run_predictions(
    ws: Workspace, run: Run, dataset: str, split: str, progress: ProgressFn = no_progress
) -> dict[str, QueryPrediction]:
    """A trained run's predictions on ``dataset``/``split``, made by its method; refused in
    one line when a feature set the run read has another fingerprint in the cache now."""
    # imported here: the registry's methods and heads.runs import this module
    from stvg.heads.registry import get_method, require
    from stvg.heads.runs import check_features_unchanged

    check_features_unchanged(ws, run)
    return require(get_method(run.method), "predict")(ws, run, dataset, split, progress)


def tubedetr_id_map(
    queries: pa.Table, annotations: Path | None = None, frame_shift: int = 0
) -> dict[str, str]:
    """TubeDETR sentence id -> catalog query id, for the catalog ``queries`` rows given.

    Ids resolve through ``queries.source_query_id`` (and a catalog query id stands for itself).
    With ``annotations`` (TubeDETR's preprocessed ``{split}.json`` or ``*_proc.json``), its
    running ``video_id`` is matched on (original video id, sentence), ties broken by the tube,
    whose frames are TubeDETR's (``frame_shift`` later than the catalog's).
    """
    rows = queries.select(
        [
            "query_id",
            "video_id",
            "sentence",
            "tube_start_frame",
            "tube_end_frame",
            "source_query_id",
        ]
    ).to_pylist()
    id_map = {row["query_id"]: row["query_id"] for row in rows}
    id_map.update(
        {row["source_query_id"]: row["query_id"] for row in rows if row["source_query_id"]}
    )
    if annotations is not None:
        id_map.update(_ids_from_tubedetr_annotations(Path(annotations), rows, frame_shift))
    return id_map


def _ids_from_tubedetr_annotations(
    path: Path, rows: list[dict], frame_shift: int
) -> dict[str, str]:
    document = _load_json(path)
    records = document.get("videos") if isinstance(document, dict) else document
    if not isinstance(records, list):
        raise BadInputError(path, None, "not TubeDETR annotations: expected a list of videos")
    by_sentence: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        by_sentence.setdefault((row["video_id"], row["sentence"].strip()), []).append(row)
    id_map: dict[str, str] = {}
    for index, record in enumerate(records):
        where = f"videos[{index}]"
        try:
            source_id, video, caption = (
                str(record["video_id"]),
                str(record["original_video_id"]),
                str(record["caption"]).strip(),
            )
        except (KeyError, TypeError):
            raise BadInputError(
                path, where, "lacks video_id, original_video_id or caption"
            ) from None
        candidates = by_sentence.get((video, caption), [])
        if len(candidates) > 1:
            tube = tuple(
                frame - frame_shift if type(frame) is int else frame
                for frame in (record.get("tube_start_frame"), record.get("tube_end_frame"))
            )
            candidates = [
                row
                for row in candidates
                if (row["tube_start_frame"], row["tube_end_frame"]) == tube
            ]
            if len(candidates) != 1:
                raise BadInputError(path, where, f"matches several catalog queries of {video}")
        if candidates:
            id_map[source_id] = candidates[0]["query_id"]
    return id_map
