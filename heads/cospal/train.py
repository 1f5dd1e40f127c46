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

from stvg.heads.cospal.config import CospalConfig
from stvg.heads.cospal.curriculum import curriculum
from stvg.heads.cospal.data import (
    CospalData,
    collate_weak,
    difficulty,
    feature_dims,
    load_data,
    on_device,
    strided,
)
from stvg.heads.cospal.losses import crg_loss, tpg_loss
from stvg.heads.cospal.model import CospalModel, build_model
from stvg.heads.cospal.predict import predict, random_tubelet_prediction
from stvg.heads.distributed import refuse_torchrun
from stvg.heads.eval.ablation import STVG_METRICS
from stvg.heads.eval.evaluate import RunInfo, evaluate
from stvg.heads.eval.metrics import Summary
from stvg.heads.runs import (
    Run,
    TrainRequest,
    new_run,
    new_run_id,
    region_lineage,
    save_checkpoint,
    seed_everything,
)
from stvg.stvgdata.progress import ProgressFn
from stvg.stvgdata.workspace import Workspace

METHOD = "cospal"
PROTOCOL = "all-frames"


@dataclass
class CospalRun:
    run_id: str
    variant: str
    seed: int
    summary: Summary
    checkpoint: Path | None
    history: list[float] = field(default_factory=list)  # mean training loss per epoch
    seconds: float = 0.0


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
            batch = on_device(
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


def train_cospal(request: TrainRequest, data: CospalData | None = None) -> CospalRun:
    """Train one CoSPaL variant weakly, evaluate on the request's ``eval_split``, record it in
    ``runs`` and keep its weights and ``run.json`` in ``runs/<run_id>/`` (``data``: loaded); one
    process only (no process group)."""
    refuse_torchrun(METHOD)
    ws, dataset, config, progress = request.ws, request.dataset, request.config, request.progress
    data = data or load_data(ws, dataset, request.eval_split, config.use_slowfast)
    if data.use_slowfast != config.use_slowfast:
        raise ValueError("data loaded with a different use_slowfast than the config asks for")
    seed_everything(config.seed, config.device)
    began = time.perf_counter()
    model = build_model(*feature_dims(data), config).to(config.device)
    history = fit(model, data, config, progress)
    run = new_run(
        ws, METHOD, dataset, config.variant_name(), config.seed, config.to_dict(),
        feature_models(config),
    )  # fmt: skip
    run.features.append(region_lineage(ws, dataset))
    save_checkpoint(run.checkpoint, {"model": model.state_dict(), "config": config.to_dict()})
    predictions = predict(model, data.eval, data.videos, config)
    info = RunInfo(
        run.run_id, METHOD, run.variant, config.seed, run.config, str(run.checkpoint), run.features
    )
    summary = evaluate(ws, dataset, data.eval_split, predictions, PROTOCOL, info).summaries["all"]
    seconds = time.perf_counter() - began
    _finish(run, data.eval_split, summary, history, seconds)
    return CospalRun(
        run.run_id, run.variant, config.seed, summary, run.checkpoint, history, seconds
    )


def feature_models(config: CospalConfig) -> list[str]:
    """The cached models of the ``features`` view a run reads (the region store's encoder is
    recorded beside them as model ``regions``)."""
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


RANDOM_VARIANT = "random-tubelet"


def random_baseline(ws: Workspace, dataset: str, data: CospalData, seed: int) -> CospalRun:
    """The random-tubelet baseline (no training), recorded in ``runs`` like a variant."""
    rng = np.random.default_rng(seed)
    predictions = {
        q.query_id: random_tubelet_prediction(q, data.videos[q.video_id], rng) for q in data.eval
    }
    run_id = new_run_id(f"{METHOD}-{RANDOM_VARIANT}")
    info = RunInfo(
        run_id, METHOD, RANDOM_VARIANT, seed, {"seed": seed}, features=[region_lineage(ws, dataset)]
    )
    report = evaluate(ws, dataset, data.eval_split, predictions, PROTOCOL, info)
    return CospalRun(run_id, RANDOM_VARIANT, seed, report.summaries["all"], None)
