"""Commands of this group are registered by ``register``."""

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
