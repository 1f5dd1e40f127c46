"""``stvg extract-regions``: embed every tubelet/detection box and every sampled frame of a
dataset's videos, and every query's sentence, into the feature store as region sets.

Frames are the feature cache's sampled frames when it has them (so region frames line up with
the ResNet/SlowFast timeline), else the video sampled at ``fps``. Each video is decoded once,
front to back; its crops are embedded in batches as they come. A video whose inputs (frames,
boxes, sentence) are already cached under the same encoder and digest is skipped, so a rerun
resumes; a video that fails is recorded in ``failures`` and the run carries on. Shards are
committed every ``videos_per_shard`` videos, so an interrupted run loses little.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from stvg.stvgdata.cache import (
    REGIONS_MODEL,
    WorkSplit,
    array_digest,
    config_differences,
    drop_items,
    drop_model,
    refuse_other_fingerprint,
    remove_stale_files,
    verify_flags,
    worker_lock,
)
from stvg.stvgdata.cache.regions import (
    BOX_PARTS,
    BoxRegions,
    RegionWriter,
    new_region_writer,
    refuse_old_layout,
    region_identity,
    region_rows,
    remove_old_layout,
)
from stvg.stvgdata.catalog import append_rows, failure_row, query
from stvg.stvgdata.encoders.base import VisionLanguageEncoder
from stvg.stvgdata.encoders.crops import sliding_windows, stack_crops, stack_whole_frames
from stvg.stvgdata.encoders.registry import DEFAULT_ENCODER, build_encoder, substitute_dir
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors.config import resolve_device
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.regions.config import RegionExtractConfig
from stvg.stvgdata.video.decode import VideoDecodeError, iter_frames, sample_frame_indices
from stvg.stvgdata.workspace import Workspace

log = logging.getLogger(__name__)

BOX_SOURCES = {"tubelets": "stvg track", "detections": "stvg import-detections"}


@dataclass
class RegionExtractSummary:
    """What a run did; ``failures`` are the rows it appended to the failures table."""

    dataset: str
    encoder: str
    videos: int = 0
    videos_cached: int = 0
    videos_done: int = 0
    videos_failed: int = 0
    frames: int = 0
    regions: int = 0
    sentences: int = 0
    sentences_cached: int = 0
    seconds: float = 0.0
    regions_per_s: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Video:
    video_id: str
    path: str
    width: int
    height: int
    frame_idx: np.ndarray  # (T,) absolute sampled frames
    boxes: dict[str, BoxRegions]  # kind -> boxes on the sampled frames (embeddings empty)


# --------------------------------------------------------------------------------------------
# planning


def _videos(ws: Workspace, dataset: str) -> list[dict[str, Any]]:
    rows = query(
        ws,
        "SELECT video_id, path, width, height, fps, num_frames FROM videos WHERE dataset = ? "
        "ORDER BY video_id",
        [dataset],
    ).to_pylist()
    if not rows:
        known = query(ws, "SELECT DISTINCT dataset FROM videos ORDER BY dataset")
        names = ", ".join(known["dataset"].to_pylist()) or "none"
        raise BadInputError.for_field(
            "dataset", dataset, f"unknown dataset (in the catalog: {names}); run `stvg import`"
        )
    return rows


def _cached_timelines(ws: Workspace, dataset: str) -> dict[str, np.ndarray]:
    """video -> the feature cache's sampled frames (any frame model; they share the timeline)."""
    rows = query(
        ws,
        "SELECT video_id, any_value(frame_idx) AS frame_idx FROM features "
        "WHERE dataset = ? AND fps IS NOT NULL GROUP BY video_id",
        [dataset],
    ).to_pylist()
    return {row["video_id"]: np.asarray(row["frame_idx"], np.int64) for row in rows}


def _box_rows(ws: Workspace, dataset: str, kind: str, video_ids: list[str]) -> dict[str, pa.Table]:
    """video -> its boxes of ``kind`` (frame, box, tubelet, score, label), from one query;
    a video without boxes gets an empty table."""
    tubelet = "tubelet_id" if kind == "tubelets" else "CAST(-1 AS BIGINT) AS tubelet_id"
    table = query(
        ws,
        f"SELECT video_id, frame_idx, x1, y1, x2, y2, {tubelet}, score, label FROM {kind} "
        "WHERE dataset = ? ORDER BY video_id, frame_idx, tubelet_id, x1, y1",
        [dataset],
    )
    if table.num_rows == 0:
        raise BadInputError.for_field(
            "boxes",
            f"{dataset}/{kind}",
            f"no {kind} for this dataset yet; run `{BOX_SOURCES[kind]}` first",
        )
    ids = table["video_id"].to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.concatenate([[True], ids[1:] != ids[:-1]]))
    ends = np.append(starts[1:], len(ids))
    found = {ids[s]: table.slice(s, e - s) for s, e in zip(starts, ends, strict=True)}
    return {video_id: found.get(video_id, table.slice(0, 0)) for video_id in video_ids}


def _boxes_on(rows: pa.Table, frame_idx: np.ndarray) -> BoxRegions:
    """The rows' boxes that lie on the sampled frames, as arrays (embeddings left empty)."""
    rows = rows.filter(pa.array(np.isin(rows["frame_idx"].to_numpy(), frame_idx)))
    return BoxRegions(
        frame_idx=rows["frame_idx"].to_numpy().astype(np.int32),
        boxes=np.stack([rows[c].to_numpy() for c in ("x1", "y1", "x2", "y2")], 1).astype(
            np.float32
        ),
        tubelet_id=rows["tubelet_id"].to_numpy().astype(np.int64),
        scores=rows["score"].to_numpy(zero_copy_only=False).astype(np.float32),  # null -> nan
        labels=np.asarray(rows["label"].to_pylist(), dtype=object),
        embeddings=np.zeros((0, 0), np.float32),
    )


def _digest(kind: str, video: _Video) -> str:
    if kind == "frames":
        return array_digest(video.frame_idx.astype(np.int64), video.width, video.height)
    b = video.boxes[kind]
    return array_digest(b.frame_idx, b.boxes, b.tubelet_id, b.scores, "|".join(b.labels))


# --------------------------------------------------------------------------------------------
# embedding one video


class _Batcher:
    """Embeds images in batches of ``size`` as they arrive; ``result`` gives (n, D) in order."""

    def __init__(self, encoder: VisionLanguageEncoder, size: int) -> None:
        self.encoder, self.size = encoder, size
        self.pending: list[np.ndarray] = []
        self.done: list[np.ndarray] = []

    def add(self, images: np.ndarray) -> None:
        self.pending.append(images)
        if sum(len(p) for p in self.pending) >= self.size:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.done.append(self.encoder.encode_images(np.concatenate(self.pending)))
            self.pending = []

    def result(self) -> np.ndarray:
        self._flush()
        if not self.done:
            return np.zeros((0, self.encoder.dim), np.float32)
        return np.concatenate(self.done).astype(np.float32)


def _embed_video(
    encoder: VisionLanguageEncoder, video: _Video, kinds: tuple[str, ...], batch_size: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Decode the sampled frames once; returns (frame embeddings (T, D), kind -> (N, D)). An
    encoder with ``context_frames`` c > 1 sees each frame and box on the window of c sampled
    frames around it (crops of the same box, edge frames repeated)."""
    size = encoder.image_size
    frame_batch = _Batcher(encoder, batch_size)
    box_batches = {kind: _Batcher(encoder, batch_size) for kind in kinds}
    # (N,) frame of each box -> slices per frame, boxes being sorted by frame
    spans = {
        kind: dict(_frame_spans(video.boxes[kind].frame_idx, video.frame_idx)) for kind in kinds
    }
    frames = iter_frames(Path(video.path), video.frame_idx, (video.height, video.width))
    for frame_idx, window in sliding_windows(frames, encoder.context_frames):
        frame_batch.add(stack_whole_frames(window, size))
        for kind in kinds:
            start, end = spans[kind].get(int(frame_idx), (0, 0))
            if end > start:
                box_batches[kind].add(stack_crops(window, video.boxes[kind].boxes[start:end], size))
    return frame_batch.result(), {kind: b.result() for kind, b in box_batches.items()}


def _frame_spans(
    region_frame: np.ndarray, frame_idx: np.ndarray
) -> Iterator[tuple[int, tuple[int, int]]]:
    """(frame, (start, end)) rows of ``region_frame`` (sorted) on each sampled frame."""
    starts = np.searchsorted(region_frame, frame_idx, side="left")
    ends = np.searchsorted(region_frame, frame_idx, side="right")
    for frame, start, end in zip(frame_idx, starts, ends, strict=True):
        yield int(frame), (int(start), int(end))


# --------------------------------------------------------------------------------------------
# the run


def _plan(ws: Workspace, config: RegionExtractConfig) -> list[_Video]:
    """Every video of the dataset with its sampled frames and boxes (all validated up front)."""
    timelines = _cached_timelines(ws, config.dataset)
    videos = _videos(ws, config.dataset)
    video_ids = [row["video_id"] for row in videos]
    boxes = {kind: _box_rows(ws, config.dataset, kind, video_ids) for kind in config.boxes}
    planned = []
    for row in videos:
        frame_idx = timelines.get(row["video_id"])
        if frame_idx is None:
            frame_idx = sample_frame_indices(row["num_frames"], row["fps"], config.target_fps)
        planned.append(
            _Video(
                video_id=row["video_id"],
                path=row["path"],
                width=int(row["width"]),
                height=int(row["height"]),
                frame_idx=frame_idx,
                boxes={k: _boxes_on(boxes[k][row["video_id"]], frame_idx) for k in boxes},
            )
        )
    return planned


def _encoder(ws: Workspace, config: RegionExtractConfig) -> VisionLanguageEncoder:
    weights = config.weights
    if weights is None and config.encoder == DEFAULT_ENCODER:
        weights = substitute_dir(ws, config.dataset)
    return build_encoder(config.encoder, weights, resolve_device(config.device))


def _config_record(encoder: VisionLanguageEncoder) -> dict[str, Any]:
    """The structured config of a region set (the manifest's ``config`` column)."""
    return {
        "encoder": encoder.fingerprint.split(":", 1)[0],
        "weights": str(encoder.weights),
        "dim": encoder.dim,
        "image_size": encoder.image_size,
        "context_frames": encoder.context_frames,
    }


def run_region_extraction(
    ws: Workspace, config: RegionExtractConfig, progress: ProgressFn | None = None
) -> RegionExtractSummary:
    """Embed what is missing of ``config.dataset`` into the store (see module doc)."""
    progress = progress or no_progress
    for kind in config.boxes:
        if kind not in BOX_PARTS:
            raise BadInputError.for_field("boxes", kind, f"must be one of {', '.join(BOX_PARTS)}")
    videos = _plan(ws, config)
    encoder = _encoder(ws, config)
    summary = RegionExtractSummary(config.dataset, encoder.fingerprint, videos=len(videos))
    record = _config_record(encoder)
    identity = region_identity(encoder.fingerprint, str(encoder.weights), record)
    split = WorkSplit()
    started = time.perf_counter()
    with worker_lock(ws, config.dataset, split):
        remove_stale_files(ws, config.dataset, [REGIONS_MODEL], split)
        if config.replace_region_cache:
            remove_old_layout(ws)
            drop_model(ws, config.dataset, REGIONS_MODEL, keep_fingerprint=encoder.fingerprint)
        refuse_old_layout(ws, config.dataset)
        refuse_other_fingerprint(
            ws,
            config.dataset,
            REGIONS_MODEL,
            encoder.fingerprint,
            lambda old: config_differences(old["config"], record) if old["config"] else [],
            replace_field="replace_region_cache",
        )
        sentences = _sentences(ws, config.dataset)
        _drop_stale(ws, config, videos, sentences)
        cached = region_rows(ws, config.dataset)
        try:
            writers = partial(new_region_writer, ws, config.dataset, identity, split)
            _embed_videos(writers, config, encoder, videos, cached, summary, progress)
            _embed_sentences(writers, config, encoder, sentences, cached, summary, progress)
        finally:
            if summary.failures:
                append_rows(ws, "failures", pa.Table.from_pylist(summary.failures))
    summary.seconds = time.perf_counter() - started
    summary.regions_per_s = summary.regions / max(summary.seconds, 1e-9)
    return summary


def _sentences(ws: Workspace, dataset: str) -> list[dict[str, Any]]:
    """Every query of ``dataset`` with the digest of its sentence."""
    rows = query(
        ws,
        "SELECT query_id, video_id, sentence FROM queries WHERE dataset = ? ORDER BY query_id",
        [dataset],
    ).to_pylist()
    return [row | {"digest": array_digest(row["sentence"])} for row in rows]


def _drop_stale(
    ws: Workspace,
    config: RegionExtractConfig,
    videos: list[_Video],
    sentences: list[dict[str, Any]],
) -> None:
    """Drop the cached rows whose input changed, or that ``verify`` flagged after they were
    written, so that they are embedded again (a video is redone whole)."""
    cached = region_rows(ws, config.dataset)
    flags = verify_flags(ws, config.dataset)

    def stale(part: str, item: str, digest: str) -> bool:
        row = cached.get((part, item))
        if row is None:
            return False
        flag = flags.get((REGIONS_MODEL, item))
        return row["input_digest"] != digest or (flag is not None and flag[0] > row["created_at"])

    doomed = {
        video.video_id
        for video in videos
        for part in ("frames", *config.boxes)
        if stale(part, video.video_id, _digest(part, video))
    }
    doomed |= {
        row["query_id"] for row in sentences if stale("sentences", row["query_id"], row["digest"])
    }
    drop_items(ws, config.dataset, REGIONS_MODEL, doomed)


def _todo_kinds(video: _Video, kinds: tuple[str, ...], cached: dict) -> tuple[str, ...]:
    """The parts of ``video`` whose cached digest differs from its current inputs."""
    return tuple(
        kind
        for kind in ("frames", *kinds)
        if (row := cached.get((kind, video.video_id))) is None
        or row["input_digest"] != _digest(kind, video)
    )


def _embed_videos(
    writers: Callable[[], RegionWriter],
    config: RegionExtractConfig,
    encoder: VisionLanguageEncoder,
    videos: list[_Video],
    cached: dict,
    summary: RegionExtractSummary,
    progress: ProgressFn,
) -> None:
    task, started = f"regions {config.dataset}", time.perf_counter()
    writer = writers()
    try:
        for position, video in enumerate(videos, start=1):
            todo = _todo_kinds(video, config.boxes, cached)
            if not todo:
                summary.videos_cached += 1
            else:
                _embed_one(writer, encoder, video, todo, config, summary)
                if writer.num_items and summary.videos_done % config.videos_per_shard == 0:
                    writer.commit()
                    writer = writers()
            elapsed = max(time.perf_counter() - started, 1e-9)
            progress(task, position, len(videos), regions_per_s=summary.regions / elapsed)
    except BaseException:
        writer.abort()
        raise
    writer.commit()


def _embed_one(
    writer: RegionWriter,
    encoder: VisionLanguageEncoder,
    video: _Video,
    todo: tuple[str, ...],
    config: RegionExtractConfig,
    summary: RegionExtractSummary,
) -> None:
    """Embed one video's ``todo`` kinds into ``writer``, or record why it failed."""
    kinds = tuple(kind for kind in todo if kind != "frames")
    try:
        frame_embeddings, region_embeddings = _embed_video(encoder, video, kinds, config.batch_size)
    except VideoDecodeError as err:
        reason = err.reason
    except Exception as err:  # a bug or an exotic file: fail this video, keep the batch going
        log.warning("unexpected error embedding %s", video.path, exc_info=True)
        reason = f"unexpected error: {err!r}"[:300]
    else:
        if "frames" in todo:
            writer.add_frames(
                video.video_id, video.frame_idx, frame_embeddings, _digest("frames", video)
            )
            summary.frames += len(frame_embeddings)
        for kind in kinds:
            regions = replace(video.boxes[kind], embeddings=region_embeddings[kind])
            writer.add_boxes(kind, video.video_id, regions, _digest(kind, video))
            summary.regions += len(regions.embeddings)
        summary.videos_done += 1
        return
    summary.videos_failed += 1
    summary.failures.append(
        failure_row("extract-regions", config.dataset, video.video_id, reason, video.path)
    )


def _embed_sentences(
    writers: Callable[[], RegionWriter],
    config: RegionExtractConfig,
    encoder: VisionLanguageEncoder,
    sentences: list[dict[str, Any]],
    cached: dict,
    summary: RegionExtractSummary,
    progress: ProgressFn,
) -> None:
    """Embed every query whose sentence is not cached yet, into one shard."""
    todo = []
    for row in sentences:
        hit = cached.get(("sentences", row["query_id"]))
        if hit is not None and hit["input_digest"] == row["digest"]:
            summary.sentences_cached += 1
        else:
            todo.append(row)
    writer = writers()
    try:
        for start in range(0, len(todo), config.batch_size):
            chunk = todo[start : start + config.batch_size]
            embeddings = encoder.encode([row["sentence"] for row in chunk])
            writer.add_sentences(
                [row["query_id"] for row in chunk],
                [row["video_id"] for row in chunk],
                [row["digest"] for row in chunk],
                embeddings,
            )
            summary.sentences += len(chunk)
            progress(f"sentences {config.dataset}", summary.sentences, len(todo))
    except BaseException:
        writer.abort()
        raise
    writer.commit()
