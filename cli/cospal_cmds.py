"""``stvg train --method cospal`` and ``stvg ablate --method cospal``: thin wrappers over
``heads.cospal`` (torch is imported only when one of them runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from cli.console import (
    METRIC_COLUMNS,
    RichProgress,
    render_ablation_result,
    render_record,
    workspace_of,
)
from stvgdata.errors import BadInputError

if TYPE_CHECKING:
    from cli.methods import MethodArgs
    from heads.cospal.config import CospalConfig


def cospal_config(args: MethodArgs) -> CospalConfig:
    """CospalConfig from the common options, then ``--set`` overrides; a value the config
    rejects is a one-line error."""
    from heads.cospal.config import CospalConfig

    try:
        return args.configure(CospalConfig(seed=args.seed, device=args.device))
    except ValueError as error:
        raise BadInputError("options", "cospal", str(error)) from None


def train_cospal(ctx: typer.Context, args: MethodArgs) -> None:
    """Train CoSPaL weakly (sentences only), evaluate on the split, record it in runs."""
    from heads.cospal.train import train_cospal as train

    config = cospal_config(args)
    ws = workspace_of(ctx)
    split = args.eval_split(ws)
    with RichProgress(transient=True) as progress:
        run = train(ws, args.dataset, config, split, progress)
    summary = {
        "run_id": run.run_id,
        "variant": run.variant,
        "split": split,
        "epochs": len(run.history),
        "checkpoint": str(run.checkpoint),
        **{name: getattr(run.summary, name) for name, _ in METRIC_COLUMNS},
        "final_loss": run.history[-1] if run.history else None,
        "seconds": round(run.seconds, 1),
    }
    render_record(summary, args.fmt, f"{args.dataset} cospal")


def ablate_cospal(ctx: typer.Context, args: MethodArgs) -> None:
    """Random tubelet, TPG, TPG + CRG, TPG + CRG + SPS: trained weakly and evaluated per seed."""
    from cli.heads_cmds import render_ablation
    from heads.cospal.ablate import run_cospal_ablation

    if args.seeds < 1:
        raise BadInputError("--seeds", args.seeds, "must be at least 1")
    config = cospal_config(args)
    seeds = list(range(args.seed, args.seed + args.seeds))
    ws = workspace_of(ctx)
    with RichProgress(transient=True) as progress:
        result = run_cospal_ablation(ws, args.dataset, config, seeds, args.eval_split(ws), progress)
    render_ablation_result(result, args.fmt, lambda: render_ablation(result, method="CoSPaL"))
