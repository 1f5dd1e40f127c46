"""Shared fixtures: an isolated workspace and a CLI runner that reports exit code and output."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

# Two xdist workers share 2 cores: one intra-op thread each keeps them from oversubscribing.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
def run_cli(workspace: Path):
    """Run ``stvg --workspace <tmp> ARGS...`` in-process and capture its outputs."""
    from stvg.cli.main import app

    def run(*args: str, workspace_path: Path | None = None) -> CliResult:
        runner = CliRunner()
        ws = str(workspace_path or workspace)
        result = runner.invoke(app, ["--workspace", ws, *map(str, args)], catch_exceptions=True)
        exception = result.exception if not isinstance(result.exception, SystemExit) else None
        return CliResult(result.exit_code, result.stdout, result.stderr, exception)

    return run


@pytest.fixture
def quiet_random_init():
    """No ``RandomInitWarning`` during the test (modules opt in with ``usefixtures``)."""
    from tests.helpers import quiet_random_init

    with quiet_random_init():
        yield
