"""VidOR per-video annotation files: the target tubes' boxes, read in parallel over files.

These files are the bulk of VidSTG (one box list per frame for every object of the video), so
they are parsed in worker processes, each returning NumPy arrays for only the tubes asked for.

Each file is first decoded against its expected shape (``msgspec``: typed records instead of
dicts, the fields the catalog does not use skipped), which costs about half of a generic parse
and its freeing. Whatever that decoder refuses goes through the generic parser and the strict
checks, which either name the problem or accept the file (a non-target item without a box, say):
the typed decoder only ever speeds up what the generic path accepts.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, compress
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Annotated

import msgspec
import numpy as np
import orjson

from stvg.stvgdata.adapters.checks import check_boxes
from stvg.stvgdata.adapters.fields import (
    NUMBERS,
    get_field,
    load_json,
    only_types,
    read_file,
)
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn
from stvg.stvgdata.workers import map_in_workers

# Below this many files, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 64

Tube = tuple[np.ndarray, np.ndarray]  # frame_idx (N,) int32, xyxy (N, 4) float32 pixels


@dataclass(frozen=True)
class TrajectoryJob:
    """The target tubes one VidOR file must supply: ``(target_id, start_frame, end_frame)``,
    half-open absolute frame ranges, checked against the video's size and length."""

    file: Path
    video_id: str
    num_frames: int
    width: int
    height: int
    tubes: tuple[tuple[int, int, int], ...]


class _Corners(msgspec.Struct, gc=False):
    xmin: float  # JSON integers are accepted, booleans and strings are not
    ymin: float
    xmax: float
    ymax: float


class _Item(msgspec.Struct, gc=False):
    tid: Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]  # fits the int64 ids
    bbox: _Corners


class _Document(msgspec.Struct, gc=False):
    trajectories: list[list[_Item]]


_TYPED_DECODER = msgspec.json.Decoder(_Document)


@dataclass(frozen=True)
class ItemFields:
    """How to get a box item's ``tid``, its ``bbox`` and the box's corners, and whether their
    types still need checking (not after the typed decoder)."""

    tid: Callable[[object], object]
    bbox: Callable[[object], object]
    corners: Callable[[object], tuple]
    checked: bool


TYPED_ITEMS = ItemFields(
    attrgetter("tid"), attrgetter("bbox"), attrgetter("xmin", "ymin", "xmax", "ymax"), True
)
JSON_ITEMS = ItemFields(
    itemgetter("tid"), itemgetter("bbox"), itemgetter("xmin", "ymin", "xmax", "ymax"), False
)


def read_tubes(job: TrajectoryJob) -> list[Tube]:
    """Boxes of each requested tube, on the frames where the target is annotated.

    Decoded typed first; on any refusal, parsed and checked generically (module docstring).
    """
    data = read_file(job.file)
    try:
        if not data.isascii():
            data.decode()  # the generic parser refuses invalid UTF-8; msgspec skips unread text
        return _tubes(job, _TYPED_DECODER.decode(data).trajectories, TYPED_ITEMS)
    except (msgspec.MsgspecError, UnicodeDecodeError, BadInputError):
        pass  # the generic path below names the problem, or accepts the file
    document = load_json(job.file, unique_keys=False, data=data)  # fixed-field records
    trajectories = get_field(document, "trajectories", list, job.file, f"video {job.video_id}")
    return _tubes(job, trajectories, JSON_ITEMS)


def _tubes(job: TrajectoryJob, trajectories: list, fields: ItemFields) -> list[Tube]:
    """One pass collects every box over the union of the requested frame ranges; tubes are then
    cut out as slices (tubes of one video overlap a lot). Only the targets' boxes are checked:
    other objects are not catalogued.
    """
    where = f"video {job.video_id}"
    if len(trajectories) > job.num_frames:
        raise BadInputError(
            job.file,
            where,
            f"trajectories cover {len(trajectories)} frames, "
            f"beyond the video's {job.num_frames} frames",
        )
    frame_idx, target_ids, xyxy = _target_boxes(job, trajectories, fields)
    check_boxes(frame_idx, xyxy, job.width, job.height, job.num_frames, job.file, where, target_ids)
    repeated = np.flatnonzero((np.diff(frame_idx) == 0) & (np.diff(target_ids) == 0))
    if len(repeated):
        i = repeated[0]
        record = f"{where}, target {target_ids[i]}, frame {frame_idx[i]}"
        raise BadInputError(job.file, record, "two boxes for one target")
    tubes = []
    for target_id, start, end in job.tubes:
        lo, hi = np.searchsorted(target_ids, [target_id, target_id + 1])
        begin, stop = lo + np.searchsorted(frame_idx[lo:hi], [start, end])
        tubes.append((frame_idx[begin:stop], xyxy[begin:stop]))
    return tubes


def _target_boxes(
    job: TrajectoryJob, trajectories: list, fields: ItemFields
) -> tuple[np.ndarray, ...]:
    """The requested targets' boxes on the requested frames, sorted by (target_id, frame_idx):
    each target's boxes are then one slice, and each tube a sub-slice."""
    frame_idx, target_ids, xyxy = _collect_boxes(job, trajectories, fields)
    order = np.argsort(target_ids, kind="stable")  # frames are collected in ascending order
    return frame_idx[order], target_ids[order], xyxy[order]


def _merged_ranges(tubes: tuple[tuple[int, int, int], ...]) -> list[tuple[int, int]]:
    """The union of the tubes' [start, end) frame ranges, as sorted disjoint ranges."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((start, end) for _, start, end in tubes):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _collect_boxes(
    job: TrajectoryJob, trajectories: list, fields: ItemFields
) -> tuple[np.ndarray, ...]:
    """frame_idx (M,) int32 ascending, target_id (M,) int64, xyxy (M, 4) float32 pixels of
    the requested targets on the requested frames (tubes are cut out by target afterwards).

    Items are pulled out with ``fields``' getters over flat lists and, unless the typed decoder
    did it, their types checked with ``only_types`` (C loops); frame numbers and the target
    filter are NumPy arrays: a per-item Python loop was the largest cost of a VidSTG-scale
    import. Nothing is coerced: a ``tid`` of 2.7 or "2" is an error, not 2. Every item's
    ``tid`` is checked, only the targets' boxes (other objects are not catalogued).
    """
    spans = [(start, min(end, len(trajectories))) for start, end in _merged_ranges(job.tubes)]
    frames = list(chain.from_iterable(trajectories[start:end] for start, end in spans))
    if not only_types(frames, _LIST):
        raise _malformed_frame(job, spans, trajectories)
    items = list(chain.from_iterable(frames))
    frame_idx = np.repeat(
        np.concatenate([np.arange(start, end, dtype=np.int32) for start, end in spans]),
        np.fromiter(map(len, frames), np.int64, len(frames)),
    )
    wanted = {tube[0] for tube in job.tubes}
    try:
        tids = map(fields.tid, items)
        if not fields.checked:
            tids = list(tids)
            if not only_types(tids, _INT):
                raise TypeError("tid is not an integer")
        target_ids = np.fromiter(tids, np.int64, len(items))
        keep = np.zeros(len(items), bool)
        for target_id in wanted:  # a few targets per video: cheaper than np.isin
            keep |= target_ids == target_id
        boxes = list(map(fields.bbox, compress(items, keep.tolist())))
        corners = chain.from_iterable(map(fields.corners, boxes))
        if not fields.checked:
            corners = list(corners)
            if not only_types(corners, NUMBERS):
                raise TypeError("corners are not numbers")
        xyxy = np.fromiter(corners, np.float32, 4 * len(boxes)).reshape(-1, 4)
    except (KeyError, TypeError, OverflowError):  # never after the typed decoder
        raise _malformed_item(job, spans, trajectories, wanted) from None
    return frame_idx[keep], target_ids[keep], xyxy


_LIST = frozenset((list,))
_INT = frozenset((int,))


def _malformed_frame(
    job: TrajectoryJob, spans: list[tuple[int, int]], trajectories: list
) -> BadInputError:
    """The error naming the first frame whose box list is not a list (e.g. null)."""
    frame = next(f for f in _frames(spans) if type(trajectories[f]) is not list)
    return BadInputError(
        job.file, f"video {job.video_id}, trajectories[{frame}]", "must be a list of box items"
    )


def _malformed_item(
    job: TrajectoryJob, spans: list[tuple[int, int]], trajectories: list, wanted: set[int]
) -> BadInputError:
    """The error naming the first item without an integer ``tid`` or, for a target, without
    ``bbox: {xmin, ymin, xmax, ymax}`` numbers."""
    for frame in _frames(spans):
        for item in trajectories[frame]:
            if not _well_formed(item, wanted):
                return BadInputError(
                    job.file,
                    f"video {job.video_id}, trajectories[{frame}]",
                    f"malformed box item {orjson.dumps(item).decode()[:200]}; expected "
                    "{tid: integer, bbox: {xmin, ymin, xmax, ymax}: numbers}",
                )
    return BadInputError(job.file, f"video {job.video_id}", "malformed trajectories")


def _frames(spans: list[tuple[int, int]]) -> Iterator[int]:
    return chain.from_iterable(range(start, end) for start, end in spans)


def _well_formed(item: object, wanted: set[int]) -> bool:
    try:
        tid = JSON_ITEMS.tid(item)
        if type(tid) is not int:
            return False
        np.int64(tid)  # OverflowError beyond 64 bits
        return tid not in wanted or only_types(JSON_ITEMS.corners(JSON_ITEMS.bbox(item)), NUMBERS)
    except (KeyError, TypeError, OverflowError):
        return False


def iter_tubes(
    jobs: list[TrajectoryJob], progress: ProgressFn
) -> Iterator[tuple[TrajectoryJob, list[Tube]]]:
    """Each job with its tubes, in order; uses every available core for large imports."""
    workers = len(os.sched_getaffinity(0))
    progress("read trajectories", 0, len(jobs))
    if workers < 2 or len(jobs) < PARALLEL_MIN_FILES:
        for done, job in enumerate(jobs, 1):
            yield job, read_tubes(job)
            progress("read trajectories", done, len(jobs))
        return
    # The workers' cyclic GC is off: parsed JSON holds no cycles, and full collections would
    # walk (and copy) the parent's inherited heap. On an error, files not yet started are
    # cancelled.
    chunksize = max(1, min(64, len(jobs) // (workers * 8)))
    results = map_in_workers(
        "reading VidOR trajectories", read_tubes, jobs, workers, chunksize, gc.disable
    )
    for done, (job, tubes) in enumerate(zip(jobs, results, strict=True), 1):
        yield job, tubes
        if done % chunksize == 0 or done == len(jobs):
            progress("read trajectories", done, len(jobs))
