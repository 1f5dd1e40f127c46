"""``stvg eval --method e3m`` and ``stvg ablate --method e3m``: thin wrappers over
``heads.e3m`` (training-free: nothing is trained, the split is grounded and scored); and
``stvg e3m-timing``, the tube-vs-rest ROC AUC of E3M's per-frame scores (heads.e3m.timing)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import pyarrow as pa
import typer

from cli.console import OutputFormat, RichProgress, render_arrow, workspace_of
from stvgdata.errors import BadInputError

if TYPE_CHECKING:
    from cli.methods import MethodArgs
    from heads.e3m.config import E3MConfig
    from heads.eval.evaluate import EvalReport


def e3m_config(overrides: dict[str, str], seed: int = 0) -> E3MConfig:
    """E3MConfig with ``--set`` overrides; a value the config rejects is a one-line error."""
    from cli.methods import apply_overrides
    from heads.e3m.config import E3MConfig

    try:
        return apply_overrides(E3MConfig(seed=seed), overrides)
    except ValueError as error:
        given = ", ".join(f"{key}={value}" for key, value in overrides.items())
        raise BadInputError("--set", given, str(error)) from None


def eval_e3m(
    ctx: typer.Context, dataset: str, split: str, protocol: str, overrides: dict[str, str]
) -> EvalReport:
    """Ground every query of ``split`` with E3M (or the variant ``overrides`` select), score it
    and record it in ``runs`` (method e3m, variant from the config)."""
    from heads.e3m.predict import evaluate_e3m

    config = e3m_config(overrides)
    with RichProgress(transient=True) as progress:
        return evaluate_e3m(workspace_of(ctx), dataset, split, config, protocol, progress)


def ablate_e3m(ctx: typer.Context, args: MethodArgs) -> None:
    """baseline, no-em, no-visual-mod, no-text-mod and full on the evaluation split."""
    from cli.heads_cmds import render_ablation
    from heads.e3m.predict import run_e3m_ablation

    if args.seeds < 1:
        raise BadInputError("--seeds", args.seeds, "must be at least 1")
    ws = workspace_of(ctx)
    config = e3m_config(args.overrides)
    split = args.eval_split(ws)
    seeds = list(range(args.seed, args.seed + args.seeds))
    with RichProgress(transient=True) as progress:
        result = run_e3m_ablation(ws, args.dataset, split, config, seeds, progress=progress)
    if args.as_json:
        typer.echo(json.dumps(result.to_dict()))
    else:
        render_ablation(result, method="E3M")


def e3m_timing_cmd(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset in the catalog.")],
    split: Annotated[str, typer.Option(help="Split whose queries to measure.")] = "val",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="KEY=VALUE of E3MConfig for gamma (repeatable)."),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
) -> None:
    """Is there a temporal signal? Within each clip, the ROC AUC of tube frames vs the rest by
    the whole-frame, best-region, target-tubelet similarity and E3M's gamma (0.5 = chance)."""
    from cli.methods import parse_overrides
    from heads.e3m.timing import tube_timing_auc

    config = e3m_config(parse_overrides(set_ or []))
    rows = tube_timing_auc(workspace_of(ctx), dataset, split, config)
    render_arrow(pa.Table.from_pylist([asdict(r) for r in rows]), fmt, f"{dataset}/{split}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app`` (eval/ablate reach E3M through cli.methods)."""
    app.command("e3m-timing")(e3m_timing_cmd)
