"""Library errors name config fields; the CLI prints them as the flags of the command that ran."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import typer

from stvg.cli.flags import FIELD_FLAGS, error_message, flag_of
from stvg.cli.main import app
from stvg.stvgdata.errors import BadInputError

ROOT = Path(__file__).resolve().parents[2]
BACKQUOTED = re.compile(r"`[^`]*`")
FLAG = re.compile(r"(?<![\w-])--[a-z]")


def _commands() -> dict[str, object]:
    group = typer.main.get_command(app)
    return {name: group.get_command(None, name) for name in group.list_commands(None)}


def test_a_field_is_written_as_the_flag_of_the_command_that_ran():
    synth = _commands()["synth"]
    error = BadInputError.for_field("objects_per_video", 3, "must be between 4 and 12")
    assert error_message(error, synth) == "--objects: 3: must be between 4 and 12"
    assert flag_of(synth, "width") == "--width"  # an option named after the field
    assert flag_of(synth, "no_such_field") is None
    assert str(error) == "objects_per_video: 3: must be between 4 and 12"  # the library's own


def test_fields_the_reason_mentions_become_flags_too():
    train = _commands()["train"]
    error = BadInputError.for_field("patience", 3, "early stopping needs `val_split`")
    assert error_message(error, train) == "--patience: 3: early stopping needs --val-split"
    hint = BadInputError("f.json", None, "run `stvg import` first")  # not a field: kept
    assert error_message(hint, train) == "f.json: run `stvg import` first"


def test_a_method_setting_is_written_as_set():
    ablate = _commands()["ablate"]
    assert flag_of(ablate, "use_slowfast") == "--set use_slowfast"


def test_every_flag_in_the_table_exists():
    options = {
        opt for command in _commands().values() for param in command.params for opt in param.opts
    }
    options |= {opt for param in typer.main.get_command(app).params for opt in param.opts}
    assert set(FIELD_FLAGS.values()) <= options


def test_the_field_survives_a_process_boundary():
    import pickle

    error = pickle.loads(pickle.dumps(BadInputError.for_field("fps", 0, "must be > 0")))
    assert (error.field, error.record, error.reason) == ("fps", "0", "must be > 0")


def test_the_cli_prints_flags_for_a_library_error(run_cli, tmp_path):
    result = run_cli("synth", tmp_path / "x", "--dataset", "vidstg", "--videos", "2",
                     "--objects", "2", "--no-videos")  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --objects: 2: must be between 4 and 12 (objects come in appearance twins)"
    )


def _messages(tree: ast.AST):
    """The text of every BadInputError(...) / BadInputError.for_field(...) call's arguments."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if name not in ("BadInputError", "BadInputError.for_field"):
            continue
        for arg in node.args:
            parts = arg.values if isinstance(arg, ast.JoinedStr) else [arg]
            yield "{}".join(p.value for p in parts if isinstance(p, ast.Constant)
                            and isinstance(p.value, str))  # fmt: skip


@pytest.mark.parametrize("package", ["schemas", "stvgdata", "heads"])
def test_library_errors_name_fields_not_flags(package):
    """Outside backquoted command hints (`stvg extract --features vit`), no library error names
    a flag: the CLI owns the flags."""
    found = [
        f"{path.relative_to(ROOT)}: {text}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for text in _messages(ast.parse(path.read_text()))
        if FLAG.search(BACKQUOTED.sub("", text))
    ]
    assert found == []


def test_config_options_keep_given_options_named_after_fields() -> None:
    import dataclasses

    from stvg.cli.flags import config_options

    @dataclasses.dataclass
    class Config:
        dataset: str
        epochs: int = 3
        seed: int = 0

    params = {"dataset": "d", "epochs": None, "seed": 1, "fmt": "table", "size": "64x64"}
    assert config_options(Config, params) == {"dataset": "d", "seed": 1}
