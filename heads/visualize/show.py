"""``stvg show``: pictures of queries' predictions from a run of any method or from any
predictions file ``stvg eval`` accepts, for named queries or the N worst / best by vIoU."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stvg.heads.eval.evaluate import default_eval_split
from stvg.heads.eval.predictions import run_predictions
from stvg.heads.eval.protocols import DEFAULT_PROTOCOL
from stvg.heads.registry import get_method
from stvg.heads.runs import RUN_FILE, read_run, run_folder
from stvg.heads.visualize.scene import QueryScene, build_scenes
from stvg.heads.visualize.select import (
    ScoredPredictions,
    file_predictions,
    pick_queries,
    query_split,
    recorded_predictions,
    recorded_setting,
    scored,
)
from stvg.heads.visualize.write import check_output, write_scene
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace


@dataclass(frozen=True)
class ShowRequest:
    """What to draw: a ``run`` or a ``predictions`` file (exactly one); ``query_ids`` or one of
    ``worst`` / ``best`` (a count), optionally only queries of ``sentence_type``."""

    out: Path
    run: str | None = None
    predictions: Path | None = None
    dataset: str | None = None  # default: the run's; required with a predictions file
    split: str | None = None  # default: the named queries' split, else the evaluation split
    query_ids: Sequence[str] = ()
    worst: int | None = None
    best: int | None = None
    sentence_type: str | None = None
    protocol: str = DEFAULT_PROTOCOL
    predictions_format: str = "auto"
    annotations: Path | None = None
    max_frames: int = 16
    internals: bool = False  # CSDVL runs: also the proposal map and attention pictures
    attention_frame: int | None = None  # of the attention picture (None: mid GT)

    def __post_init__(self) -> None:
        if (self.run is None) == (self.predictions is None):
            raise BadInputError.for_field(
                "run", self.run, "give exactly one of `run` or `predictions`"
            )
        if bool(self.query_ids) == (self.worst is not None or self.best is not None):
            raise BadInputError.for_field(
                "query_id", None, "name a query, or give `worst` or `best` (not both)"
            )
        if self.max_frames < 1:
            raise BadInputError.for_field("max_frames", self.max_frames, "must be 1 or more")
        if self.internals and self.run is None:
            raise BadInputError.for_field("internals", True, "needs `run` of a csdvl run")


@dataclass(frozen=True)
class Shown:
    """One written picture and the scene it shows."""

    path: Path
    scene: QueryScene

    def record(self) -> dict[str, Any]:
        """The row ``stvg show`` prints for this picture."""
        return {
            "query_id": self.scene.query_id,
            "sentence_type": self.scene.sentence_type,
            "viou": self.scene.viou,
            "frames": len(self.scene.frame_idx),
            "path": str(self.path),
        }


def _split(ws: Workspace, request: ShowRequest, dataset: str) -> str:
    if request.split is not None:
        return request.split
    if not request.query_ids:
        return default_eval_split(ws, dataset)
    splits = {query_split(ws, dataset, query_id) for query_id in request.query_ids}
    if len(splits) > 1:
        raise BadInputError.for_field("split", None, f"the queries span splits {sorted(splits)}")
    return splits.pop()


def is_run(ws: Workspace, request: ShowRequest) -> bool:
    """Whether ``request.run`` names a run folder (or a checkpoint inside one)."""
    path = Path(request.run)
    return path.is_file() or (run_folder(ws, request.run) / RUN_FILE).is_file()


def _scored(ws: Workspace, request: ShowRequest, progress: ProgressFn) -> ScoredPredictions:
    setting = (
        None if request.run is None or is_run(ws, request) else recorded_setting(ws, request.run)
    )
    if setting is not None:  # a run stvg eval recorded (E3M, a scored file): its own split
        dataset, split, protocol = setting
        predictions = recorded_predictions(ws, request.run, protocol)
        return scored(ws, dataset, split, f"run {request.run}", predictions, request.protocol)
    if request.run is not None:
        run = read_run(ws, request.run)
        dataset = request.dataset or run.dataset
        split = _split(ws, request, dataset)
        predictions = run_predictions(ws, run, dataset, split, progress)
        source = f"{run.method} run {run.run_id}"
        return scored(ws, dataset, split, source, predictions, request.protocol)
    if request.dataset is None:
        raise BadInputError.for_field("dataset", None, "name the dataset of a `predictions` file")
    split = _split(ws, request, request.dataset)
    return file_predictions(
        ws,
        request.predictions,
        request.dataset,
        split,
        request.predictions_format,
        request.annotations,
        request.protocol,
    )


def file_label(query_id: str) -> str:
    """``query_id`` as part of a file name (VidSTG ids hold ``/``)."""
    return re.sub(r"[^A-Za-z0-9._@-]", "_", query_id)


def output_paths(out: Path, query_ids: Sequence[str], ranked: bool) -> list[Path]:
    """``out`` for one named query; ``<stem>-<rank>-<query id><suffix>`` otherwise."""
    if len(query_ids) == 1 and not ranked:
        return [out]
    return [
        out.with_name(f"{out.stem}-{rank:02d}-{file_label(query_id)}{out.suffix}")
        for rank, query_id in enumerate(query_ids, start=1)
    ]


def show(ws: Workspace, request: ShowRequest, progress: ProgressFn = no_progress) -> list[Shown]:
    """Predict or read, score, pick the queries and write one picture per query."""
    check_output(request.out)
    chosen = _scored(ws, request, progress)
    ranked = not request.query_ids
    query_ids = list(request.query_ids) or pick_queries(
        chosen, request.worst, request.best, request.sentence_type
    )
    scenes = build_scenes(
        ws,
        chosen.dataset,
        chosen.split,
        chosen.ground_truth,
        chosen.predictions,
        chosen.scores,
        query_ids,
        chosen.source,
    )
    paths = output_paths(request.out, query_ids, ranked)
    shown = []
    for done, (path, scene) in enumerate(zip(paths, scenes, strict=True), start=1):
        shown.append(Shown(write_scene(scene, path, request.max_frames), scene))
        progress("draw", done, len(scenes))
    return shown


def show_pictures(
    ws: Workspace, request: ShowRequest, progress: ProgressFn = no_progress
) -> list[dict[str, Any]]:
    """Every picture ``request`` asks for, one row each: the queries' pictures (``show``), then
    with ``internals`` the run's method's pictures of its inner state (query_id, path)."""
    shown = show(ws, request, progress)
    rows = [item.record() for item in shown]
    if request.internals:
        draw = get_method(read_run(ws, request.run).method).internals
        if draw is None:
            raise BadInputError.for_field("internals", True, "needs `run` of a csdvl run")
        drawn = draw(ws, request, [item.scene.query_id for item in shown])
        rows += [{"query_id": query_id, "path": str(path)} for query_id, path in drawn]
    return rows
