"""What a command asks of a method: one training run, an ablation grid or the scoring of a
split, built from the
options a user gave (config field -> value, None where not given) and ``--set`` values. The
checks on option combinations live in the requests' ``__post_init__``; every error names the
config field, and the CLI writes it as its flag."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stvg.heads.registry import METHODS, Method, get_method, require
from stvg.heads.settings import configure, no_such_setting
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress

if TYPE_CHECKING:
    from stvg.heads.eval.ablation import AblationResult
    from stvg.heads.eval.evaluate import EvalReport
    from stvg.heads.runs import Run
    from stvg.stvgdata.workspace import Workspace


def _refuse(method: Method, setting: str, value: object) -> BadInputError:
    return no_such_setting(setting, value, method.name)


@dataclass(frozen=True)
class Settings:
    """A method and the settings of its configuration: a ``preset`` (methods with presets),
    named ``options`` and ``overrides`` (key -> text)."""

    method: str
    dataset: str
    preset: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.preset is not None and self.chosen.presets is None:
            raise _refuse(self.chosen, "preset", self.preset)

    @property
    def chosen(self) -> Method:
        return get_method(self.method)

    def config(self) -> Any:
        """The method's configuration with every setting applied."""
        method = self.chosen
        base = method.default_config() if self.preset is None else method.presets(self.preset)
        return configure(base, self.options, self.overrides, method.name)


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class TrainJob(Settings):
    """One run; ``eval_split`` scores it right after training (methods that do, default: test,
    else val); ``resume`` continues that run id (settings: ``epochs`` only)."""

    eval_split: str | None = None
    resume: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        method = self.chosen
        if self.eval_split is not None and not method.scores_training:
            raise BadInputError.for_field(
                "eval_split", self.eval_split, f"{method.name} scores runs with `stvg eval --run`"
            )
        if self.resume is None:
            return
        if method.resume is None:
            raise _refuse(method, "resume", self.resume)
        changed = set(_given(self.options)) - {"epochs"} | set(self.overrides)
        if changed or self.preset is not None:
            raise BadInputError.for_field(
                "resume", self.resume, "a resumed run keeps what it was trained on"
            )


def train_method(ws: Workspace, request: TrainJob, progress: ProgressFn = no_progress) -> Run:
    """Train (or resume) one run of the request's method and return its record."""
    from stvg.heads.eval.evaluate import default_eval_split
    from stvg.heads.runs import Run, TrainRequest, read_run

    method = request.chosen
    if request.resume is not None:
        epochs = request.options.get("epochs")
        return method.resume(ws, request.dataset, request.resume, epochs, progress)
    split = request.eval_split
    if split is None and method.scores_training:
        split = default_eval_split(ws, request.dataset)
    train = require(method, "train")
    result = train(TrainRequest(ws, request.dataset, request.config(), split, progress))
    return result if isinstance(result, Run) else read_run(ws, result.run_id)


@dataclass(frozen=True)
class AblationJob(Settings):
    """Every variant x ``seeds`` seeds (0..seeds-1); ``switches`` (variant switch field ->
    value, None where not given) select the variants of a method that has switches."""

    seeds: int = 1
    eval_split: str | None = None
    protocol: str | None = None
    switches: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        method = self.chosen
        if self.seeds < 1:
            raise BadInputError.for_field("seeds", self.seeds, "must be at least 1")
        given = _given(self.switches)
        if given and method.select_variants is None:
            raise _refuse(method, *next(iter(given.items())))
        if self.protocol is not None and not method.chooses_protocol:
            raise _refuse(method, "protocol", self.protocol)

    def ablate_options(self) -> dict[str, Any]:
        """The keyword options of the method's ``ablate``."""
        method = self.chosen
        options = {} if self.protocol is None else {"protocol": self.protocol}
        if method.select_variants is not None:
            options["variants"] = method.select_variants(_given(self.switches))
        return options


def ablate_method(
    ws: Workspace, request: AblationJob, progress: ProgressFn = no_progress
) -> AblationResult:
    """Run the request's grid on its evaluation split (default: test, else val)."""
    from stvg.heads.eval.evaluate import default_eval_split

    split = request.eval_split or default_eval_split(ws, request.dataset)
    seeds = list(range(request.seeds))
    config = request.config()
    return request.chosen.ablate(
        ws, request.dataset, config, seeds, split, progress, **request.ablate_options()
    )


@dataclass(frozen=True)
class EvalJob:
    """Score ``dataset``/``split`` under ``protocol``: the predictions of a trained ``run``, or
    of a ``predictions`` file (``fmt``, TubeDETR ``annotations``; recorded as ``method`` or
    "external", ``variant``), or, with neither, a training-free ``method``'s grounding with
    its config ``overrides``."""

    dataset: str
    split: str
    protocol: str
    run: str | None = None
    predictions: Path | None = None
    fmt: str = "auto"
    annotations: Path | None = None
    method: str | None = None
    variant: str = "full"
    overrides: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.grounds:
            return
        if self.overrides:
            key = next(iter(self.overrides))
            raise BadInputError.for_field(
                "set", key, "sets the config of a training-free `method` only"
            )
        if (self.predictions is None) == (self.run is None):
            raise BadInputError.for_field(
                "run", self.run, "give exactly one of `predictions` or `run`"
            )

    @property
    def grounds(self) -> bool:
        """Whether the job grounds the split with a training-free method."""
        if self.predictions is not None or self.run is not None or self.method not in METHODS:
            return False
        return get_method(self.method).ground is not None


def evaluate_job(ws: Workspace, job: EvalJob, progress: ProgressFn = no_progress) -> EvalReport:
    """Predict (or read, or ground), score and record the job's split in ``runs``."""
    from stvg.heads.eval.evaluate import RunInfo, evaluate, load_ground_truth
    from stvg.heads.eval.predictions import read_file_predictions, run_predictions
    from stvg.heads.runs import new_run_id, read_run

    if job.grounds:
        method = get_method(job.method)
        config = configure(method.default_config(), {}, job.overrides, method.name)
        return method.ground(ws, job.dataset, job.split, config, job.protocol, progress)
    truth = load_ground_truth(ws, job.dataset, job.split)
    setting = {"dataset": job.dataset, "split": job.split, "protocol": job.protocol}
    if job.predictions is not None:
        predictions = read_file_predictions(
            job.predictions, job.fmt, job.dataset, truth.queries, job.annotations
        )
        setting |= {"predictions": str(job.predictions.resolve()), "format": job.fmt}
        info = RunInfo(new_run_id("eval"), job.method or "external", job.variant, config=setting)
    else:
        run = read_run(ws, job.run)
        predictions = run_predictions(ws, run, job.dataset, job.split, progress)
        method = job.method or run.method
        setting |= run.config | {"run": job.run}
        info = RunInfo(run.run_id, method, run.variant, run.seed, setting, features=run.features)
    return evaluate(
        ws, job.dataset, job.split, predictions, job.protocol, info, progress, ground_truth=truth
    )
