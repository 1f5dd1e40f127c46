"""Training runs of the CSDVL head on cached features: seeded, deterministic on CPU, one
checkpoint per epoch in ``<workspace>/runs/<run_id>/`` beside the full configuration, resume,
optional early stopping on val m_vIoU, and DDP when launched by torchrun (see
``heads.distributed``: gloo on the CPU, nccl with each rank on ``cuda:<LOCAL_RANK>``):

    torchrun --nproc_per_node 2 --no-python stvg train --dataset NAME ...

Under DDP every rank trains on its share of each epoch (DistributedSampler); rank 0 alone
validates and writes checkpoints, and tells the others when to stop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler

from stvg.heads.csdvl.config import CSDVLConfig, TrainConfig, config_from_dict, config_to_dict
from stvg.heads.csdvl.data import QueryData, ordered_batches, query_data
from stvg.heads.csdvl.engine import predict, train_one_epoch
from stvg.heads.csdvl.model import CSDVL, build_csdvl
from stvg.heads.distributed import broadcast, distributed, is_rank_zero, process_group
from stvg.heads.eval.evaluate import load_ground_truth, score_all
from stvg.heads.eval.metrics import summarize
from stvg.heads.eval.protocols import DEFAULT_PROTOCOL, get_protocol
from stvg.heads.runs import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    Run,
    load_checkpoint,
    new_run,
    new_run_id,
    read_run,
    run_checkpoint,
    run_folder,
    save_checkpoint,
    seed_everything,
)
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

METHOD = "csdvl"

Validate = Callable[[CSDVL], float]


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    epochs_completed: int
    history: list[dict[str, float]]
    best_epoch: int | None = None
    best_val_m_viou: float | None = None
    stopped_early: bool = False
    run: Run | None = None  # the run's record (run.json), set by ``train``

    @property
    def checkpoint(self) -> Path:
        return run_checkpoint(self.run_dir)


@dataclass
class _State:
    """What a checkpoint restores besides the weights."""

    epoch: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_metric: float | None = None
    best_epoch: int | None = None
    bad_epochs: int = 0


def _epoch_loader(data: QueryData, train_config: TrainConfig, epoch: int) -> DataLoader:
    """The shuffled batches of one epoch; the order depends only on (seed, epoch), so a
    resumed run sees the same batches as an uninterrupted one."""
    if distributed():
        sampler = DistributedSampler(data.dataset, shuffle=True, seed=train_config.seed)
        sampler.set_epoch(epoch)
    else:
        generator = torch.Generator().manual_seed(train_config.seed * 10_000 + epoch)
        sampler = RandomSampler(data.dataset, generator=generator)
    return DataLoader(
        data.dataset,
        batch_size=train_config.batch_size,
        sampler=sampler,
        collate_fn=data.collate,
        num_workers=train_config.num_workers,
    )


def _save_checkpoint(
    path: Path,
    model: CSDVL,
    optimizer: torch.optim.Optimizer,
    state: _State,
    train_config: TrainConfig,
) -> None:
    payload = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "state": dataclasses.asdict(state),
        "rng": torch.get_rng_state(),
        "config": config_to_dict(model.config, train_config),
        "dims": dataclasses.asdict(model.dims),
    }
    save_checkpoint(path, payload)


def _update_best(state: _State, metric: float | None, epoch: int) -> bool:
    """Record the epoch's val metric; True when it is the best so far."""
    if metric is None:
        return False
    if state.best_metric is None or metric > state.best_metric:
        state.best_metric, state.best_epoch, state.bad_epochs = metric, epoch, 0
        return True
    state.bad_epochs += 1
    return False


def fit(
    run_dir: Path,
    data: QueryData,
    config: CSDVLConfig,
    train_config: TrainConfig,
    validate: Validate | None = None,
    progress: ProgressFn = no_progress,
    resume: bool = False,
) -> RunResult:
    """Train ``config`` on ``data`` into ``run_dir`` (checkpoints there after every epoch)."""
    device = torch.device(train_config.device)
    seed_everything(train_config.seed, device)
    model = build_csdvl(config, data.dims).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=train_config.lr, weight_decay=train_config.weight_decay
    )
    state = _State()
    last = run_dir / LAST_CHECKPOINT
    if resume and last.exists():
        payload = load_checkpoint(last)
        model.load_state_dict(payload["model"])
        optimizer.load_state_dict(payload["optimizer"])
        state = _State(**payload["state"])
        torch.set_rng_state(payload["rng"])
    if is_rank_zero():
        run_dir.mkdir(parents=True, exist_ok=True)
    # The last STCMT layer's text branch feeds nothing (the heads read visual features only),
    # so DDP must tolerate parameters without gradients.
    trained = (
        nn.parallel.DistributedDataParallel(
            model,
            device_ids=[device] if device.type == "cuda" else None,
            find_unused_parameters=True,
        )
        if distributed()
        else model
    )
    stopped_early = False
    for epoch in range(state.epoch, train_config.epochs):
        warming_up = config.exchanges and epoch < train_config.collab_warmup
        model.exchange_on = not warming_up
        loader = _epoch_loader(data, train_config, epoch)
        task = f"epoch {epoch + 1}/{train_config.epochs}"
        losses = train_one_epoch(
            trained,
            loader,
            optimizer,
            config,
            train_config.grad_clip,
            device,
            progress,
            task,
            len(loader),
        )
        metric = validate(model) if validate is not None and is_rank_zero() else None
        is_best = not warming_up and _update_best(state, metric, epoch)
        state.epoch = epoch + 1
        entry = {"epoch": epoch + 1, "warmup": float(warming_up), **losses}
        state.history.append({**entry, **_metric_entry(metric)})
        if is_rank_zero():
            _save_checkpoint(last, model, optimizer, state, train_config)
            if is_best:
                _save_checkpoint(run_dir / BEST_CHECKPOINT, model, optimizer, state, train_config)
        patience = train_config.patience
        stopped_early = broadcast(patience is not None and state.bad_epochs >= patience)
        if stopped_early:
            break
    return RunResult(
        run_id=run_dir.name,
        run_dir=run_dir,
        epochs_completed=state.epoch,
        history=state.history,
        best_epoch=None if state.best_epoch is None else state.best_epoch + 1,
        best_val_m_viou=state.best_metric,
        stopped_early=stopped_early,
    )


def check_warmup(config: CSDVLConfig, train_config: TrainConfig) -> None:
    """A warm start must leave epochs with the exchange on, or the run trains another variant."""
    warmup = train_config.collab_warmup
    if warmup < 0:
        raise BadInputError.for_field("collab_warmup", warmup, "must be 0 or more epochs")
    if config.exchanges and warmup >= train_config.epochs:
        raise BadInputError.for_field(
            "collab_warmup",
            warmup,
            f"leaves none of the {train_config.epochs} epochs with the exchange on",
        )


def _metric_entry(metric: float | None) -> dict[str, float]:
    return {} if metric is None else {"val_m_viou": metric}


def make_validator(
    ws: Workspace,
    dataset: str,
    split: str,
    train_config: TrainConfig,
    protocol: str = DEFAULT_PROTOCOL,
) -> Validate:
    """m_vIoU of a model on ``split`` (scored by F's metrics; nothing is written)."""
    data = query_data(ws, dataset, split, train_config.max_frames, train_config.features)
    ground_truth = load_ground_truth(ws, dataset, split)
    chosen = get_protocol(protocol)
    loader = ordered_batches(data, train_config.batch_size, train_config.num_workers)

    def validate(model: CSDVL) -> float:
        predictions = predict(model, loader, train_config.device)
        return summarize(score_all(ground_truth, predictions, chosen)).m_viou

    return validate


def read_run_config(ws: Workspace, run_id: str) -> tuple[CSDVLConfig, TrainConfig]:
    """The configuration a run was started with (to resume it)."""
    return config_from_dict(read_run(ws, run_id).config)


def _start_run(
    ws: Workspace, dataset: str, config: CSDVLConfig, train_config: TrainConfig, run_id: str
) -> Run:
    """The run's record as training starts (method, configuration, features read); rank 0
    writes it."""
    features = dataclasses.asdict(train_config.features)
    run = new_run(
        ws,
        METHOD,
        dataset,
        config.variant_name(),
        train_config.seed,
        config_to_dict(config, train_config),
        sorted(set(features.values())),
        run_id,
    )
    if is_rank_zero():
        run.save()
    return run


def _finish_run(run: Run, result: RunResult) -> None:
    """What training reported, in the record (rank 0 writes it)."""
    run.result = {
        "epochs": result.epochs_completed,
        "checkpoint": str(result.checkpoint),
        "best_epoch": result.best_epoch,
        "best_val_m_viou": result.best_val_m_viou,
        "stopped_early": result.stopped_early,
        "final_loss": result.history[-1]["total"] if result.history else None,
        "history": result.history,  # per epoch: loss terms and the val metric (stvg plot)
    }
    if is_rank_zero():
        run.save()
    result.run = run


def train(
    ws: Workspace,
    dataset: str,
    config: CSDVLConfig,
    train_config: TrainConfig,
    progress: ProgressFn = no_progress,
    run_id: str | None = None,
    resume: bool = False,
) -> RunResult:
    """Train CSDVL on the cached ``train_split`` of ``dataset``; validate on ``val_split`` each
    epoch when it is set (keeps the best checkpoint, allows early stopping)."""
    if train_config.patience is not None and train_config.val_split is None:
        raise BadInputError.for_field(
            "patience", train_config.patience, "early stopping needs `val_split`"
        )
    check_warmup(config, train_config)
    with process_group(train_config.device) as device:
        run_id = broadcast(run_id or new_run_id(f"{METHOD}-{config.variant_name()}"))
        run_dir = run_folder(ws, run_id)
        if resume and not (run_dir / LAST_CHECKPOINT).exists():
            raise BadInputError(run_dir, None, "no checkpoint to resume from")
        record = (
            read_run(ws, run_id)
            if resume
            else _start_run(ws, dataset, config, train_config, run_id)
        )
        on_rank = dataclasses.replace(train_config, device=device)
        data = query_data(ws, dataset, on_rank.train_split, on_rank.max_frames, on_rank.features)
        validate = None
        if on_rank.val_split is not None and is_rank_zero():
            validate = make_validator(ws, dataset, on_rank.val_split, on_rank)
        result = fit(run_dir, data, config, on_rank, validate, progress, resume)
        _finish_run(record, result)
        return result


def resume_run(
    ws: Workspace,
    dataset: str,
    run_id: str,
    epochs: int | None = None,
    progress: ProgressFn = no_progress,
) -> Run:
    """Continue a run from its last checkpoint with its stored configuration (``epochs``: a new
    total, to train further)."""
    config, train_config = read_run_config(ws, run_id)
    if epochs is not None:
        train_config = dataclasses.replace(train_config, epochs=epochs)
    return train(ws, dataset, config, train_config, progress, run_id, resume=True).run
