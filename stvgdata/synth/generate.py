"""``generate``: a synthetic dataset in a real dataset's layout, written all-or-nothing.

Videos are independent (each has its own seed), so they are planned, annotated and encoded in
worker processes; the main process only collects the split-level files. The whole tree is built
under a temporary sibling of ``out`` and renamed into place at the end, so a reader never sees a
half-written dataset.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol

from stvg.stvgdata.atomic import atomic_output
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.synth import hcstvg_layout, tubedetr_layout, vidstg_layout
from stvg.stvgdata.synth.config import SynthConfig, check_config, default_config
from stvg.stvgdata.synth.detections import FILE_NAME as DETECTIONS_FILE
from stvg.stvgdata.synth.detections import DetectionsWriter
from stvg.stvgdata.synth.encode import write_mp4
from stvg.stvgdata.synth.plan import VideoPlan, assign_splits, plan_video
from stvg.stvgdata.synth.render import render_frames
from stvg.stvgdata.workers import map_in_workers

PARALLEL_MIN_VIDEOS = 16
"""Below this many videos, starting worker processes costs more than it saves."""


class SplitFilesWriter(Protocol):
    """Collects what the split-level files need from each video; writes them when closed."""

    def add(self, plan: VideoPlan) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Layout:
    """One dataset's on-disk layout."""

    video_file: Callable[[Path, int], Path]
    """(root, video index) -> where the video's .mp4 goes."""
    split_files: Callable[[Path], SplitFilesWriter]
    video_annotation: Callable[[Path, VideoPlan], None] | None = None
    """Writes a per-video annotation file (VidOR); runs in the worker processes."""


LAYOUTS = {
    ("vidstg", "original"): Layout(
        vidstg_layout.original_video_file,
        vidstg_layout.VidstgWriter,
        partial(vidstg_layout.write_video_annotation, vidstg_layout.original_annotation_file),
    ),
    ("vidstg", "stcat"): Layout(
        vidstg_layout.stcat_video_file,
        partial(vidstg_layout.VidstgWriter, sentence_dir="sent_annos", video_lists=False),
        partial(vidstg_layout.write_video_annotation, vidstg_layout.stcat_annotation_file),
    ),
    ("vidstg", "tubedetr"): Layout(
        vidstg_layout.original_video_file, tubedetr_layout.TubeDetrWriter
    ),
    ("hcstvg-v1", "release"): Layout(
        hcstvg_layout.video_file, partial(hcstvg_layout.HcstvgWriter, version=1)
    ),
    ("hcstvg-v2", "release"): Layout(
        hcstvg_layout.video_file, partial(hcstvg_layout.HcstvgWriter, version=2)
    ),
}
"""(dataset, layout) -> how to write it; the first layout of a dataset is its default."""


def layouts_of(dataset: str) -> list[str]:
    return [layout for name, layout in LAYOUTS if name == dataset]


@dataclass
class SplitCounts:
    """What one split holds; ``box_rows`` counts one row per (sentence, tube frame), as the
    catalog's ``boxes`` table does."""

    videos: int = 0
    queries: int = 0
    declarative: int = 0
    interrogative: int = 0
    box_rows: int = 0
    frames: int = 0
    """Frames of the split's videos (whether encoded or not)."""

    def add(self, plan: VideoPlan) -> None:
        self.videos += 1
        self.frames += plan.scene.frame_count
        for entry in plan.entries:
            tube_frames = entry.tube[1] - entry.tube[0]
            self.queries += len(entry.sentences)
            self.declarative += len(entry.captions)
            self.interrogative += len(entry.questions)
            self.box_rows += len(entry.sentences) * tube_frames


@dataclass
class SynthSummary:
    dataset: str
    layout: str
    out: str
    seed: int
    videos_written: bool
    config: SynthConfig
    splits: dict[str, SplitCounts] = field(default_factory=dict)
    detections_file: str | None = None
    """The SIMULATED detector output, when written."""
    test_seed: int | None = None
    """Seed of the test split's videos, when it is not ``seed`` (a held-out test set)."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class VideoJob:
    dataset: str
    layout: str
    config: SynthConfig
    seed: int
    index: int
    split: str
    root: Path
    write_video: bool


def make_video(job: VideoJob) -> VideoPlan:
    """Plan one video and write its own files (annotation, .mp4); runs in a worker."""
    plan = plan_video(job.dataset, job.config, job.seed, job.index, job.split)
    layout = LAYOUTS[job.dataset, job.layout]
    if layout.video_annotation is not None:
        layout.video_annotation(job.root, plan)
    if job.write_video:
        frames = render_frames(plan.scene, plan.look_seed)
        path = layout.video_file(job.root, job.index)
        write_mp4(path, frames, job.config.fps, job.config.codec, job.config.crf)
    return plan


def _made_videos(jobs: list[VideoJob], workers: int) -> Iterator[VideoPlan]:
    """Each job's plan, in job order, computed by ``workers`` processes when worth it."""
    if workers < 2 or len(jobs) < PARALLEL_MIN_VIDEOS:
        yield from map(make_video, jobs)
        return
    chunksize = max(1, min(32, len(jobs) // (workers * 8)))
    yield from map_in_workers("writing synthetic videos", make_video, jobs, workers, chunksize)


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInputError(out, None, "already exists and is not empty; choose a new directory")


def check_run(
    dataset: str, videos: int, seed: int, test_seed: int | None, layout: str | None
) -> str:
    """Refuse a run the generator cannot do, naming the setting; the layout to write."""
    layout = layout or layouts_of(dataset)[0]
    if (dataset, layout) not in LAYOUTS:
        raise BadInputError.for_field("layout", layout, f"{dataset} layouts: {layouts_of(dataset)}")
    if videos < 1:
        raise BadInputError.for_field("videos", videos, "must be at least 1")
    if seed < 0:
        raise BadInputError.for_field("seed", seed, "must be >= 0")
    if test_seed is not None and (test_seed < 0 or test_seed == seed):
        raise BadInputError.for_field("test_seed", test_seed, "must be >= 0 and differ from `seed`")
    return layout


def generate(
    out: Path,
    dataset: str,
    videos: int,
    seed: int,
    write_videos: bool = True,
    config: SynthConfig | None = None,
    progress: ProgressFn | None = None,
    workers: int | None = None,
    layout: str | None = None,
    detections: bool = True,
    test_seed: int | None = None,
) -> SynthSummary:
    """Write ``videos`` synthetic videos of ``dataset`` in ``layout`` (default: the dataset's
    own release) under ``out``: annotations, and the encoded videos unless ``write_videos`` is
    False. Deterministic for a given ``seed``, whatever the number of ``workers`` (default:
    one per available core); the layout changes the files, never the content. ``detections``
    adds the SIMULATED detector output ``detections.parquet`` (see ``synth.detections``).
    ``test_seed`` draws the test split's videos from their own seed: a test set that no run
    developed on the train / val splits of ``seed`` has seen."""
    config = config or default_config(dataset)
    check_config(dataset, config)
    layout = check_run(dataset, videos, seed, test_seed, layout)
    out = Path(out)
    _check_out(out)
    report = progress or no_progress
    workers = workers or len(os.sched_getaffinity(0))
    summary = SynthSummary(dataset, layout, str(out.resolve()), seed, write_videos, config)
    summary.test_seed = test_seed
    frames_done = 0
    with atomic_output(out) as staging:
        staging.mkdir()
        writers: list[SplitFilesWriter] = [LAYOUTS[dataset, layout].split_files(staging)]
        if detections:
            writers.append(DetectionsWriter(staging, dataset))
            summary.detections_file = str(Path(summary.out) / DETECTIONS_FILE)
        seed_of = {"test": test_seed} if test_seed is not None else {}
        jobs = [
            VideoJob(
                dataset,
                layout,
                config,
                seed_of.get(split, seed),
                index,
                split,
                staging,
                write_videos,
            )
            for index, split in enumerate(assign_splits(videos, config.split_weights))
        ]
        for done, plan in enumerate(_made_videos(jobs, workers), 1):
            for writer in writers:
                writer.add(plan)
            summary.splits.setdefault(plan.split, SplitCounts()).add(plan)
            frames_done += plan.scene.frame_count if write_videos else 0
            report("videos", done, videos, frames=frames_done)
        for writer in writers:
            writer.close()
    return summary
