"""CoSPaL in the method registry: trained weakly (sentences only) on cached tubelets, scored
on the evaluation split right after training."""

from __future__ import annotations

from heads.cospal.ablate import VARIANTS, run_cospal_ablation
from heads.cospal.config import CospalConfig
from heads.cospal.predict import predict_checkpoint
from heads.cospal.train import METHOD as NAME
from heads.cospal.train import RANDOM_VARIANT, train_cospal
from heads.eval.predictions import QueryPrediction
from heads.registry import Method
from heads.runs import Run
from stvgdata.progress import ProgressFn, no_progress
from stvgdata.workspace import Workspace


def predict(
    ws: Workspace, run: Run, dataset: str, split: str, progress: ProgressFn = no_progress
) -> dict[str, QueryPrediction]:
    del progress
    return predict_checkpoint(ws, dataset, split, run.checkpoint)[1]


METHOD = Method(
    name=NAME,
    title="CoSPaL",
    default_config=CospalConfig,
    variants=(RANDOM_VARIANT, *VARIANTS),
    ablate=run_cospal_ablation,
    train=train_cospal,
    predict=predict,
)
