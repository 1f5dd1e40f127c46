"""``stvg demo`` as one library call: the demo's data (``stvgdata.demo``: synth, import,
extract), CSDVL's Table 3 grid trained on it (small preset, best-on-val checkpoint) and scored on
the held-out test split, beside the trivial baselines scored on the same split. Torch and PyAV
are imported when the demo runs, so that the configuration can be read without them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stvg.heads.eval.baselines import score_baselines
from stvg.heads.registry import get_method
from stvg.heads.settings import configure
from stvg.stvgdata.demo import DEMO_DATASET, DemoData, DemoDataConfig, prepare_demo_data
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

if TYPE_CHECKING:
    from stvg.heads.eval.ablation import AblationResult

DEMO_METHOD = "csdvl"
EVAL_SPLIT, VAL_SPLIT = "test", "val"  # scored on the held-out split, selected on val


@dataclass(frozen=True)
class DemoConfig:
    """The demo's data and a schedule that lets the four variants learn within 15 minutes on
    2 cores (docs/synthetic.md, "The demo's benchmark")."""

    data: DemoDataConfig
    seeds: int = 1  # training seeds per variant (mean +- sample std)
    epochs: int = 6  # at most; each run stops earlier on a val plateau
    patience: int = 2  # epochs without val improvement before a run stops
    max_frames: int = 8  # frames sampled per query

    def __post_init__(self) -> None:
        for name in ("seeds", "epochs", "patience", "max_frames"):
            if getattr(self, name) < 1:
                raise BadInputError.for_field(name, getattr(self, name), "must be at least 1")


@dataclass(frozen=True)
class DemoResult:
    """What the demo made: its data (where, what was imported and extracted) and the ablation
    table with the baselines."""

    data: DemoData
    ablation: AblationResult


def run_demo(ws: Workspace, config: DemoConfig, progress: ProgressFn = no_progress) -> DemoResult:
    """Prepare the demo's data in ``ws`` (reused and resumed on re-runs), train and score the
    Table 3 variants, and add the trivial baselines."""
    method = get_method(DEMO_METHOD)
    schedule = {"epochs": config.epochs, "val_split": VAL_SPLIT, "patience": config.patience}
    preset = configure(method.default_config(), schedule | {"max_frames": config.max_frames}, {})
    data = prepare_demo_data(ws, config.data, progress)
    seeds = list(range(config.seeds))
    ablation = method.ablate(ws, DEMO_DATASET, preset, seeds, EVAL_SPLIT, progress)
    ablation.add_baselines(score_baselines(ws, DEMO_DATASET, EVAL_SPLIT, ablation.protocol))
    return DemoResult(data, ablation)
