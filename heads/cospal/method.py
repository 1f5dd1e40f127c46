"""CoSPaL in the method registry: trained weakly (sentences only) on cached tubelets, scored
on the evaluation split right after training."""

from __future__ import annotations

from stvg.heads.cospal.ablate import VARIANTS, run_cospal_ablation
from stvg.heads.cospal.config import CospalConfig
from stvg.heads.cospal.predict import predict_checkpoint
from stvg.heads.cospal.train import METHOD as NAME
from stvg.heads.cospal.train import RANDOM_VARIANT, train_cospal
from stvg.heads.eval.predictions import QueryPrediction
from stvg.heads.registry import Method
from stvg.heads.runs import Run
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace


def predict(
    ws: Workspace, run: Run, dataset: str, split: str, progress: ProgressFn = no_progress
) -> dict[str, QueryPrediction]:
    del progress
    return predict_checkpoint(ws, dataset, split, run.checkpoint)


METHOD = Method(
    name=NAME,
    title="CoSPaL",
    default_config=CospalConfig,
    variants=(RANDOM_VARIANT, *VARIANTS),
    ablate=run_cospal_ablation,
    train=train_cospal,
    predict=predict,
)
