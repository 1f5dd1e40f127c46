"""Weakly-supervised training of CoSPaL and its evaluation into the ``runs`` table.

Training sees ``WEAK_FIELDS`` batches only (sentences, clips, tubelets): no GT box, tube
boundary or target id. Evaluation turns scores into tubes (``heads.cospal.predict``) and
scores them with ``heads.eval.evaluate`` like every head (method ``cospal``, variant = config)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from heads.cospal.config import CospalConfig
from heads.cospal.curriculum import curriculum
from heads.cospal.data import (
    VideoTubelets,
    WeakQuery,
    clip_present,
    collate_weak,
    difficulty,
    encode_queries,
    load_videos,
    strided,
    weak_query_rows,
)
from heads.cospal.losses import crg_loss, tpg_loss
from heads.cospal.model import CospalModel, CospalScores, build_model
from heads.cospal.predict import random_tubelet_prediction, relevant_span, tube_prediction
from heads.eval.ablation import STVG_METRICS
from heads.eval.evaluate import RunInfo, evaluate, new_run_id
from heads.eval.metrics import Summary
from heads.eval.predictions import QueryPrediction
from heads.runs import Run, load_checkpoint, new_run, save_checkpoint, seed_everything
from stvgdata.errors import BadInputError
from stvgdata.progress import ProgressFn, no_progress
from stvgdata.regions.store import load_text_encoder
from stvgdata.workspace import Workspace

METHOD = "cospal"
PROTOCOL = "all-frames"
TRAIN_SPLIT = "train"
EVAL_BATCH = 64


@dataclass(frozen=True, eq=False)
class CospalData:
    """Weak queries of both splits and the tubelets of their videos, loaded once per sweep."""

    train: list[WeakQuery]
    eval: list[WeakQuery]
    eval_split: str
    videos: dict[str, VideoTubelets]
    use_slowfast: bool  # the tubelets' dynamics hold in-box SlowFast features


@dataclass
class CospalRun:
    run_id: str
    variant: str
    seed: int
    summary: Summary
    checkpoint: Path | None
    history: list[float] = field(default_factory=list)  # mean training loss per epoch
    seconds: float = 0.0


def load_data(
    ws: Workspace,
    dataset: str,
    eval_split: str,
    use_slowfast: bool = True,
    with_train: bool = True,
) -> CospalData:
    """Queries of ``train`` (unless ``with_train`` is False: prediction only) and ``eval_split``
    with token embeddings from the regions' text encoder, and the ``VideoTubelets`` of their
    videos."""
    splits = (TRAIN_SPLIT, eval_split) if with_train else (eval_split,)
    rows = {TRAIN_SPLIT: []} | {split: weak_query_rows(ws, dataset, split) for split in splits}
    for split in splits:
        if not rows[split]:
            raise BadInputError(ws.catalog_dir, f"{dataset}/{split}", "no queries in this split")
    encoder = load_text_encoder(ws, dataset)
    sizes = {
        row["video_id"]: (float(row["width"]), float(row["height"]))
        for split_rows in rows.values()
        for row in split_rows
    }
    return CospalData(
        train=encode_queries(rows[TRAIN_SPLIT], encoder),
        eval=encode_queries(rows[eval_split], encoder),
        eval_split=eval_split,
        videos=load_videos(ws, dataset, sizes, use_slowfast),
        use_slowfast=use_slowfast,
    )


def _dims(data: CospalData) -> tuple[int, int]:
    video = next(iter(data.videos.values()))
    return video.appearance.shape[-1], video.dynamics.shape[-1]


def _on(batch: dict[str, object], device: str) -> dict[str, object]:
    """The batch with its tensors on ``device`` (query ids stay a list)."""
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def fit(
    model: CospalModel, data: CospalData, config: CospalConfig, progress: ProgressFn
) -> list[float]:
    """Train with the TPG (+ CRG) contrastive losses over the SPS curriculum; epoch losses."""
    optimizer = torch.optim.AdamW(model.parameters(), config.lr, weight_decay=config.weight_decay)
    hardness = np.array([difficulty(q, data.videos[q.video_id]) for q in data.train])
    rng = np.random.default_rng(config.seed)
    history = []
    for epoch in range(config.epochs):
        model.train()
        chosen = rng.permutation(curriculum(hardness, epoch, config))
        losses = []
        for start in range(0, len(chosen), config.batch_size):
            queries = [data.train[i] for i in chosen[start : start + config.batch_size]]
            batch = _on(
                strided(collate_weak(queries, data.videos), config.train_frame_stride),
                config.device,
            )
            scores = model(batch)
            loss = tpg_loss(scores, batch["video_index"])
            if config.crg:
                loss = loss + config.crg_weight * crg_loss(scores, batch["video_index"])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history.append(float(np.mean(losses)))
        progress("epoch", epoch + 1, config.epochs)
    return history


def _batch_predictions(
    scores: CospalScores, queries: list[WeakQuery], videos: dict, quantile: float
) -> list[QueryPrediction]:
    own = scores.own(scores.tubelet_scores()).masked_fill(~scores.tubelet_valid, -np.inf)
    frames = scores.frame_tpg if scores.frame_crg is None else scores.frame_tpg + scores.frame_crg
    predictions = []
    for i, query in enumerate(queries):
        video = videos[query.video_id]
        k = int(own[i, : len(video.tubelet_ids)].argmax())
        t = len(video.frame_idx)
        relevance = frames[i, k, :t].numpy()
        span = relevant_span(relevance, clip_present(video, query.segment)[k], quantile)
        predictions.append(tube_prediction(query, video, k, span))
    return predictions


@torch.no_grad()
def predict(
    model: CospalModel, queries: list[WeakQuery], videos: dict, config: CospalConfig
) -> dict[str, QueryPrediction]:
    """Tubes of ``queries``: the best tubelet of each and its relevant span."""
    model.eval()
    predictions = {}
    for start in range(0, len(queries), EVAL_BATCH):
        chunk = queries[start : start + EVAL_BATCH]
        scores = model(_on(collate_weak(chunk, videos), config.device)).to("cpu")
        for pred in _batch_predictions(scores, chunk, videos, config.span_quantile):
            predictions[pred.query_id] = pred
    return predictions


def _record(
    ws: Workspace,
    dataset: str,
    data: CospalData,
    predictions: dict[str, QueryPrediction],
    info: RunInfo,
) -> Summary:
    report = evaluate(ws, dataset, data.eval_split, predictions, PROTOCOL, info)
    return report.summaries["all"]


def train_cospal(
    ws: Workspace,
    dataset: str,
    config: CospalConfig,
    eval_split: str,
    progress: ProgressFn = no_progress,
    data: CospalData | None = None,
) -> CospalRun:
    """Train one CoSPaL variant weakly, evaluate on ``eval_split``, record it in ``runs`` and
    keep its weights and ``run.json`` in ``runs/<run_id>/``."""
    data = data or load_data(ws, dataset, eval_split, config.use_slowfast)
    if data.use_slowfast != config.use_slowfast:
        raise ValueError("data loaded with a different use_slowfast than the config asks for")
    seed_everything(config.seed, config.device)
    began = time.perf_counter()
    model = build_model(*_dims(data), config).to(config.device)
    history = fit(model, data, config, progress)
    run = new_run(
        ws, METHOD, dataset, config.variant_name(), config.seed, config.to_dict(),
        feature_models(config),
    )  # fmt: skip
    save_checkpoint(run.checkpoint, {"model": model.state_dict(), "config": config.to_dict()})
    predictions = predict(model, data.eval, data.videos, config)
    info = RunInfo(run.run_id, METHOD, run.variant, config.seed, run.config, str(run.checkpoint))
    summary = _record(ws, dataset, data, predictions, info)
    seconds = time.perf_counter() - began
    _finish(run, data.eval_split, summary, history, seconds)
    return CospalRun(
        run.run_id, run.variant, config.seed, summary, run.checkpoint, history, seconds
    )


def feature_models(config: CospalConfig) -> list[str]:
    """The cached models a run reads besides the region store."""
    return ["slowfast"] if config.use_slowfast else []


def _finish(run: Run, split: str, summary: Summary, history: list[float], seconds: float) -> None:
    """What training reported, in ``run.json``."""
    run.result = {
        "split": split,
        "epochs": len(history),
        "checkpoint": str(run.checkpoint),
        **{name: getattr(summary, name) for name in STVG_METRICS},
        "final_loss": history[-1] if history else None,
        "seconds": round(seconds, 1),
    }
    run.save()


def predict_checkpoint(
    ws: Workspace, dataset: str, split: str, checkpoint: Path
) -> tuple[CospalConfig, dict[str, QueryPrediction]]:
    """The config of a trained CoSPaL checkpoint and its predictions on ``split``."""
    payload = load_checkpoint(checkpoint)
    config = CospalConfig(**payload["config"])
    data = load_data(ws, dataset, split, config.use_slowfast, with_train=False)
    model = build_model(*_dims(data), config)
    model.load_state_dict(payload["model"])
    return config, predict(model.to(config.device), data.eval, data.videos, config)


RANDOM_VARIANT = "random-tubelet"


def random_baseline(ws: Workspace, dataset: str, data: CospalData, seed: int) -> CospalRun:
    """The random-tubelet baseline (no training), recorded in ``runs`` like a variant."""
    rng = np.random.default_rng(seed)
    predictions = {
        q.query_id: random_tubelet_prediction(q, data.videos[q.video_id], rng) for q in data.eval
    }
    run_id = new_run_id(f"{METHOD}-{RANDOM_VARIANT}")
    info = RunInfo(run_id, METHOD, RANDOM_VARIANT, seed, {"seed": seed})
    return CospalRun(run_id, RANDOM_VARIANT, seed, _record(ws, dataset, data, predictions, info),
                     None)  # fmt: skip
