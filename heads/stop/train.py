"""Training and evaluation of STOP on cached tokens: only prompts and small heads learn, with a
symmetric contrastive loss plus, where labels are given, classification; the run is evaluated
on ``eval_split`` and recorded in ``runs``.

An epoch visits every clip once, in batches of distinct clips, each paired with one of its
sentences drawn at random (so a batch holds no duplicate positives and an epoch costs one
forward per clip, not per sentence)."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import torch
import torch.nn.functional as F

from stvg.heads.distributed import refuse_torchrun
from stvg.heads.eval.retrieval import RetrievalSummary
from stvg.heads.runs import (
    LAST_CHECKPOINT,
    Run,
    TrainRequest,
    new_run,
    save_checkpoint,
    seed_everything,
)
from stvg.heads.stop.config import StopConfig
from stvg.heads.stop.data import TEXT_MODEL, VIDEO_MODEL, RetrievalSplit, load_split
from stvg.heads.stop.frozen import build_frozen_top
from stvg.heads.stop.labels import load_labels
from stvg.heads.stop.losses import contrastive_loss
from stvg.heads.stop.model import StopDims, StopModel, build_stop
from stvg.heads.stop.predict import evaluate_split
from stvg.stvgdata.catalog import append_rows
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

METHOD = "stop"
PROTOCOL = "retrieval-tube-clips"  # runs.protocol of STOP rows (see heads.stop.data)


@dataclass(frozen=True)
class StopData:
    train: RetrievalSplit
    eval: RetrievalSplit
    eval_split: str


@dataclass
class StopRun:
    run_id: str
    run_dir: Path
    config: StopConfig
    eval_split: str
    retrieval: RetrievalSummary
    accuracy: float | None
    history: list[dict[str, float]] = field(default_factory=list)
    seconds_per_step: float = 0.0
    features: list[dict] = field(default_factory=list)  # (model, fingerprint, weights) read


def load_data(ws: Workspace, dataset: str, config: StopConfig, eval_split: str) -> StopData:
    """Both splits, with the classes ``config.labels`` names; labels that leave every training
    clip unlabelled are refused rather than trained on silently."""
    labels = load_labels(config.labels)
    train = load_split(ws, dataset, config.train_split, config.frames, labels)
    if labels is not None and not bool((train.clip_labels >= 0).any()):
        raise BadInputError(
            labels.source,
            f"{dataset}/{config.train_split}",
            "no labels for classification: no training clip has one (give a table of "
            "query_id,label as `labels`)",
        )
    eval_data = load_split(ws, dataset, eval_split, config.frames, labels)
    return StopData(train=train, eval=eval_data, eval_split=eval_split)


def build_model(config: StopConfig, data: RetrievalSplit) -> StopModel:
    """The frozen top matching the cached tokens (checked), prompters and heads."""
    frozen = build_frozen_top(config, data.cached_config)
    height, width = data.frame_size
    dims = StopDims(
        vit_dim=data.clips.shape[-1],
        grid=(height // frozen.patch_size, width // frozen.patch_size),
        text_dim=data.text.shape[-1],
        num_classes=max(1, len(data.classes)),  # one unused class without labels
    )
    return build_stop(config, dims, frozen)


def training_step(
    model: StopModel,
    data: RetrievalSplit,
    clips: torch.Tensor,
    sentences: torch.Tensor,
    config: StopConfig,
) -> dict[str, torch.Tensor]:
    """Losses of a batch of distinct clips (B,) and one sentence of each (B,)."""
    device = next(model.video_proj.parameters()).device
    video = model.encode_video(data.clips[clips].to(device, torch.float32))
    mask = data.text_mask[sentences].to(device)
    text = model.encode_text(data.text[sentences].to(device), mask)
    retrieval = contrastive_loss(text, video, config.temperature)
    labels = data.clip_labels[clips].to(device)
    known = labels >= 0
    classification = (
        F.cross_entropy(model.classify(video[known]), labels[known])
        if known.any()
        else video.new_zeros(())
    )
    total = retrieval + config.class_weight * classification
    return {"total": total, "retrieval": retrieval, "classification": classification}


def clip_order(
    clip_keys: list[tuple[str, int, int]], by_video: bool, generator: torch.Generator
) -> torch.Tensor:
    """An epoch's order of the clips (G,): a random permutation, or with ``by_video`` the
    videos in random order, each video's clips together and shuffled among themselves."""
    order = torch.randperm(len(clip_keys), generator=generator)
    if not by_video:
        return order
    videos = sorted({video for video, _, _ in clip_keys})
    rank = torch.randperm(len(videos), generator=generator)
    video_rank = {video: int(rank[i]) for i, video in enumerate(videos)}
    keys = torch.tensor([video_rank[clip_keys[i][0]] for i in order.tolist()])
    return order[torch.sort(keys, stable=True).indices]


def sentence_draw(data: RetrievalSplit, generator: torch.Generator) -> torch.Tensor:
    """One sentence index per clip (G,), drawn uniformly among the clip's sentences."""
    keys = torch.rand(len(data.target), generator=generator) + data.target  # clip + U[0, 1)
    order = keys.argsort()  # sentences grouped by clip, shuffled within
    first = torch.searchsorted(data.target[order], torch.arange(len(data.clips)))
    return order[first]


def fit(
    model: StopModel, data: RetrievalSplit, config: StopConfig, progress: ProgressFn
) -> tuple[list[dict[str, float]], float]:
    """Train the prompts and heads; returns per-epoch mean losses and seconds per step."""
    optimizer = torch.optim.AdamW(
        model.trainable_parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    generator = torch.Generator().manual_seed(config.seed)
    history, steps, started = [], 0, time.perf_counter()
    for epoch in range(config.epochs):
        model.train()
        clips = clip_order(data.clip_keys, config.video_batches, generator)
        sentences = sentence_draw(data, generator)
        sums: dict[str, float] = {}
        batches = [
            clips[i : i + config.batch_size] for i in range(0, len(clips), config.batch_size)
        ]
        for done, batch in enumerate(batches, 1):
            losses = training_step(model, data, batch, sentences[batch], config)
            optimizer.zero_grad(set_to_none=True)
            losses["total"].backward()
            optimizer.step()
            for name, value in losses.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            steps += 1
            progress(f"epoch {epoch + 1}/{config.epochs}", done, len(batches))
        history.append({"epoch": epoch + 1, **{k: v / len(batches) for k, v in sums.items()}})
    return history, (time.perf_counter() - started) / max(steps, 1)


def trainable_state(model: StopModel) -> dict[str, torch.Tensor]:
    """The trained tensors only (prompters and heads); the frozen top is rebuilt from weights."""
    return {k: v for k, v in model.state_dict().items() if not k.startswith("frozen.")}


def run_stop(
    ws: Workspace,
    dataset: str,
    config: StopConfig,
    data: StopData,
    progress: ProgressFn = no_progress,
) -> StopRun:
    """Train ``config`` on ``data.train``, evaluate on ``data.eval``, keep the trained tensors
    and ``run.json`` in ``runs/<run_id>/``."""
    seed_everything(config.seed, config.device)
    model = build_model(config, data.train).to(config.device)
    history, seconds_per_step = fit(model, data.train, config, progress)
    summary, motion_accuracy = evaluate_split(model, data.eval)
    record = new_run(
        ws, METHOD, dataset, config.variant_name(), config.seed, config.to_dict(),
        [VIDEO_MODEL, TEXT_MODEL],
    )  # fmt: skip
    save_checkpoint(
        record.checkpoint, {"model": trainable_state(model), "config": config.to_dict()}
    )
    run = StopRun(
        record.run_id,
        record.run_dir,
        config,
        data.eval_split,
        summary,
        motion_accuracy,
        history,
        seconds_per_step,
        record.features,
    )
    _finish(record, run)
    return run


def _finish(record: Run, run: StopRun) -> None:
    """What training reported, in ``run.json``."""
    record.result = {
        "split": run.eval_split,
        "epochs": len(run.history),
        "checkpoint": str(record.run_dir),
        **dataclasses.asdict(run.retrieval),
        "accuracy": run.accuracy,
        "final_loss": run.history[-1]["total"] if run.history else None,
        "seconds_per_step": run.seconds_per_step,
    }
    record.save()


def runs_row(run: StopRun, dataset: str, created_at: datetime) -> pa.Table:
    """The run's row of the ``runs`` table (grounding metrics null, retrieval ones set)."""
    row = {
        "run_id": run.run_id,
        "dataset": dataset,
        "method": METHOD,
        "variant": run.config.variant_name(),
        "split": run.eval_split,
        "protocol": PROTOCOL,
        "sentence_type": "all",
        "seed": run.config.seed,
        "num_queries": run.retrieval.num_queries,
        "num_missing": 0,
        **{m: None for m in ("m_viou", "viou_03", "viou_05", "m_tiou", "m_siou")},
        "r_at_1": run.retrieval.r_at_1,
        "r_at_5": run.retrieval.r_at_5,
        "r_at_10": run.retrieval.r_at_10,
        "median_rank": run.retrieval.median_rank,
        "accuracy": run.accuracy,
        "config": json.dumps(run.config.to_dict(), sort_keys=True),
        "checkpoint": str(run.run_dir / LAST_CHECKPOINT),
        "features": run.features,
        "created_at": created_at,
    }
    return pa.Table.from_pylist([row])


def train_stop(request: TrainRequest, data: StopData | None = None) -> StopRun:
    """Train, evaluate and record one STOP run (``data``: splits already loaded); one process
    only (no process group)."""
    refuse_torchrun(METHOD)
    ws, dataset, config = request.ws, request.dataset, request.config
    data = data or load_data(ws, dataset, config, request.eval_split)
    run = run_stop(ws, dataset, config, data, request.progress)
    append_rows(ws, "runs", runs_row(run, dataset, datetime.now(UTC)))
    return run
