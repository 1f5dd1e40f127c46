"""Every method stvg trains or evaluates, by name: one line each.

A line names the module whose ``METHOD`` (a ``Method``) wires the method's folder together;
it is imported only when that method is asked for, so listing names costs no torch import.
Adding a method = its folder ``heads/<name>/`` with a ``method.py`` and one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stvg.stvgdata.errors import BadInputError

if TYPE_CHECKING:
    from pathlib import Path

    from stvg.heads.eval.ablation import AblationResult
    from stvg.heads.eval.evaluate import EvalReport
    from stvg.heads.eval.predictions import QueryPrediction
    from stvg.heads.runs import Run, TrainRequest
    from stvg.stvgdata.progress import ProgressFn
    from stvg.stvgdata.workspace import Workspace

METHODS = {
    "csdvl": "stvg.heads.csdvl.method",
    "stop": "stvg.heads.stop.method",
    "e3m": "stvg.heads.e3m.method",
    "cospal": "stvg.heads.cospal.method",
}

# train(request) -> the Run, or the method's own result naming the run_id of the folder it saved
# (``heads.jobs.train_method`` reads that back)
Train = Callable[["TrainRequest"], Any]
# predict(ws, run, dataset, split, progress) -> {query_id: prediction}
Predict = Callable[["Workspace", "Run", str, str, "ProgressFn"], dict[str, "QueryPrediction"]]
# ground(ws, dataset, split, config, protocol, progress) -> the scored, recorded report
Ground = Callable[["Workspace", str, str, Any, str, "ProgressFn"], "EvalReport"]
# ablate(ws, dataset, config, seeds, eval_split, progress, **options) -> every variant x seed,
# recorded; options: ``variants`` (with select_variants) and ``protocol`` (with chooses_protocol)
Ablate = Callable[..., "AblationResult"]
# resume(ws, dataset, run_id, epochs, progress) -> the run, trained on from its last checkpoint
Resume = Callable[["Workspace", str, str, int | None, "ProgressFn"], "Run"]
# internals(ws, show request, query_ids) -> (query_id, path) of each picture of the model's inner
# state (CSDVL: proposal map, attention), written beside the request's output
Internals = Callable[["Workspace", Any, list[str]], list[tuple[str, "Path"]]]


@dataclass(frozen=True)
class Method:
    """What a method offers; None where it does not apply (E3M trains nothing, STOP retrieves
    clips instead of grounding tubes)."""

    name: str
    title: str  # as tables print it
    default_config: Callable[[], Any]  # the configuration dataclass with the method's defaults
    variants: tuple[str, ...]  # what ``ablate`` compares, in table order
    ablate: Ablate
    train: Train | None = None
    predict: Predict | None = None
    ground: Ground | None = None  # training-free grounding of a whole split
    presets: Callable[[str], Any] | None = None  # preset name -> configuration
    # the variant switches given (config field -> value) -> the variants ``ablate`` compares
    select_variants: Callable[[dict[str, Any]], Sequence[Any]] | None = None
    chooses_protocol: bool = False  # ``ablate`` takes the evaluation protocol
    scores_training: bool = True  # ``train`` scores the run on an evaluation split
    resume: Resume | None = None
    internals: Internals | None = None  # pictures of a run's inner state (``stvg show``)


def method_names() -> list[str]:
    return list(METHODS)


def get_method(name: str) -> Method:
    """The registered method ``name``; one-line error naming the known ones."""
    if name not in METHODS:
        raise BadInputError.for_field("method", name, f"unknown; choose from {', '.join(METHODS)}")
    return importlib.import_module(METHODS[name]).METHOD


def require(method: Method, role: str) -> Callable[..., Any]:
    """``method``'s ``role`` ("train", "predict", "ground"); one-line error when it has none."""
    chosen = getattr(method, role)
    if chosen is None:
        raise BadInputError.for_field("method", method.name, f"has no {role} step")
    return chosen
