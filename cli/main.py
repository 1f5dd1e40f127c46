"""Entry point of ``stvg``: global options, error handling, and the registry of commands."""

from __future__ import annotations

import logging
from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from stvg.cli import (
    cache_cmds,
    catalog_cmds,
    compare_cmd,
    demo_cmd,
    detections_cmds,
    diagnose_cmds,
    eval_cmd,
    heads_cmds,
    plot_cmds,
    regions_cmds,
    show_cmds,
    stop_cmds,
    synth_cmd,
)
from stvg.cli.console import err_console
from stvg.cli.flags import error_message
from stvg.schemas.errors import SchemaMismatch
from stvg.stvgdata.errors import BadInputError, FaultError
from stvg.stvgdata.workspace import WORKSPACE_ENV, Workspace

EXIT_FAULT = 1
EXIT_BAD_INPUT = 2


class StvgGroup(TyperGroup):
    """Turns a user's bad input (exit code 2) and a fault of the disk, the workspace or a worker
    (exit code 1) into one line on stderr, without a traceback."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except (BadInputError, SchemaMismatch) as exc:
            command = self.get_command(ctx, ctx.invoked_subcommand or "")
            message = error_message(exc, command) if isinstance(exc, BadInputError) else exc
            _print_error(message)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except FaultError as exc:
            _print_error(exc)
            raise typer.Exit(EXIT_FAULT) from None


def _print_error(exc: object) -> None:
    err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)


app = typer.Typer(
    cls=StvgGroup,
    help="Spatio-temporal video grounding: catalog, feature cache, and heads on cached features.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain click help: no <bool> type column, [..] kept as text
    pretty_exceptions_show_locals=False,
)


@app.callback()
def global_options(
    ctx: typer.Context,
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            envvar=WORKSPACE_ENV,
            help="Directory where stvg keeps everything it writes [default: ./stvg-workspace].",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = Workspace.resolve(workspace)


for module in (
    catalog_cmds,
    synth_cmd,
    detections_cmds,
    cache_cmds,
    heads_cmds,
    regions_cmds,
    diagnose_cmds,
    eval_cmd,
    compare_cmd,
    demo_cmd,
    stop_cmds,
    show_cmds,
    plot_cmds,
):
    module.register(app)


def main() -> None:
    app()
