"""``stvg train-vl-encoder``: train the ``stvg-vl-synth`` substitute contrastively (InfoNCE).

Data come from ONE split of one dataset (train, by default and in every reported result): for
each query, up to ``frames_per_query`` of its ground-truth frames; the crop of the target's box
on such a frame is paired with the query's sentence, and the detections on the same frame that
overlap the target little (IoU < ``negative_iou``) are its hard negatives: other objects of the
same scene, which only the words (colour, shape, person) tell apart. Other pairs of the batch
are negatives too, except pairs that show the same target object.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import torch
import torch.nn.functional as F

from stvg.stvgdata.catalog import query
from stvg.stvgdata.encoders.config import TrainVLConfig
from stvg.stvgdata.encoders.crops import context_offsets, images_to_tensor, stack_crops
from stvg.stvgdata.encoders.registry import substitute_dir
from stvg.stvgdata.encoders.vl_synth import (
    DualEncoder,
    SubstituteEncoder,
    Vocabulary,
    save_dual_encoder,
)
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.geometry import pairwise_box_iou
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.video.decode import iter_frames
from stvg.stvgdata.workspace import Workspace

MAX_SCALE = 100.0  # CLIP's cap on the learned logit scale


@dataclass(frozen=True)
class ContrastiveSet:
    """(crop, sentence) pairs with hard negatives; crops are stored once and indexed."""

    crops: np.ndarray  # (C, S, S, 3c) uint8, c = context_frames
    sentences: list[str]  # (E,) sentence of each pair
    positive: np.ndarray  # (E,) int64 crop of the target
    negatives: np.ndarray  # (E, K) int64 crops of other objects on that frame, -1 = none
    target: np.ndarray  # (E,) int64 object id: pairs with equal ids show the same object
    video: np.ndarray  # (E,) int64 video id (negatives of a video may show its other targets)


@dataclass
class TrainVLSummary:
    dataset: str
    split: str
    directory: str
    fingerprint: str
    pairs: int
    crops: int
    vocabulary: int
    epochs: int
    losses: list[float]  # mean loss per epoch
    seconds: float


# --------------------------------------------------------------------------------------------
# data


def split_queries(ws: Workspace, dataset: str, split: str) -> pa.Table:
    rows = query(
        ws,
        "SELECT q.query_id, q.video_id, q.sentence, q.target_id, b.frame_idx, "
        "b.x1, b.y1, b.x2, b.y2, v.path, v.width, v.height, v.fps, v.num_frames "
        "FROM queries q JOIN boxes b USING (dataset, query_id) "
        "JOIN videos v USING (dataset, video_id) "
        "WHERE q.dataset = ? AND q.split = ? ORDER BY q.video_id, q.query_id, b.frame_idx",
        [dataset, split],
    )
    if rows.num_rows == 0:
        raise BadInputError.for_field(
            "dataset", f"{dataset}/{split}", "no queries with boxes in this split"
        )
    return rows


def _detections(ws: Workspace, dataset: str) -> dict[tuple[str, int], np.ndarray]:
    """(video, frame) -> (n, 4) detector boxes: the hard-negative candidates."""
    rows = query(
        ws,
        "SELECT video_id, frame_idx, x1, y1, x2, y2 FROM detections WHERE dataset = ?",
        [dataset],
    ).to_pylist()
    by_frame: dict[tuple[str, int], list[list[float]]] = {}
    for row in rows:
        key = (row["video_id"], row["frame_idx"])
        by_frame.setdefault(key, []).append([row["x1"], row["y1"], row["x2"], row["y2"]])
    return {key: np.asarray(boxes, np.float32) for key, boxes in by_frame.items()}


def _evenly(count: int, wanted: int) -> np.ndarray:
    """Up to ``wanted`` indices spread evenly over range(count)."""
    return np.unique(np.linspace(0, count - 1, num=min(count, wanted)).round().astype(int))


@dataclass
class PairPlan:
    """Which GT frames become pairs: video -> frame -> [(pair index, GT box (4,))]."""

    frames: dict[str, dict[int, list[tuple[int, np.ndarray]]]] = field(default_factory=dict)
    videos: dict[str, dict] = field(default_factory=dict)  # video -> a row with its path, size
    sentences: list[str] = field(default_factory=list)
    target: list[int] = field(default_factory=list)
    video: list[int] = field(default_factory=list)


def plan_pairs(rows: list[dict], frames_per_query: int) -> PairPlan:
    """Pick each query's GT frames (evenly over its tube); number objects and videos."""
    by_query: dict[str, list[dict]] = {}
    for row in rows:
        by_query.setdefault(row["query_id"], []).append(row)
    plan = PairPlan()
    objects: dict[tuple[str, object], int] = {}
    video_numbers: dict[str, int] = {}
    for query_id, boxes in by_query.items():
        first = boxes[0]
        video_id = first["video_id"]
        plan.videos.setdefault(video_id, first)
        target = first["target_id"] if first["target_id"] is not None else query_id
        object_id = objects.setdefault((video_id, target), len(objects))
        for pick in _evenly(len(boxes), frames_per_query):
            box = np.array([boxes[pick][c] for c in ("x1", "y1", "x2", "y2")], np.float32)
            on_frame = plan.frames.setdefault(video_id, {}).setdefault(boxes[pick]["frame_idx"], [])
            on_frame.append((len(plan.sentences), box))
            plan.sentences.append(first["sentence"])
            plan.target.append(object_id)
            plan.video.append(video_numbers.setdefault(video_id, len(video_numbers)))
    return plan


def context_frame_idx(
    frame: int, num_frames: int, video_fps: float, config: TrainVLConfig
) -> np.ndarray:
    """Absolute frames (c,) of the window centred on GT ``frame``: neighbours one extraction
    step (video_fps / sample_fps frames) apart, clamped to the video as extraction clamps to
    its timeline."""
    step = max(1, round(video_fps / config.sample_fps))
    offsets = context_offsets(config.model.context_frames) * step
    return np.clip(frame + offsets, 0, num_frames - 1)


def collect_pairs(
    ws: Workspace, config: TrainVLConfig, progress: ProgressFn | None = None
) -> ContrastiveSet:
    """Decode the chosen GT frames of ``config.split`` (with their context frames) and crop
    targets and hard negatives, each as a (S, S, 3c) window of the same box."""
    progress = progress or no_progress
    plan = plan_pairs(
        split_queries(ws, config.dataset, config.split).to_pylist(), config.frames_per_query
    )
    detections = _detections(ws, config.dataset)
    rng = np.random.default_rng(config.seed)
    crops: list[np.ndarray] = []
    positive = np.zeros(len(plan.sentences), np.int64)
    negatives = np.full((len(plan.sentences), config.negatives), -1, np.int64)
    for done, (video_id, frames) in enumerate(plan.frames.items(), start=1):
        video = plan.videos[video_id]
        windows = {
            frame: context_frame_idx(frame, video["num_frames"], video["fps"], config)
            for frame in sorted(frames)
        }
        needed = np.unique(np.concatenate(list(windows.values())))
        size = (video["height"], video["width"])
        decoded = dict(iter_frames(Path(video["path"]), needed, size))  # a few frames per query
        for frame, window in windows.items():
            pairs = frames[frame]
            gt = np.stack([box for _, box in pairs])  # (P, 4)
            candidates = detections.get((video_id, frame), np.zeros((0, 4), np.float32))
            base = len(crops)
            rgbs = [decoded[int(f)] for f in window]
            crops.extend(
                stack_crops(rgbs, np.concatenate([gt, candidates]), config.model.image_size)
            )
            overlap = pairwise_box_iou(gt, candidates)  # (P, n)
            for row, (pair, _) in enumerate(pairs):
                positive[pair] = base + row
                others = np.flatnonzero(overlap[row] < config.negative_iou)
                chosen = rng.permutation(others)[: config.negatives]
                negatives[pair, : len(chosen)] = base + len(gt) + chosen
        progress(f"crops {config.dataset}/{config.split}", done, len(plan.frames))
    return ContrastiveSet(
        crops=np.stack(crops),
        sentences=plan.sentences,
        positive=positive,
        negatives=negatives,
        target=np.asarray(plan.target, np.int64),
        video=np.asarray(plan.video, np.int64),
    )


# --------------------------------------------------------------------------------------------
# the loss


def contrastive_loss(
    text: torch.Tensor,
    images: torch.Tensor,
    negative_owner: torch.Tensor,
    target: torch.Tensor,
    video: torch.Tensor,
    scale: torch.Tensor,
) -> torch.Tensor:
    """Symmetric InfoNCE over B pairs plus M hard negatives.

    ``text`` (B, D) and ``images`` (B + M, D) are L2-normalized, the first B images being the
    pairs' crops and the last M hard negatives, negative m belonging to pair
    ``negative_owner[m]``. Text i is scored against every image; image i against every text.
    Logits of other pairs showing the same object (``target`` equal) are masked, and so are
    hard negatives of another pair of the same video (they may show pair i's object).
    """
    batch = text.shape[0]
    own = torch.eye(batch, dtype=torch.bool, device=text.device)
    same_object = (target[:, None] == target[None, :]) & ~own  # (B, B)
    owner_video = video[negative_owner]  # (M,)
    foreign = (video[:, None] == owner_video[None, :]) & (
        negative_owner[None, :] != torch.arange(batch, device=text.device)[:, None]
    )  # (B, M)
    text_logits = scale * text @ images.T  # (B, B + M)
    text_logits = text_logits.masked_fill(torch.cat([same_object, foreign], 1), float("-inf"))
    image_logits = (scale * images[:batch] @ text.T).masked_fill(same_object, float("-inf"))
    labels = torch.arange(batch, device=text.device)
    return (F.cross_entropy(text_logits, labels) + F.cross_entropy(image_logits, labels)) / 2


def _step_inputs(
    data: ContrastiveSet, batch: np.ndarray, rng: np.random.Generator, flip: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """(images (B + M, 3c, S, S), owner (M,) of each negative); with ``flip`` random horizontal
    flips (colour and shape survive a mirror; a motion to the left does not, so a motion-aware
    tower trains without them)."""
    negatives = data.negatives[batch]  # (B, K)
    owner, slot = np.nonzero(negatives >= 0)
    indices = np.concatenate([data.positive[batch], negatives[owner, slot]])
    images = images_to_tensor(data.crops[indices])
    if flip:
        flipped = torch.from_numpy(rng.random(len(indices)) < 0.5)
        images[flipped] = images[flipped].flip(-1)
    return images, torch.from_numpy(owner)


BatchLoss = Callable[[np.ndarray, np.random.Generator], torch.Tensor]
"""indices of one batch (into the training pairs), the run's rng -> the batch's loss."""


class ContrastiveSchedule(Protocol):
    """The fields of a pretraining config that ``fit_contrastive`` reads."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    seed: int


def fit_contrastive(
    model: torch.nn.Module,
    num_pairs: int,
    batch_loss: BatchLoss,
    hyper: ContrastiveSchedule,
    progress: ProgressFn,
    task: str,
) -> list[float]:
    """The loop every stvg contrastive pretraining shares: shuffled batches of pairs, AdamW with
    a cosine schedule over all steps; returns the mean loss per epoch."""
    rng = np.random.default_rng(hyper.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=hyper.lr, weight_decay=hyper.weight_decay)
    batch_size = min(hyper.batch_size, num_pairs)
    steps_per_epoch = max(1, num_pairs // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, hyper.epochs * steps_per_epoch)
    losses = []
    model.train()
    for epoch in range(hyper.epochs):
        order = rng.permutation(num_pairs)
        total = 0.0
        for step in range(steps_per_epoch):
            loss = batch_loss(order[step * batch_size : (step + 1) * batch_size], rng)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
        losses.append(total / steps_per_epoch)
        progress(task, epoch + 1, hyper.epochs, loss=losses[-1])
    model.eval()
    return losses


def train_dual_encoder(
    model: DualEncoder,
    data: ContrastiveSet,
    config: TrainVLConfig,
    progress: ProgressFn | None = None,
) -> list[float]:
    """Symmetric InfoNCE of sentences vs region crops (same-object crops are not negatives)."""
    target, video = torch.from_numpy(data.target), torch.from_numpy(data.video)
    flip = config.model.context_frames == 1

    def batch_loss(batch: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        images, owner = _step_inputs(data, batch, rng, flip)
        return contrastive_loss(
            model.embed_texts([data.sentences[i] for i in batch]),
            model.embed_images(images),
            owner,
            target[batch],
            video[batch],
            model.log_scale.exp().clamp(max=MAX_SCALE),
        )

    return fit_contrastive(
        model,
        len(data.sentences),
        batch_loss,
        config,
        progress or no_progress,
        "train stvg-vl-synth",
    )


def run_vl_training(
    ws: Workspace, config: TrainVLConfig, progress: ProgressFn | None = None
) -> TrainVLSummary:
    """Collect the split's pairs, train the substitute and save it (config + weights)."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    started = time.perf_counter()
    data = collect_pairs(ws, config, progress)
    vocabulary = Vocabulary.build(data.sentences)
    model = DualEncoder(config.model, vocabulary)
    losses = train_dual_encoder(model, data, config, progress)
    directory = Path(config.output) if config.output else substitute_dir(ws, config.dataset)
    provenance = {
        "dataset": config.dataset,
        "split": config.split,
        "pairs": len(data.sentences),
        "epochs": config.epochs,
        "seed": config.seed,
        "context_frames": config.model.context_frames,
        "final_loss": losses[-1],
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    save_dual_encoder(model, directory, provenance)
    return TrainVLSummary(
        dataset=config.dataset,
        split=config.split,
        directory=str(directory),
        fingerprint=SubstituteEncoder(directory).fingerprint,
        pairs=len(data.sentences),
        crops=len(data.crops),
        vocabulary=len(vocabulary.tokens),
        epochs=config.epochs,
        losses=[round(loss, 4) for loss in losses],
        seconds=time.perf_counter() - started,
    )
