"""Command lines written in the README, docs/ and experiments/ use options their command has, so
a reader who copies one gets the command it describes, not "No such option"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from stvg.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "experiments").rglob("*.md")]
)
# `stvg [--workspace W] COMMAND [SUBCOMMAND] REST`, REST up to the end of the code span or command
COMMAND_LINE = re.compile(
    r"\bstvg\s+(?:--workspace\s+\S+\s+)?([a-z][a-z0-9-]*)((?:\s+[a-z][a-z0-9-]*)?)([^`|;&]*)"
)
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])\b")


def _flags(command: object) -> set[str]:
    return {name for param in command.params for name in (*param.opts, *param.secondary_opts)}


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with shell continuations (a trailing backslash) joined, each with its first line
    number."""
    lines, joined, start = [], "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if not joined:
            start = number
        if line.rstrip().endswith("\\"):
            joined += line.rstrip()[:-1] + " "
            continue
        lines.append((start, joined + line))
        joined = ""
    return lines


def unknown_flags(text: str, root: object) -> list[tuple[int, str, str]]:
    """(line, command, flag) of every flag written after a stvg command that it does not take."""
    found = []
    common = _flags(root) | {"--help"}
    for number, line in logical_lines(text):
        for match in COMMAND_LINE.finditer(line):
            name, sub, rest = match.group(1), match.group(2).strip(), match.group(3)
            command = root.commands.get(name)
            if command is not None and hasattr(command, "commands"):
                command = command.commands.get(sub)
            if command is None:  # prose ("stvg writes ...") or a group without its subcommand
                continue
            known = _flags(command) | common
            found += [(number, f"{name} {sub}".strip(), flag)
                      for flag in FLAG.findall(rest) if flag not in known]  # fmt: skip
    return found


def test_the_checker_finds_a_renamed_option_across_a_continuation_line():
    root = typer.main.get_command(app)
    text = "x\n```\nstvg ablate --dataset vidstg \\\n    --split test\nstvg info\n```\n"
    assert unknown_flags(text, root) == [(3, "ablate", "--split")]
    assert unknown_flags("`stvg eval --dataset d --eval-split test` | --split", root) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_documented_command_lines_use_options_their_command_has(page):
    assert unknown_flags(page.read_text(), typer.main.get_command(app)) == []
