"""The command line as a whole: help text without artefacts at 80 columns, ``--format`` on every
command that prints a table (with valid JSON and CSV), and tables that keep words whole."""

from __future__ import annotations

import csv
import io
import json
import re
from types import SimpleNamespace

import pyarrow as pa
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from stvg.cli.main import app
from stvg.cli.tables import arrow_table

# Commands that print no table (a plot's path).
NO_TABLE = {"ablation", "training", "viou"}
DANGLING = re.compile(r"\s[.,;:](\s|$)|\(\s*\)|\[\s*\]")
ARTEFACTS = ("<bool>", "<list[", "``")  # a type for a flag or a list, reST quotes


def _leaves(group, path=()) -> list[tuple[tuple[str, ...], object]]:
    """Every command under ``group``, with the words that invoke it."""
    found = []
    for name in group.list_commands(None):
        command = group.get_command(None, name)
        if hasattr(command, "list_commands"):
            found += _leaves(command, (*path, name))
        else:
            found.append(((*path, name), command))
    return found


LEAVES = _leaves(typer.main.get_command(app))
GROUPS = [(), ("diagnose",)]


def _help(words: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*words, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("words", GROUPS + [w for w, _ in LEAVES], ids=" ".join)
def test_help_has_no_artefacts_and_fits_80_columns(words):
    text = _help(words)
    assert not [artefact for artefact in ARTEFACTS if artefact in text]
    assert not DANGLING.search(text), DANGLING.search(text)
    assert max(map(len, text.splitlines())) <= 80


@pytest.mark.parametrize("words", [w for w, _ in LEAVES], ids=[" ".join(w) for w, _ in LEAVES])
def test_usage_names_arguments_in_capitals_as_the_docs_do(words):
    """``stvg import [OPTIONS] DATASET``, as README and docs write it, not ``{dataset}``."""
    usage = _help(words).splitlines()[0]
    arguments = re.findall(r"[{\[]?([A-Za-z_]+)[}\]]?", usage.partition("[OPTIONS]")[2])
    assert all(name.isupper() for name in arguments), usage


@pytest.mark.parametrize(("words", "command"), LEAVES, ids=[" ".join(w) for w, _ in LEAVES])
def test_every_option_and_argument_says_what_it_is(words, command):
    assert not [param.name for param in command.params if not getattr(param, "help", None)]


@pytest.mark.parametrize(
    ("words", "command"), [leaf for leaf in LEAVES if leaf[0][-1] not in NO_TABLE],
    ids=[" ".join(w) for w, _ in LEAVES if w[-1] not in NO_TABLE],
)  # fmt: skip
def test_every_table_command_takes_format(words, command):
    """``--format table|csv|json`` everywhere; ``--json``, where a command has it, is a flag."""
    options = {opt: param for param in command.params for opt in param.opts}
    assert options["-f"] is options["--format"]
    assert "-f, --format <table|csv|json>" in _help(words), words
    assert "--json" not in options or options["--json"].is_flag


def test_an_option_name_means_one_thing():
    """``--split`` filters; the split trained on, scored on and validated on have their own."""
    meanings: dict[str, set[str]] = {}
    for _, command in LEAVES:
        for param in command.params:
            for opt in param.opts:
                meanings.setdefault(opt, set()).add(param.name)
    assert meanings["--split"] == {"split"}
    assert {"--train-split", "--eval-split", "--val-split"} <= set(meanings)
    assert meanings["--format"] == {"fmt"}  # eval's file format is --predictions-format
    assert all(name == {"dataset"} for opt, name in meanings.items() if opt == "--dataset")
    takes_dataset = {w[-1] for w, c in LEAVES if any(p.name == "dataset" for p in c.params)}
    positional = {w[-1] for w, c in LEAVES for p in c.params
                  if p.name == "dataset" and p.param_type_name == "argument"}  # fmt: skip
    assert positional == {"import"}  # the one positional form scripts rely on
    assert {"import-detections", "track", "extract", "synth"} <= takes_dataset


def test_where_to_write_is_out_everywhere():
    """Every option naming the file or folder a command writes is ``--out`` (``synth`` takes it
    as its OUT argument); ``--output`` stays accepted where it was the name before."""
    writers = {
        w[-1]: param.opts
        for w, command in LEAVES
        for param in command.params
        if param.name in ("out", "output") and param.param_type_name == "option"
    }
    assert {"show", "ablation", "pretrain-vit", "train-vl-encoder"} <= set(writers)
    assert all(opts[0] == "--out" for opts in writers.values()), writers


def test_an_evaluation_protocol_option_offers_the_same_choices_everywhere():
    """``eval``, ``show`` and ``ablate`` check ``--protocol`` before any work and list it in
    help; ``plot ablation`` names a recorded protocol (retrieval too), so it takes any text."""
    from stvg.heads.eval.protocols import PROTOCOLS

    for name in ("eval", "show", "ablate"):
        assert f"--protocol <{'|'.join(PROTOCOLS)}>" in _help((name,)), name
        result = CliRunner().invoke(app, [name, "--dataset", "d", "--protocol", "5fps"])
        assert result.exit_code == 2 and "5fps" in result.output, (name, result.output)


@pytest.fixture
def catalog(run_cli, tmp_path):
    """A small synthetic VidSTG catalog with its simulated detections imported."""
    root = tmp_path / "vid"
    assert run_cli("synth", root, "--dataset", "vidstg", "--videos", "3", "--no-videos",
                   "--format", "json").exit_code == 0  # fmt: skip
    imported = run_cli("import", "vidstg", "--root", root, "--annotations-only", "--json")
    assert imported.exit_code == 0
    return root


def test_table_commands_print_valid_json_and_csv(run_cli, catalog, tmp_path):
    commands = [
        ("import", "vidstg", "--root", catalog, "--annotations-only"),
        ("info",),
        ("sql", "SELECT split, count(*) AS n FROM queries GROUP BY 1"),
        ("import-detections", "--dataset", "vidstg", catalog / "detections.parquet"),
        ("track", "--dataset", "vidstg"),
        ("verify",),
    ]
    for fmt in ("json", "csv"):  # synth writes a new directory each time
        synth = ("synth", tmp_path / fmt, "--dataset", "vidstg", "--videos", "2", "--no-videos")
        for args in [synth, *commands]:
            result = run_cli(*args, "--format", fmt)
            assert result.exit_code == 0, (args, result.stderr)
            if fmt == "json":
                assert json.loads(result.stdout), args
            else:
                rows = list(csv.reader(io.StringIO(result.stdout)))
                assert rows and len({len(row) for row in rows}) == 1, args  # a header at least
    assert run_cli("verify", "--json").stdout == run_cli("verify", "--format", "json").stdout


def _render(data: pa.Table, width: int = 80) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(arrow_table(data, "t", width))
    return console.file.getvalue()


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[^\s│┃|─━┏┓┗┛┡┩└┘┌┐├┤┬┴┼╇╈╋┳┻]+", text))


WIDE = pa.table({
    "query_id": ["0000000123@250/d0", "0000000456@1000/interrogative/i1"],
    "sentence": ["the orange triangle moves to the right.", "which interrogative ellipse stays?"],
    "sentence_type": ["declarative", "interrogative"],
    "mean_tube_frames": [247.7, 311.1],
    "tube_start_frame": [492, 250],
    "missing_videos": [0, 12],
})  # fmt: skip


@pytest.mark.parametrize("width", [80, 60])
def test_narrow_tables_keep_header_and_sentence_words_whole(width):
    text = _render(WIDE, width)
    assert max(map(len, text.splitlines())) <= width
    tokens = _tokens(text)
    for name in WIDE.column_names:  # each part of a header is whole (broken only at "_")
        assert name in tokens or all(part in text for part in name.split("_")), name
    for word in " ".join(WIDE["sentence"].to_pylist() + WIDE["sentence_type"].to_pylist()).split():
        assert word in tokens, word
    for number in ("247.7", "311.1", "492", "250"):
        assert number in tokens


def test_a_table_that_cannot_fit_prints_one_block_per_row():
    wide = pa.table({f"column_number_{i}": [f"value{i}"] for i in range(12)})
    text = _render(wide)
    assert max(map(len, text.splitlines())) <= 80
    assert all(f"column_number_{i}" in _tokens(text) for i in range(12))


def test_an_empty_result_too_wide_for_a_row_lists_its_columns():
    """No rows in the one-block-per-row layout: the column names, not an empty frame."""
    wide = pa.table({f"column_number_{i}": pa.array([], pa.string()) for i in range(12)})
    text = _render(wide)
    assert max(map(len, text.splitlines())) <= 80
    assert all(f"column_number_{i}" in _tokens(text) for i in range(12))
    assert "0 rows" in text


def test_info_at_80_columns(run_cli, catalog, monkeypatch):
    monkeypatch.setattr("stvg.cli.console.console", Console(width=80))  # an 80-column terminal
    text = run_cli("info").stdout
    assert max(map(len, text.splitlines())) <= 80
    for word in ("dataset", "declarative", "interrogative", "mean_", "tube_", "frames"):
        assert word in _tokens(text), word


class _Variant:
    metrics = ("m_viou", "viou_03", "viou_05", "m_tiou", "m_siou")

    def __init__(self, name: str) -> None:
        self.variant, self.seeds = name, [0, 1, 2]

    def mean(self, metric: str) -> float:
        return 0.3845

    def std(self, metric: str) -> float:
        return 0.0123


def test_an_ablation_table_at_80_columns_folds_names_and_keeps_metrics_whole(monkeypatch):
    from stvg.cli import heads_cmds

    out = Console(width=80, file=io.StringIO(), color_system=None)
    monkeypatch.setattr(heads_cmds, "console", out)
    names = ["s2d+d2s", "none+no-spatial+no-mean-pool", "fusion=concat-fc"]
    result = SimpleNamespace(
        dataset="vidstg",
        split="test",
        protocol="all-frames",
        variants=list(map(_Variant, names)),
        setting="",
        paired={},
        baselines=[],
    )
    heads_cmds.render_ablation(result)
    text = out.file.getvalue()
    assert max(map(len, text.splitlines())) <= 80
    assert text.count("38.5 ± 1.2") == 5 * len(names)
    first_column = "".join(line.split("│")[1].strip() for line in text.splitlines() if "│" in line)
    assert all(name in first_column for name in names)
