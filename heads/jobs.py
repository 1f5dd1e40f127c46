"""What a command asks of a method: one training run or an ablation grid, built from the
options a user gave (config field -> value, None where not given) and ``--set`` values. The
checks on option combinations live in the requests' ``__post_init__``; every error names the
config field, and the CLI writes it as its flag."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stvg.heads.registry import Method, get_method, require
from stvg.heads.settings import configure, no_such_setting
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress

if TYPE_CHECKING:
    from stvg.heads.eval.ablation import AblationResult
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
