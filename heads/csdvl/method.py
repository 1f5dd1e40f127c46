"""CSDVL in the method registry: its configuration is the ``small`` preset's ``Preset`` (model
and training settings), trained on cached frame maps, clip maps and text tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stvg.heads.csdvl.ablate import (
    TABLE3,
    Variant,
    run_ablation,
    selected_variants,
    table3_variants,
)
from stvg.heads.csdvl.config import Preset, preset
from stvg.heads.csdvl.predict import predict_run
from stvg.heads.csdvl.show import draw_internals
from stvg.heads.csdvl.train import METHOD as NAME
from stvg.heads.csdvl.train import resume_run, train
from stvg.heads.distributed import process_group
from stvg.heads.eval.ablation import AblationResult
from stvg.heads.eval.predictions import QueryPrediction
from stvg.heads.eval.protocols import DEFAULT_PROTOCOL
from stvg.heads.registry import Method
from stvg.heads.runs import Run, TrainRequest
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace


def train_run(request: TrainRequest) -> Run:
    """Train (nothing is scored: ``stvg eval --run`` scores a CSDVL run)."""
    config: Preset = request.config
    return train(request.ws, request.dataset, config.model, config.train, request.progress).run


def predict(
    ws: Workspace, run: Run, dataset: str, split: str, progress: ProgressFn = no_progress
) -> dict[str, QueryPrediction]:
    return predict_run(ws, str(run.checkpoint), dataset, split, progress)[-1]


def switched_variants(switches: dict[str, Any]) -> list[Variant]:
    """The variants the switches given (field -> value: ``s2d`` False, ``fusion`` [kinds], ...)
    select; Table 3's grid when none is given."""
    return selected_variants(
        switches.get("s2d") is False,
        switches.get("d2s") is False,
        switches.get("fusion") or (),
        switches.get("dynamic_spatial") is False,
        switches.get("dynamic_mean_pool") is False,
    )


def ablate(
    ws: Workspace,
    dataset: str,
    config: Preset,
    seeds: Sequence[int],
    eval_split: str,
    progress: ProgressFn = no_progress,
    variants: Sequence[Variant] | None = None,
    protocol: str = DEFAULT_PROTOCOL,
) -> AblationResult:
    """``variants`` (default: Table 3's grid) x ``seeds``, trained and scored; under torchrun
    in one process group for the whole grid."""
    chosen = table3_variants() if variants is None else variants
    with process_group(config.train.device):
        return run_ablation(
            ws,
            dataset,
            chosen,
            seeds,
            config.model,
            config.train,
            progress,
            eval_split,
            protocol,
            config.name,
        )


METHOD = Method(
    name=NAME,
    title="CSDVL",
    default_config=lambda: preset("small"),
    variants=tuple(TABLE3),
    ablate=ablate,
    train=train_run,
    predict=predict,
    presets=preset,
    select_variants=switched_variants,
    chooses_protocol=True,
    scores_training=False,
    resume=resume_run,
    internals=draw_internals,
)
