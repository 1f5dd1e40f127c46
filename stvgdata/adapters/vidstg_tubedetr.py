"""VidSTG as preprocessed by TubeDETR: one JSON per split holding one record per sentence and
the target trajectories of every video::

    <root>/**/{train,val,test}.json   {"videos": [...], "trajectories": {vid: {tid: {frame: ...}}}}
    <root>/**/video/<video_path>      (or videos/: VidOR's tree, video_path = "<dir>/<vid>.mp4")

Frames are absolute; ``tube_end_frame`` is exclusive, as the catalog's, but ``end_frame`` is
VidSTG's inclusive ``used_segment.end_fid`` copied unchanged by TubeDETR's ``preproc_vidstg.py``,
so the segment end is ``end_frame + 1`` (the same catalog as the original layout); boxes are
``[x, y, w, h]`` in pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stvg.stvgdata.adapters.base import Adapter, CatalogTables, find_path, read_split_files
from stvg.stvgdata.adapters.checks import check_boxes, check_range
from stvg.stvgdata.adapters.fields import (
    XYWH,
    check_id,
    check_relative_path,
    get_field,
    get_positive,
    get_text,
    load_json,
    number_rows,
)
from stvg.stvgdata.adapters.rows import BoxChunks, RowBuffer, UniqueIds, VideoRows
from stvg.stvgdata.adapters.vidstg_sentences import SPLITS, QueryRanks
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.geometry import xywh_to_xyxy
from stvg.stvgdata.progress import ProgressFn

SENTENCE_TYPES = ("declarative", "interrogative")
Tube = tuple[np.ndarray, np.ndarray]  # frame_idx (N,) int32, xyxy (N, 4) pixels


def _split_files(root: Path) -> dict[str, Path]:
    found = {split: find_path(root, f"{split}.json") for split in SPLITS}
    return {split: path for split, path in found.items() if path is not None}


def detect(root: Path) -> bool:
    return bool(_split_files(root))


class TubeDetrReader:
    """Reads split files into catalog rows; boxes are cut from the trajectories per tube."""

    def __init__(self, video_dir: Path) -> None:
        self.video_dir = video_dir
        self.videos = VideoRows()
        self.queries = RowBuffer("queries")
        self.boxes = BoxChunks()
        self._ranks = QueryRanks()

    def read_file(self, path: Path, split: str) -> None:
        data = load_json(path)
        records = get_field(data, "videos", list, path, None)
        trajectories = get_field(data, "trajectories", dict, path, None)
        source_ids = UniqueIds("video_id")
        tubes: dict[tuple[str, int, int, int], Tube] = {}
        for index, record in enumerate(records):
            source_id = get_field(record, "video_id", int, path, f"videos[{index}]")
            where = f"videos[{index}] (video_id {source_id})"
            source_ids.claim(str(source_id), path, where)
            self._read_record(path, split, where, record, str(source_id), trajectories, tubes)

    def _read_record(
        self,
        path: Path,
        split: str,
        where: str,
        record: object,
        source_id: str,
        trajectories: dict,
        tubes: dict[tuple[str, int, int, int], Tube],
    ) -> None:
        vid = check_id(
            get_field(record, "original_video_id", str, path, where), "video id", path, where
        )
        num_frames = get_positive(record, "frame_count", int, path, where)
        width = get_positive(record, "width", int, path, where)
        height = get_positive(record, "height", int, path, where)
        video_path = get_field(record, "video_path", str, path, where)
        self.videos.add(
            path,
            where,
            vid,
            split,
            path=str(self.video_dir / check_relative_path(video_path, "video_path", path, where)),
            width=width,
            height=height,
            fps=get_positive(record, "fps", float, path, where),
            num_frames=num_frames,
        )
        segment = (
            get_field(record, "start_frame", int, path, where),
            get_field(record, "end_frame", int, path, where) + 1,  # inclusive in the file
        )
        check_range(*segment, num_frames, path, where, "segment")
        tube = (
            get_field(record, "tube_start_frame", int, path, where),
            get_field(record, "tube_end_frame", int, path, where),
        )
        check_range(*tube, num_frames, path, where, "tube")
        sentence_type = get_field(record, "qtype", str, path, where)
        if sentence_type not in SENTENCE_TYPES:
            raise BadInputError(
                path, where, f"qtype {sentence_type!r} is not one of {', '.join(SENTENCE_TYPES)}"
            )
        target_id = get_field(record, "target_id", int, path, where)
        row = self.queries.append(
            query_id=self._ranks.next_id(vid, segment[0], sentence_type),
            video_id=vid,
            split=split,
            sentence=get_text(record, "caption", path, where),
            sentence_type=sentence_type,
            tube_start_frame=tube[0],
            tube_end_frame=tube[1],
            segment_start_frame=segment[0],
            segment_end_frame=segment[1],
            target_id=target_id,
            source_query_id=source_id,
        )
        key = (vid, target_id, *tube)
        if key not in tubes:
            target = _target_trajectory(trajectories, vid, target_id, path, where)
            tubes[key] = _cut_tube(target, tube, width, height, num_frames, path, where)
        self.boxes.add(row, *tubes[key])


def _target_trajectory(
    trajectories: dict, vid: str, target_id: int, path: Path, where: str
) -> dict:
    """``trajectories[vid][str(target_id)]``: frame (as a string) -> {bbox: [x, y, w, h]}."""
    video = trajectories.get(vid)
    target = video.get(str(target_id)) if isinstance(video, dict) else None
    if not isinstance(target, dict):
        raise BadInputError(path, where, f"no trajectory for video {vid} target {target_id}")
    return target


def _cut_tube(
    target: dict,
    tube: tuple[int, int],
    width: int,
    height: int,
    num_frames: int,
    path: Path,
    where: str,
) -> Tube:
    """The target's boxes on the tube's frames, as pixel corners."""
    for key in target:
        if not key.isdigit() or int(key) >= num_frames:
            raise BadInputError(
                path,
                where,
                f"trajectory frame index {key!r} is beyond the video's frames [0, {num_frames})",
            )
    frames = [f for f in range(*tube) if str(f) in target]
    try:
        bboxes = [target[str(f)]["bbox"] for f in frames]
        xywh = number_rows(bboxes, XYWH, path, where, "trajectory boxes")
    except (KeyError, TypeError):
        raise BadInputError(path, where, "trajectory items must be {bbox: [x, y, w, h]}") from None
    frame_idx = np.array(frames, np.int32)
    xyxy = xywh_to_xyxy(xywh)
    check_boxes(frame_idx, xyxy, width, height, num_frames, path, where)
    return frame_idx, xyxy.astype(np.float32)


def read(root: Path, dataset: str, progress: ProgressFn) -> CatalogTables:
    files = _split_files(root)
    if not files:
        raise BadInputError(root, None, "expected TubeDETR's {train,val,test}.json under the root")
    video_dir = find_path(root, "video") or find_path(root, "videos") or root / "video"
    reader = TubeDetrReader(video_dir)
    return read_split_files(reader, files, dataset, progress)


ADAPTER = Adapter(
    layout="tubedetr",
    summary="TubeDETR preprocessed {train,val,test}.json + VidOR video/ tree",
    detect=detect,
    read=read,
)
