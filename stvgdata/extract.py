"""``stvg extract``: compute ResNet/SlowFast/RoBERTa features of a dataset into the cache.

Three stages overlap so the models never wait on I/O:
- decoder threads probe and decode videos, sending bounded chunks of sampled frames (memory
  stays flat whatever the video length);
- the calling thread batches whole chunks across videos and runs the frame models;
- a writer thread puts rows into HDF5 shards and commits them (shard first, manifest after).
The text model then encodes the queries. Work already in the manifest under the same
fingerprint is skipped (decided from the manifest alone) unless its input changed or its shard
is damaged (``stvgdata.cache.repair``): those items are dropped and computed again. Per-video
problems become ``failures`` rows and the run carries on; a full or read-only disk stops the
run with one ``StorageError`` line and leaves nothing half-written.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from stvg.schemas.tables import RANDOM_INIT_PREFIX
from stvg.stvgdata.adapters.sampling import sampling_of
from stvg.stvgdata.cache import (
    InputCheck,
    ModelIdentity,
    Redo,
    ShardWriter,
    StorageConfig,
    WorkSplit,
    drop_items,
    drop_model,
    file_stamp,
    item_of,
    items_to_redo,
    manifest_rows,
    new_shard_name,
    remove_stale_files,
    storage_faults,
    text_digest,
    verify_flags,
    video_digest,
    worker_lock,
)
from stvg.stvgdata.catalog import append_rows, connect, failure_row, fetch_arrow
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extract_plan import (
    other_fingerprint,
    planned_rows,
    probe_seconds_per_row,
    refuse_other_fingerprint,
)
from stvg.stvgdata.extractors import EXTRACTORS, is_text_model
from stvg.stvgdata.launch import default_decode_threads
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.video import VideoDecodeError, iter_frames, probe, sample_frame_indices
from stvg.stvgdata.workspace import Workspace

log = logging.getLogger(__name__)

ALL_MODELS = ("resnet101", "slowfast", "roberta")  # the default run: CSDVL's three inputs
TEXT_CHUNK = 256  # sentences per encode call (the extractor batches inside); progress step
TOKENS_PER_WORD = 1.3  # dry-run estimate of BPE tokens per word (+2 special tokens)
MIN_SIDE = 32  # smallest frame side: the frame models' stride


@dataclass(frozen=True)
class ExtractConfig:
    """One extraction run; CLI options map onto the fields."""

    dataset: str
    splits: tuple[str, ...] = ()  # empty: every split
    models: tuple[str, ...] = ALL_MODELS
    fps: float | None = None  # None: the dataset's sampling (stvgdata.adapters.sampling)
    input_size: tuple[int, int] | None = None  # (H, W); None: the dataset's sampling
    weights: dict[str, str] = field(default_factory=dict)  # model -> weights name or path
    random_init: bool = False  # models without ``weights`` get seeded random weights
    device: str = "auto"  # "auto": cuda when available, else cpu
    compute_dtype: str = "float32"
    autocast: str | None = None  # frame models' mixed precision: bfloat16, float16 (None: off)
    batch_size: int = 32  # frames per forward, rounded up to whole chunks (SlowFast clips)
    clip_frames: int = 32  # clip length in sampled frames (slowfast, vl-synth-motion-map)
    vit_arch: str = "b32"  # ViT shape without --weights (see stvgdata.extractors.vit)
    vit_layer: int | None = None  # ViT layer after which tokens are cached (None: half depth)
    decode_threads: int = field(default_factory=default_decode_threads)  # per this process
    prefetch_chunks: int = 4  # decoded chunks in flight: bounds memory
    storage: StorageConfig = field(default_factory=StorageConfig)
    split: WorkSplit = field(default_factory=WorkSplit)
    seed: int = 0
    tiny: bool = False  # small networks with the same interface (tests, demos)
    dry_run: bool = False
    replace_model_cache: bool = False  # drop cached features of another fingerprint first

    def __post_init__(self) -> None:
        unknown = [model for model in self.models if model not in EXTRACTORS]
        if unknown:
            raise BadInputError.for_field(
                "models", ",".join(unknown), f"unknown model; know {sorted(EXTRACTORS)}"
            )
        stray = [model for model in self.weights if model not in self.models]
        if stray:
            raise BadInputError.for_field(
                "weights", stray[0], f"not a model of this run; models: {','.join(self.models)}"
            )
        if self.input_size is not None and min(self.input_size) < MIN_SIDE:
            size = "x".join(map(str, self.input_size))
            raise BadInputError.for_field(
                "input_size", size, f"frames must be at least {MIN_SIDE}x{MIN_SIDE} (stride 32)"
            )

    @property
    def target_fps(self) -> float:
        return self.fps or sampling_of(self.dataset).fps

    @property
    def frame_size(self) -> tuple[int, int]:
        return self.input_size or sampling_of(self.dataset).frame_size


@dataclass
class ModelSummary:
    model: str
    fingerprint: str
    weights: str  # readable: IMAGENET1K_V2, roberta-base@<revision>, file:<hash>, random-init:0
    owned: int = 0  # items (videos or queries) of this process's share
    cached: int = 0  # already in the manifest: skipped
    redone: int = 0  # in the manifest but stale or damaged: computed again
    done: int = 0
    failed: int = 0
    rows: int = 0  # sampled frames or tokens (planned ones in a dry run)
    bytes: int = 0  # stored bytes (estimated in a dry run)
    est_seconds: float = 0.0  # dry run: rows x a timed probe's seconds per row on the device
    replaces: str = ""  # dry run: the cached fingerprint a real run would refuse, and how


@dataclass
class ExtractSummary:
    dataset: str
    dry_run: bool
    models: list[ModelSummary]
    shards: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    redo: list[Redo] = field(default_factory=list)  # cached items computed again, and why
    seconds: float = 0.0  # wall time of the work (decode -> commit), after models are built
    frames: int = 0  # sampled frames through the frame models

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    @property
    def random_init(self) -> bool:
        """Whether any model's features come from random weights."""
        return any(model.weights.startswith(RANDOM_INIT_PREFIX) for model in self.models)


# --------------------------------------------------------------------------------------------
# planning


@dataclass(frozen=True)
class _Video:
    video_id: str
    path: str
    fps: float
    num_frames: int


def _catalog_work(ws: Workspace, config: ExtractConfig) -> tuple[list[_Video], pa.Table]:
    """Videos and queries of the dataset (and splits) owned by this process, by id."""
    split_clause = f"AND split IN ({', '.join('?' * len(config.splits))})" if config.splits else ""
    params = [config.dataset, *config.splits]
    con = connect(ws)
    try:
        videos = con.execute(
            "SELECT video_id, path, fps, num_frames FROM videos "
            f"WHERE dataset = ? {split_clause} ORDER BY video_id",
            params,
        ).fetchall()
        queries = fetch_arrow(
            con,
            "SELECT query_id, video_id, sentence FROM queries "
            f"WHERE dataset = ? {split_clause} ORDER BY query_id",
            params,
        )
    finally:
        con.close()
    if not videos:
        raise BadInputError(
            ws.catalog_dir, config.dataset, "no videos in the catalog; run `stvg import` first"
        )
    owned = [_Video(*row) for row in videos if config.split.owns(row[0])]
    owned_ids = {video.video_id for video in owned}
    mask = [video_id in owned_ids for video_id in queries["video_id"].to_pylist()]
    return owned, queries.filter(pa.array(mask, pa.bool_()))


def extractor_config(config: ExtractConfig, model: str) -> Any:
    """The ``ExtractorConfig`` this run builds ``model`` from."""
    from stvg.stvgdata.extractors import ExtractorConfig, resolve_device

    return ExtractorConfig(
        fps=config.target_fps,
        input_size=config.frame_size,
        weights=config.weights.get(model),
        random_init=config.random_init,
        seed=config.seed,
        device=resolve_device(config.device),
        tiny=config.tiny,
        dtype=config.compute_dtype,
        autocast=config.autocast,
        clip_frames=config.clip_frames,
        vit_arch=config.vit_arch,
        vit_layer=config.vit_layer,
    )


def build_extractors(config: ExtractConfig) -> dict[str, Any]:
    """The configured models' extractors (also used by the benchmarks)."""
    return {model: extractor for model, (extractor, _) in _build(config).items()}


def _build(config: ExtractConfig) -> dict[str, tuple[Any, ModelIdentity]]:
    """model -> (its extractor, the identity its rows carry: fingerprint, weights, config)."""
    from stvg.stvgdata.extractors import build_extractor, config_record

    built = {}
    for model in config.models:
        settings = extractor_config(config, model)
        extractor = build_extractor(model, settings)
        record = json.dumps(config_record(settings, extractor), sort_keys=True)
        identity = ModelIdentity(
            model, extractor.fingerprint, extractor.fingerprint_text, extractor.weights, record
        )
        built[model] = (extractor, identity)
    return built


def _sampled_count(video: _Video, target_fps: float) -> int:
    return len(sample_frame_indices(video.num_frames, video.fps, target_fps))


def _estimate(
    summary: ModelSummary, extractor: Any, todo: list[Any], config: ExtractConfig
) -> None:
    """Planned rows and stored bytes of the items still to do (from catalog metadata only)."""
    itemsize = np.dtype(config.storage.dtype).itemsize
    if is_text_model(summary.model):
        summary.rows = sum(int(len(s.split()) * TOKENS_PER_WORD) + 2 for s in todo)
        summary.bytes = summary.rows * extractor.channels * itemsize
    else:
        cells = math.prod(extractor.output_grid())  # h*w positions, or tokens (vit)
        summary.rows = sum(_sampled_count(video, config.target_fps) for video in todo)
        summary.bytes = summary.rows * cells * extractor.channels * itemsize
    summary.est_seconds = summary.rows * probe_seconds_per_row(extractor) if summary.rows else 0.0


def _check_fingerprint(
    ws: Workspace,
    config: ExtractConfig,
    summary: ModelSummary,
    built: tuple[Any, ModelIdentity],
) -> None:
    """Refuse another cached fingerprint of the model (a dry run notes it instead)."""
    extractor, identity = built
    fps = None if is_text_model(summary.model) else config.target_fps
    record = json.loads(identity.config or "{}")
    planned = planned_rows(extractor, fps, config.storage.dtype, record)
    args = (ws, config.dataset, summary.model, summary.fingerprint, planned)
    if config.dry_run:
        summary.replaces = other_fingerprint(*args) or ""
    else:
        refuse_other_fingerprint(*args)


def _sound_cached_items(
    ws: Workspace,
    config: ExtractConfig,
    summary: ModelSummary,
    check: InputCheck,
    flags: dict[tuple[str, str], tuple[Any, str]],
) -> tuple[set[str], list[Redo]]:
    """Items of this process's share cached under the run's fingerprint that can stay, and
    those to compute again (stale, damaged or of unknown input)."""
    rows = manifest_rows(ws, config.dataset, summary.model, summary.fingerprint).to_pylist()
    rows = [row for row in rows if config.split.owns(row["video_id"])]
    redo = items_to_redo(ws.features_dir, rows, check, flags)
    cached = {item_of(row) for row in rows}
    return cached - {entry.item for entry in redo}, redo


# --------------------------------------------------------------------------------------------
# the writer side


class _Writers:
    """One open shard per model; rotates full shards and commits each once no video in it is
    still being written. Used by one thread at a time (the writer thread, or the caller)."""

    def __init__(
        self, ws: Workspace, config: ExtractConfig, identities: dict[str, ModelIdentity]
    ) -> None:
        self.ws, self.config, self.identities = ws, config, identities
        self.current: dict[str, ShardWriter] = {}
        self.retiring: list[ShardWriter] = []
        self.open: dict[tuple[str, str], tuple[ShardWriter, str]] = {}
        self.shards = 0

    def _writer(self, model: str) -> ShardWriter:
        writer = self.current.get(model)
        if writer is not None and writer.full:
            self.retiring.append(self.current.pop(model))
            self._commit_idle()
        if model not in self.current:
            name = new_shard_name(self.config.dataset, model, self.config.split)
            self.current[model] = ShardWriter(
                self.ws, name, self.config.dataset, self.config.storage
            )
        return self.current[model]

    def _commit_idle(self) -> None:
        for writer in [w for w in self.retiring if not w.has_open_arrays]:
            self.retiring.remove(writer)
            self.shards += bool(writer.commit())

    def begin(
        self,
        model: str,
        video_id: str,
        fps: float,
        frame_idx: np.ndarray,
        shape: tuple[int, int, int],
        input_digest: str | None,
    ) -> None:
        writer = self._writer(model)
        handle = writer.begin_video(
            self.identities[model], video_id, fps, frame_idx, shape, input_digest
        )
        self.open[(model, video_id)] = (writer, handle)

    def write(self, model: str, video_id: str, row_start: int, rows: np.ndarray) -> None:
        writer, handle = self.open[(model, video_id)]
        writer.write_rows(handle, row_start, rows)

    def finish(self, model: str, video_id: str) -> None:
        writer, handle = self.open.pop((model, video_id))
        writer.finish_video(handle)
        self._commit_idle()

    def discard(self, model: str, video_id: str) -> None:
        entry = self.open.pop((model, video_id), None)
        if entry is not None:
            entry[0].discard_video(entry[1])
            self._commit_idle()

    def add_tokens(self, model: str, query: dict[str, Any], ids, feats) -> None:
        writer = self._writer(model)
        writer.add_query_tokens(
            self.identities[model],
            query["query_id"],
            query["video_id"],
            ids,
            feats,
            text_digest(query["sentence"]),
        )

    def close(self) -> None:
        """Commit everything (open arrays of failed work are discarded, not committed)."""
        for writer in [*self.retiring, *self.current.values()]:
            self.shards += bool(writer.commit())
        self.retiring, self.current = [], {}

    def abort(self) -> None:
        for writer in [*self.retiring, *self.current.values()]:
            writer.abort()
        self.retiring, self.current = [], {}


class _WriterThread(threading.Thread):
    """Runs ``_Writers`` calls from a bounded queue so HDF5 writes overlap model compute."""

    def __init__(self, writers: _Writers, capacity: int) -> None:
        super().__init__(name="stvg-shard-writer", daemon=True)
        self.writers = writers
        self.calls: queue.Queue = queue.Queue(maxsize=capacity)
        self.error: BaseException | None = None

    def submit(self, method: str, *args: Any) -> None:
        if self.error is not None:
            raise RuntimeError("the shard writer failed") from self.error
        self.calls.put((method, args))

    def run(self) -> None:
        while (call := self.calls.get()) is not None:
            if self.error is None:
                try:
                    getattr(self.writers, call[0])(*call[1])
                except BaseException as exc:  # re-raised in the caller by submit/finish
                    self.error = exc

    def finish(self, commit: bool) -> None:
        self.calls.put(None)
        self.join()
        if self.error is not None:
            self.writers.abort()
            raise RuntimeError("the shard writer failed") from self.error
        (self.writers.close if commit else self.writers.abort)()


# --------------------------------------------------------------------------------------------
# the decoder side


@dataclass(frozen=True)
class _Start:
    video: _Video
    fps: float
    frame_idx: np.ndarray  # (T,) absolute indices of the sampled frames
    models: tuple[str, ...]
    input_digest: str | None  # digest.video_digest of the file as it was decoded


@dataclass(frozen=True)
class _Chunk:
    video_id: str
    row_start: int
    frames: np.ndarray  # (n, H, W, 3) uint8


@dataclass(frozen=True)
class _Failed:
    video: _Video
    reason: str
    models: tuple[str, ...]


_DECODER_DONE = object()


class _Decoders:
    """Threads that turn videos into ``_Start``/``_Chunk``/``_Failed`` events, in a bounded
    queue (PyAV releases the GIL while decoding)."""

    def __init__(
        self,
        todo: list[tuple[_Video, tuple[str, ...]]],
        config: ExtractConfig,
        min_frames: dict[str, int],
        chunk_len: int,
    ) -> None:
        self.tasks: queue.Queue = queue.Queue()
        for task in todo:
            self.tasks.put(task)
        self.events: queue.Queue = queue.Queue(maxsize=config.prefetch_chunks)
        self.config, self.min_frames, self.chunk_len = config, min_frames, chunk_len
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._run, name=f"stvg-decode-{i}", daemon=True)
            for i in range(max(1, config.decode_threads))
        ]

    def __iter__(self) -> Iterator[_Start | _Chunk | _Failed]:
        for thread in self.threads:
            thread.start()
        running = len(self.threads)
        while running:
            event = self.events.get()
            if event is _DECODER_DONE:
                running -= 1
            else:
                yield event

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def _put(self, event: object) -> bool:
        while not self.stop.is_set():
            try:
                self.events.put(event, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    video, models = self.tasks.get_nowait()
                except queue.Empty:
                    break
                self._decode(video, models)
        finally:
            self._put(_DECODER_DONE)

    def _decode(self, video: _Video, models: tuple[str, ...]) -> None:
        """Emit one video's events; any decoding problem fails the models still pending."""
        try:
            stamp = file_stamp(video.path)  # before decoding: a later change reads as stale
            info = probe(Path(video.path))
            frame_idx = sample_frame_indices(info.num_frames, info.fps, self.config.target_fps)
            too_short = tuple(m for m in models if len(frame_idx) < self.min_frames[m])
            if too_short:
                reason = (
                    f"video too short: {len(frame_idx)} sampled frames at "
                    f"{self.config.target_fps:g} fps, one clip needs "
                    f"{self.min_frames[too_short[0]]}"
                )
                self._put(_Failed(video, reason, too_short))
                models = tuple(m for m in models if m not in too_short)
            timeline_fps = min(self.config.target_fps, info.fps)
            digest = None if stamp is None else video_digest(stamp, frame_idx)
            start = _Start(video, timeline_fps, frame_idx, models, digest)
            if not models or not self._put(start):
                return
            frames: list[np.ndarray] = []
            row_start = 0
            for _, rgb in iter_frames(Path(video.path), frame_idx, self.config.frame_size):
                frames.append(rgb)
                if len(frames) == self.chunk_len:
                    if not self._put(_Chunk(video.video_id, row_start, np.stack(frames))):
                        return
                    row_start, frames = row_start + len(frames), []
            if frames:
                self._put(_Chunk(video.video_id, row_start, np.stack(frames)))
        except VideoDecodeError as err:
            self._put(_Failed(video, err.reason, models))
        except Exception as exc:  # a bug or an exotic file: fail this video, keep the batch going
            log.warning("unexpected error decoding %s", video.path, exc_info=True)
            self._put(_Failed(video, f"unexpected decode error: {exc!r}"[:300], models))


# --------------------------------------------------------------------------------------------
# the compute side


class _Batcher:
    """Collects whole chunks of one frame model across videos and runs them in batches."""

    def __init__(self, model: str, extractor: Any, batch_frames: int) -> None:
        self.model, self.extractor = model, extractor
        self.batch_frames = (
            math.ceil(batch_frames / extractor.chunk_frames) * extractor.chunk_frames
        )
        self.pending: list[tuple[str, int, int, np.ndarray]] = []  # video, row, real n, frames

    def add(self, video_id: str, row_start: int, frames: np.ndarray) -> Iterator[tuple]:
        self.pending.append((video_id, row_start, len(frames), self.extractor.pad_chunk(frames)))
        if sum(len(p[3]) for p in self.pending) >= self.batch_frames:
            yield from self.flush()

    def drop(self, video_id: str) -> None:
        self.pending = [p for p in self.pending if p[0] != video_id]

    def flush(self) -> Iterator[tuple[str, int, np.ndarray]]:
        """Run the pending frames: yields (video_id, row_start, rows (n, h, w, C))."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        frames = np.concatenate([p[3] for p in pending])
        features = self.extractor.forward(self.extractor.preprocess(frames)).numpy()
        offset = 0
        for video_id, row_start, real, padded in pending:
            yield video_id, row_start, features[offset : offset + real]
            offset += len(padded)


@dataclass
class _Progress:
    """Counts for the progress callback: videos finished and frames/s."""

    report: ProgressFn
    task: str
    total_videos: int
    started: float = field(default_factory=time.perf_counter)
    videos: int = 0
    frames: int = 0

    def __call__(self, videos: int = 0, frames: int = 0) -> None:
        self.videos += videos
        self.frames += frames
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        self.report(self.task, self.videos, self.total_videos, frames_per_s=self.frames / elapsed)


def _run_frame_models(
    todo: list[tuple[_Video, tuple[str, ...]]],
    extractors: dict[str, Any],
    writer: _WriterThread,
    summary: ExtractSummary,
    config: ExtractConfig,
    progress: ProgressFn,
) -> None:
    """Decode, batch and forward every (video, frame models) of ``todo`` into ``writer``."""
    models = sorted({m for _, ms in todo for m in ms})
    by_model = {s.model: s for s in summary.models}
    chunk_len = math.lcm(*(extractors[m].chunk_frames for m in models))
    batchers = {m: _Batcher(m, extractors[m], config.batch_size) for m in models}
    remaining: dict[tuple[str, str], int] = {}  # (model, video) -> rows still to compute
    videos_left: dict[str, set[str]] = {}  # video -> models not yet finished or failed
    count = _Progress(progress, f"extract {config.dataset}", len(todo))

    def settle(model: str, video_id: str) -> None:
        videos_left[video_id].discard(model)
        if not videos_left[video_id]:
            del videos_left[video_id]
            count(videos=1)

    def deliver(model: str, outputs: Iterator[tuple[str, int, np.ndarray]]) -> None:
        for video_id, row_start, rows in outputs:
            key = (model, video_id)
            if key not in remaining:  # the video failed meanwhile
                continue
            writer.submit("write", model, video_id, row_start, rows)
            remaining[key] -= len(rows)
            by_model[model].rows += len(rows)
            by_model[model].bytes += rows.size * np.dtype(config.storage.dtype).itemsize
            if remaining[key] == 0:
                del remaining[key]
                writer.submit("finish", model, video_id)
                by_model[model].done += 1
                settle(model, video_id)
            if model == models[0]:
                count(frames=len(rows))

    videos_left.update({video.video_id: set(ms) for video, ms in todo})
    decoders = _Decoders(todo, config, {m: extractors[m].min_frames for m in models}, chunk_len)
    try:
        for event in decoders:
            if isinstance(event, _Start):
                for model in event.models:
                    shape = (*extractors[model].output_grid(), extractors[model].channels)
                    video_id = event.video.video_id
                    writer.submit(
                        "begin",
                        model,
                        video_id,
                        event.fps,
                        event.frame_idx,
                        shape,
                        event.input_digest,
                    )
                    remaining[(model, event.video.video_id)] = len(event.frame_idx)
            elif isinstance(event, _Chunk):
                for model in models:
                    if (model, event.video_id) in remaining:
                        outputs = batchers[model].add(event.video_id, event.row_start, event.frames)
                        deliver(model, outputs)
            else:
                video = event.video
                for model in event.models:
                    batchers[model].drop(video.video_id)
                    if remaining.pop((model, video.video_id), None) is not None:
                        writer.submit("discard", model, video.video_id)
                    by_model[model].failed += 1
                    summary.failures.append(
                        failure_row(
                            "extract",
                            config.dataset,
                            video.video_id,
                            event.reason,
                            video.path,
                            model,
                        )
                    )
                    settle(model, video.video_id)
        for model in models:
            deliver(model, batchers[model].flush())
    finally:
        decoders.close()
    summary.frames = count.frames


def _run_text_model(
    model: str,
    extractor: Any,
    queries: list[dict[str, Any]],
    writers: _Writers,
    summary: ModelSummary,
    config: ExtractConfig,
    progress: ProgressFn,
) -> None:
    """Encode the queries' sentences in batches and append their tokens to shards."""
    itemsize = np.dtype(config.storage.dtype).itemsize
    for start in range(0, len(queries), TEXT_CHUNK):
        chunk = queries[start : start + TEXT_CHUNK]
        encoded = extractor.encode([q["sentence"] for q in chunk])
        for query, (token_ids, feats) in zip(chunk, encoded, strict=True):
            writers.add_tokens(model, query, token_ids, feats)
            summary.done += 1
            summary.rows += len(token_ids)
            summary.bytes += feats.size * itemsize
        progress(f"encode {model}", summary.done, len(queries))


# --------------------------------------------------------------------------------------------
# the entry point


def run_extraction(
    ws: Workspace, config: ExtractConfig, progress: ProgressFn | None = None
) -> ExtractSummary:
    """Extract the missing features of this process's share of ``config.dataset``."""
    progress = progress or no_progress
    videos, queries = _catalog_work(ws, config)
    built = _build(config)
    extractors = {model: extractor for model, (extractor, _) in built.items()}
    identities = {model: identity for model, (_, identity) in built.items()}
    summary = ExtractSummary(
        config.dataset,
        config.dry_run,
        [ModelSummary(m, identities[m].fingerprint, identities[m].weights) for m in config.models],
    )
    if config.replace_model_cache and not config.dry_run:
        with storage_faults(ws.features_dir):
            for model in config.models:
                fingerprint = identities[model].fingerprint
                drop_model(ws, config.dataset, model, keep_fingerprint=fingerprint)
    for model_summary in summary.models:
        if not config.replace_model_cache:
            _check_fingerprint(ws, config, model_summary, built[model_summary.model])

    frame_todo: dict[str, tuple[str, ...]] = {}
    text_todo: dict[str, list[dict[str, Any]]] = {}
    query_rows = queries.to_pylist()
    check = InputCheck(
        {video.video_id: video.path for video in videos},
        {query["query_id"]: query["sentence"] for query in query_rows},
    )
    flags = verify_flags(ws, config.dataset)
    for model_summary in summary.models:
        model = model_summary.model
        done, redo = _sound_cached_items(ws, config, model_summary, check, flags)
        summary.redo.extend(redo)
        model_summary.redone = len(redo)
        if is_text_model(model):
            todo_q = [q for q in query_rows if q["query_id"] not in done]
            model_summary.owned, text_todo[model] = len(query_rows), todo_q
            planned: list[Any] = [q["sentence"] for q in todo_q]
        else:
            todo_v = [v for v in videos if v.video_id not in done]
            model_summary.owned = len(videos)
            for video in todo_v:
                frame_todo[video.video_id] = (*frame_todo.get(video.video_id, ()), model)
            planned = todo_v
        model_summary.cached = model_summary.owned - len(planned)
        if config.dry_run:
            _estimate(model_summary, extractors[model], planned, config)
    if config.dry_run:
        return summary

    by_id = {video.video_id: video for video in videos}
    todo = [(by_id[video_id], models) for video_id, models in sorted(frame_todo.items())]
    started = time.perf_counter()
    with storage_faults(ws.features_dir):
        _write(ws, config, identities, todo, text_todo, extractors, summary, progress)
    summary.seconds = time.perf_counter() - started
    return summary


def _write(
    ws: Workspace,
    config: ExtractConfig,
    identities: dict[str, ModelIdentity],
    todo: list[tuple[_Video, tuple[str, ...]]],
    text_todo: dict[str, list[dict[str, Any]]],
    extractors: dict[str, Any],
    summary: ExtractSummary,
    progress: ProgressFn,
) -> None:
    """Under this process's lock: clean up after killed runs, drop the rows of items to redo,
    then compute and commit."""
    with worker_lock(ws, config.dataset, config.split):
        removed = remove_stale_files(ws, config.dataset, list(config.models), config.split)
        if removed:
            log.info("removed %d stale files of killed runs", removed)
        for model in config.models:
            items = {entry.item for entry in summary.redo if entry.model == model}
            drop_items(ws, config.dataset, model, items)
        writers = _Writers(ws, config, identities)
        try:
            if todo:
                thread = _WriterThread(writers, capacity=2 * config.prefetch_chunks)
                thread.start()
                try:
                    _run_frame_models(todo, extractors, thread, summary, config, progress)
                except BaseException:
                    thread.finish(commit=False)
                    raise
                thread.finish(commit=True)
            for model, todo_q in text_todo.items():
                model_summary = next(s for s in summary.models if s.model == model)
                _run_text_model(
                    model, extractors[model], todo_q, writers, model_summary, config, progress
                )
            writers.close()
        except BaseException:
            writers.abort()
            raise
        finally:
            if summary.failures:
                append_rows(ws, "failures", pa.Table.from_pylist(summary.failures))
    summary.shards = writers.shards


__all__ = [
    "ALL_MODELS",
    "ExtractConfig",
    "ExtractSummary",
    "ModelSummary",
    "build_extractors",
    "run_extraction",
]
