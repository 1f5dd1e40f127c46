"""VidSTG's own sentence files (``{split}_annotations.json``, one entry per video and relation
segment) joined with VidOR's per-video box trajectories. The original release and STCAT's flat
layout hold the same files in different places; both read them through ``read_vidstg_release``.

Frame conventions converted here: ``temporal_gt.end_fid`` is exclusive (it reaches
``frame_count``), ``used_segment.end_fid`` is inclusive (segment end = ``end_fid + 1``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from stvg.stvgdata.adapters.base import CatalogTables
from stvg.stvgdata.adapters.checks import check_range
from stvg.stvgdata.adapters.fields import (
    check_id,
    expect_type,
    get_field,
    get_positive,
    get_text,
    load_json,
    only_types,
)
from stvg.stvgdata.adapters.rows import BoxChunks, RowBuffer, VideoRows
from stvg.stvgdata.adapters.vidor import TrajectoryJob, iter_tubes
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn

SPLITS = ("train", "val", "test")
# Which list of an entry holds which sentence type.
SENTENCE_LISTS = (("captions", "declarative"), ("questions", "interrogative"))


def vidstg_query_id(video_id: str, segment_start: int, sentence_type: str, rank: int) -> str:
    """The same id for the same sentence whichever VidSTG layout it is read from.

    Built from what every layout keeps unchanged: the video, the first frame of the clip the
    sentence is posed on, and the sentence's rank among that clip's sentences of its type in
    file order (TubeDETR keeps VidSTG's order). The clip's end is left out: TubeDETR copied the
    inclusive ``used_segment.end_fid`` and reads it as exclusive.
    """
    return f"{video_id}@{segment_start}/{sentence_type[0]}{rank}"


class QueryRanks:
    """Counts sentences per (video, clip start, type) in file order, for ``vidstg_query_id``."""

    def __init__(self) -> None:
        self._seen: Counter[tuple[str, int, str]] = Counter()

    def next_id(self, video_id: str, segment_start: int, sentence_type: str) -> str:
        key = (video_id, segment_start, sentence_type)
        rank = self._seen[key]
        self._seen[key] += 1
        return vidstg_query_id(video_id, segment_start, sentence_type, rank)


class SentenceReader:
    """Turns sentence files into videos and queries rows, and collects, per video, the target
    tubes that its VidOR file must supply boxes for."""

    def __init__(self, video_file: Callable[[str], Path]) -> None:
        self.video_file = video_file
        self.videos = VideoRows()
        self.queries = RowBuffer("queries")
        # video_id -> (target_id, start_frame, end_frame) -> rows of the queries asking for it
        self.tubes: dict[str, dict[tuple[int, int, int], list[int]]] = {}
        self._ranks = QueryRanks()

    def read_file(self, path: Path, split: str, listed: set[str] | None) -> None:
        """Read one ``{split}_annotations.json``; ``listed`` are the split file's video ids."""
        entries = expect_type(load_json(path), list, path, None, "the file's top level")
        for index, entry in enumerate(entries):
            self._read_entry(path, split, listed, index, entry)

    def _read_entry(
        self, path: Path, split: str, listed: set[str] | None, index: int, entry: object
    ) -> None:
        vid = get_field(entry, "vid", str, path, f"entry {index}")
        where = f"entry {index} (vid {vid})"
        check_id(vid, "vid", path, where)
        num_frames = get_positive(entry, "frame_count", int, path, where)
        if listed is not None and vid not in listed:
            raise BadInputError(
                path, where, f"unknown split: video {vid} is not in {split}_files.json"
            )
        if vid in self.videos:
            self.videos.add(path, where, vid, split)  # a known video: only its split is checked
        else:
            self.videos.add(
                path,
                where,
                vid,
                split,
                path=str(self.video_file(vid)),
                width=get_positive(entry, "width", int, path, where),
                height=get_positive(entry, "height", int, path, where),
                fps=get_positive(entry, "fps", float, path, where),
                num_frames=num_frames,
            )
        segment = _range(entry, "used_segment", path, where, inclusive_end=True)
        check_range(*segment, num_frames, path, where, "used_segment")
        tube = _range(entry, "temporal_gt", path, where, inclusive_end=False)
        check_range(*tube, num_frames, path, where, "temporal_gt")
        categories = _categories(entry, path, where)
        for list_name, sentence_type in SENTENCE_LISTS:
            sentences = get_field(entry, list_name, list, path, where)
            for rank, sentence in enumerate(sentences):
                record = f"{where} {list_name}[{rank}]"
                target_id = get_field(sentence, "target_id", int, path, record)
                if target_id not in categories:
                    raise BadInputError(
                        path, record, f"target_id {target_id} is not among subject/objects"
                    )
                row = self.queries.append(
                    query_id=self._ranks.next_id(vid, segment[0], sentence_type),
                    video_id=vid,
                    split=split,
                    sentence=get_text(sentence, "description", path, record),
                    sentence_type=sentence_type,
                    tube_start_frame=tube[0],
                    tube_end_frame=tube[1],
                    segment_start_frame=segment[0],
                    segment_end_frame=segment[1],
                    target_id=target_id,
                    target_category=categories[target_id],
                    source_query_id=f"{path.name}[{index}].{list_name}[{rank}]",
                )
                self.tubes.setdefault(vid, {}).setdefault((target_id, *tube), []).append(row)


def _range(entry: object, key: str, path: Path, where: str, inclusive_end: bool) -> tuple[int, int]:
    """``entry[key]`` = {begin_fid, end_fid} as a half-open [start, end)."""
    span = get_field(entry, key, dict, path, where)
    begin = get_field(span, "begin_fid", int, path, f"{where} {key}")
    end = get_field(span, "end_fid", int, path, f"{where} {key}")
    return begin, end + 1 if inclusive_end else end


def _categories(entry: object, path: Path, where: str) -> dict[int, str]:
    """tid -> category of the entry's ``subject/objects``."""
    categories: dict[int, str] = {}
    for k, obj in enumerate(get_field(entry, "subject/objects", list, path, where)):
        record = f"{where} subject/objects[{k}]"
        tid = get_field(obj, "tid", int, path, record)
        if tid in categories:
            raise BadInputError(path, record, f"tid {tid} is listed twice")
        categories[tid] = get_field(obj, "category", str, path, record)
    return categories


def read_split_lists(sentence_dir: Path) -> dict[str, set[str]]:
    """``{split}_files.json`` video-id lists found beside the sentence files."""
    lists: dict[str, set[str]] = {}
    for split in SPLITS:
        path = sentence_dir / f"{split}_files.json"
        if os.path.lexists(path):  # there but unreadable fails in load_json, not silently
            ids = expect_type(load_json(path), list, path, None, "the file's top level")
            if not only_types(ids, frozenset((str,))):
                raise BadInputError(path, None, "video ids must all be strings")
            lists[split] = set(ids)
    return lists


def read_vidstg_release(
    sentence_dir: Path,
    trajectory_file: Callable[[str], Path],
    video_file: Callable[[str], Path],
    dataset: str,
    progress: ProgressFn,
) -> CatalogTables:
    """Sentence files under ``sentence_dir`` joined with each video's VidOR trajectory file.

    ``trajectory_file(vid)`` and ``video_file(vid)`` say where a layout keeps a video's files.
    """
    files = {s: sentence_dir / f"{s}_annotations.json" for s in SPLITS}
    files = {s: path for s, path in files.items() if os.path.lexists(path)}
    if not files:
        raise BadInputError(sentence_dir, None, "no {train,val,test}_annotations.json found")
    split_lists = read_split_lists(sentence_dir)
    reader = SentenceReader(video_file)
    for done, (split, path) in enumerate(files.items(), 1):
        reader.read_file(path, split, split_lists.get(split))
        progress("read sentences", done, len(files))
    jobs = [_trajectory_job(reader, vid, trajectory_file) for vid in reader.tubes]
    boxes = BoxChunks()
    for job, tubes in iter_tubes(jobs, progress):
        for tube_key, (frame_idx, xyxy) in zip(job.tubes, tubes, strict=True):
            for row in reader.tubes[job.video_id][tube_key]:
                boxes.add(row, frame_idx, xyxy)
    return CatalogTables(
        videos=reader.videos.rows.to_table(dataset),
        queries=reader.queries.to_table(dataset),
        boxes=boxes.to_table(dataset, reader.queries.column("query_id")),
    )


def _trajectory_job(
    reader: SentenceReader, vid: str, trajectory_file: Callable[[str], Path]
) -> TrajectoryJob:
    file = trajectory_file(vid)
    if not os.path.lexists(file):
        raise BadInputError(file, f"video {vid}", "VidOR annotation file not found")
    return TrajectoryJob(
        file=file,
        video_id=vid,
        num_frames=reader.videos.get(vid, "num_frames"),
        width=reader.videos.get(vid, "width"),
        height=reader.videos.get(vid, "height"),
        tubes=tuple(reader.tubes[vid]),
    )
