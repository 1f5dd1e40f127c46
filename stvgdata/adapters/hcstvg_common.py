"""What HC-STVG v1 and v2 share: a dict keyed by video file name, one person-centric sentence
per video, and one ``[x, y, w, h]`` box per frame from ``st_frame``.

Frame convention (HC-STVG documents ``st_frame`` as 1-based): the tube is
``[st_frame - 1, st_frame - 1 + len(bbox))`` in 0-based absolute frames, so ``st_frame = 1``
starts at frame 0 and a tube may end exactly at ``img_num`` (the video's frame count). This
matches STCAT/CG-STVG; TubeDETR reads ``st_frame`` as 0-based, one frame later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stvg.stvgdata.adapters.base import CatalogTables, find_path, read_split_files
from stvg.stvgdata.adapters.checks import check_boxes, check_range
from stvg.stvgdata.adapters.fields import (
    XYWH,
    check_id,
    expect_type,
    get_field,
    get_positive,
    get_text,
    load_json,
    number_rows,
)
from stvg.stvgdata.adapters.rows import BoxChunks, RowBuffer, VideoRows
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.geometry import xywh_to_xyxy
from stvg.stvgdata.progress import ProgressFn

VIDEO_SECONDS = 20.0  # every HC-STVG video is 20 s long, so fps = img_num / 20
VIDEO_DIRS = ("video", "Video", "videos", "v1_video", "v2_video")  # v1_video/, v2_video/: STCAT


@dataclass(frozen=True)
class HcstvgFormat:
    """How one HC-STVG version names its files and fields.

    ``split_files``: split -> accepted annotation file names, first found wins;
    ``sentence_field``: the key of the sentence; ``frame_size(record, file, where)`` -> (w, h).
    """

    split_files: dict[str, tuple[str, ...]]
    sentence_field: str
    frame_size: Callable[[object, Path, str], tuple[int, int]]


def annotation_files(root: Path, fmt: HcstvgFormat) -> dict[str, Path]:
    """split -> annotation file found under the root (any of the split's accepted names)."""
    found: dict[str, Path] = {}
    for split, names in fmt.split_files.items():
        paths = [p for p in (find_path(root, name) for name in names) if p is not None]
        if paths:
            found[split] = paths[0]
    return found


def index_videos(video_dir: Path) -> dict[str, Path]:
    """File name -> path of the videos in ``video_dir`` or one folder down (the v2 release
    spreads its videos over numbered folders, v1 copies often keep them flat)."""
    files = sorted(video_dir.glob("*/*")) + sorted(video_dir.glob("*"))
    return {path.name: path for path in files if path.is_file()}


class HcstvgReader:
    """Reads annotation files of one HC-STVG version into catalog rows."""

    def __init__(self, fmt: HcstvgFormat, video_dir: Path) -> None:
        self.fmt = fmt
        self.video_dir = video_dir
        self.video_files = index_videos(video_dir)
        self.videos = VideoRows()
        self.queries = RowBuffer("queries")
        self.boxes = BoxChunks()

    def read_file(self, path: Path, split: str) -> None:
        records = expect_type(load_json(path), dict, path, None, "the file's top level")
        for key, record in records.items():
            self._read_record(path, split, key, record)

    def _read_record(self, path: Path, split: str, key: str, record: object) -> None:
        where = f"video {key}"
        video_id = check_id(
            Path(check_id(key, "video file name", path, where)).stem, "video id", path, where
        )
        if video_id in self.videos:
            raise BadInputError(path, where, f"duplicate video id {video_id!r}")
        num_frames = get_positive(record, "img_num", int, path, where)
        width, height = self.fmt.frame_size(record, path, where)
        st_frame = get_field(record, "st_frame", int, path, where)
        if st_frame < 1:
            raise BadInputError(path, where, f"st_frame {st_frame} is not 1-based (must be >= 1)")
        xyxy = _boxes(get_field(record, "bbox", list, path, where), path, where)
        tube = (st_frame - 1, st_frame - 1 + len(xyxy))
        check_range(*tube, num_frames, path, where, "tube")
        frame_idx = np.arange(*tube, dtype=np.int32)
        check_boxes(frame_idx, xyxy, width, height, num_frames, path, where)
        self.videos.add(
            path,
            where,
            video_id,
            split,
            path=str(self.video_files.get(key, self.video_dir / key)),
            width=width,
            height=height,
            fps=num_frames / VIDEO_SECONDS,
            num_frames=num_frames,
        )
        row = self.queries.append(
            query_id=video_id,
            video_id=video_id,
            split=split,
            sentence=get_text(record, self.fmt.sentence_field, path, where),
            sentence_type="declarative",
            tube_start_frame=tube[0],
            tube_end_frame=tube[1],
            segment_start_frame=0,
            segment_end_frame=num_frames,
            target_category="person",
            source_query_id=key,
        )
        self.boxes.add(row, frame_idx, xyxy.astype(np.float32))


def read_hcstvg(root: Path, dataset: str, fmt: HcstvgFormat, progress: ProgressFn) -> CatalogTables:
    files = annotation_files(root, fmt)
    if not files:
        names = ", ".join(name for names in fmt.split_files.values() for name in names)
        raise BadInputError(root, None, f"no {dataset} annotation file ({names}) under the root")
    video_dirs = (find_path(root, name, max_depth=1) for name in VIDEO_DIRS)
    reader = HcstvgReader(fmt, next((d for d in video_dirs if d is not None), root / "video"))
    return read_split_files(reader, files, dataset, progress)


def _boxes(bbox: list, path: Path, where: str) -> np.ndarray:
    """``[[x, y, w, h], ...]`` -> pixel corners ``(N, 4)``."""
    return xywh_to_xyxy(number_rows(bbox, XYWH, path, where, "field 'bbox'"))
