"""Predictions of a trained CSDVL run: the model of a checkpoint, and its tubes on a split in
absolute frames and pixel boxes (the tube end rule is in ``heads.csdvl.engine``)."""

from __future__ import annotations

from pathlib import Path

import torch

from stvg.heads.csdvl.config import CSDVLConfig, TrainConfig, config_from_dict
from stvg.heads.csdvl.data import ordered_batches, query_data
from stvg.heads.csdvl.engine import predict
from stvg.heads.csdvl.model import CSDVL, FeatureDims, build_csdvl
from stvg.heads.eval.predictions import QueryPrediction
from stvg.heads.runs import load_checkpoint, read_run
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace


def load_model(checkpoint: Path) -> tuple[CSDVL, TrainConfig]:
    """The model stored in a checkpoint (eval mode) and its training configuration."""
    payload = load_checkpoint(checkpoint)
    config, train_config = config_from_dict(payload["config"])
    model = build_csdvl(config, FeatureDims(**payload["dims"]))
    model.load_state_dict(payload["model"])
    return model.eval(), train_config


def resolve_checkpoint(ws: Workspace, run_or_checkpoint: str) -> Path:
    """A checkpoint file given as a path, or a run id (its best checkpoint, else its last)."""
    path = Path(run_or_checkpoint)
    return path if path.is_file() else read_run(ws, run_or_checkpoint).checkpoint


def predict_run(
    ws: Workspace,
    run_or_checkpoint: str,
    dataset: str,
    split: str,
    progress: ProgressFn = no_progress,
) -> tuple[CSDVLConfig, TrainConfig, dict[str, QueryPrediction]]:
    """The configs of a trained run (its variant, its seed) and its predictions on a split, in
    absolute frames and pixel boxes (the tube end rule is in ``heads.csdvl.engine``)."""
    model, train_config = load_model(resolve_checkpoint(ws, run_or_checkpoint))
    data = query_data(ws, dataset, split, train_config.max_frames, train_config.features)
    loader = ordered_batches(data, train_config.batch_size, train_config.num_workers)
    device = torch.device(train_config.device)
    preds = predict(model.to(device), loader, device, progress, f"predict {split}", len(loader))
    return model.config, train_config, preds
