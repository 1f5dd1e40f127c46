"""The run folder every method writes, ``<workspace>/runs/<run_id>/``:

- ``run.json``: method, dataset, variant, seed, the full configuration, the cached features the
  run read with their fingerprints, and what training reported (``result``);
- ``checkpoint-last.pt`` (and ``checkpoint-best.pt`` when a method validates): the plain state
  dict beside the configuration, written atomically.

Seeding lives here too, so that every method's run is reproducible from ``run.json``. Torch is
imported only by the functions that need it: reading ``run.json`` stays light.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stvg.schemas.tables import RANDOM_INIT_PREFIX
from stvg.stvgdata.atomic import atomic_output, write_bytes_atomic
from stvg.stvgdata.cache import REGIONS_MODEL, lineage
from stvg.stvgdata.catalog import query
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

if TYPE_CHECKING:
    import torch

RUN_FILE = "run.json"
LAST_CHECKPOINT = "checkpoint-last.pt"
BEST_CHECKPOINT = "checkpoint-best.pt"
# files that mark a run folder of an older layout (before run.json)
OLD_LAYOUT_FILES = ("config.json", "cospal.pt", "prompts-and-heads.pt", LAST_CHECKPOINT)


@dataclass(frozen=True)
class TrainRequest:
    """One run for a method's ``train`` to fit: its ``config`` (the method's dataclass) on
    ``dataset``, scored on ``eval_split`` right after training (None: the method scores
    later), reporting through ``progress``."""

    ws: Workspace
    dataset: str
    config: Any
    eval_split: str | None = None
    progress: ProgressFn = no_progress


def run_checkpoint(run_dir: Path) -> Path:
    """The checkpoint to predict with: the best on val when validated, else the last."""
    best = run_dir / BEST_CHECKPOINT
    return best if best.exists() else run_dir / LAST_CHECKPOINT


@dataclass
class Run:
    """One training run of a method, as ``run.json`` stores it."""

    run_id: str
    run_dir: Path
    method: str
    dataset: str
    variant: str
    seed: int
    config: dict[str, Any]
    features: list[dict[str, str | None]] = field(default_factory=list)  # FeatureLineage dicts
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def checkpoint(self) -> Path:
        return run_checkpoint(self.run_dir)

    def save(self) -> None:
        """Write ``run.json`` (atomically; the folder is created)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        record = {k: v for k, v in asdict(self).items() if k not in ("run_id", "run_dir")}
        document = json.dumps({"run_id": self.run_id, **record}, indent=2, default=str)
        write_bytes_atomic(self.run_dir / RUN_FILE, document.encode())


def new_run_id(prefix: str) -> str:
    """A unique run id that sorts by creation time: ``PREFIX-<UTC time>-<random>``."""
    return f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def run_folder(ws: Workspace, run_id: str) -> Path:
    """Where run ``run_id`` keeps ``run.json`` and its checkpoints."""
    return ws.runs_dir / run_id


def new_run(
    ws: Workspace,
    method: str,
    dataset: str,
    variant: str,
    seed: int,
    config: dict[str, Any],
    feature_models: list[str] = (),
    run_id: str | None = None,
) -> Run:
    """A new run of ``method`` (not yet saved), recording the feature sets of
    ``feature_models`` it reads; its id sorts by creation time."""
    run_id = run_id or new_run_id(f"{method}-{variant}")
    return Run(
        run_id,
        run_folder(ws, run_id),
        method,
        dataset,
        variant,
        seed,
        config,
        lineage(ws, dataset, feature_models),
    )


def read_run(ws: Workspace, run_or_checkpoint: str) -> Run:
    """The run of a run id, or of a checkpoint file inside a run folder; a folder written by an
    older layout (no ``run.json``) is a one-line error."""
    path = Path(run_or_checkpoint)
    run_dir = path.parent if path.is_file() else run_folder(ws, run_or_checkpoint)
    record_path = run_dir / RUN_FILE
    if not record_path.is_file():
        if any((run_dir / name).exists() for name in OLD_LAYOUT_FILES):
            raise BadInputError(
                run_dir, None, "written by an older stvg layout (no run.json); train it again"
            )
        raise BadInputError(run_or_checkpoint, None, "no run in this workspace, no checkpoint file")
    record = json.loads(record_path.read_text())
    record.pop("run_id", None)
    return Run(run_dir.name, run_dir, **record)


def is_random_init(features: list[dict[str, str | None]]) -> bool:
    """Whether any feature set was computed by a random-init backbone (numbers not comparable
    to papers)."""
    return any((f.get("weights") or "").startswith(RANDOM_INIT_PREFIX) for f in features)


def recorded_features(ws: Workspace, run_ids: list[str]) -> list[dict[str, str | None]]:
    """The feature sets the ``runs`` rows of ``run_ids`` record (rows written before the
    ``features`` column contribute none)."""
    table = query(
        ws,
        "SELECT DISTINCT f.model, f.fingerprint, f.weights"
        " FROM (SELECT unnest(features) AS f FROM runs WHERE list_contains(?, run_id))"
        " ORDER BY 1, 2",
        [list(run_ids)],
    )
    return table.to_pylist()


def region_lineage(ws: Workspace, dataset: str) -> dict[str, str]:
    """The region store's encoder as a feature set a run read (model ``regions``)."""
    from stvg.stvgdata.regions import dataset_encoder  # h5py: only runs that read regions

    fingerprint, weights = dataset_encoder(ws, dataset)
    return {"model": REGIONS_MODEL, "fingerprint": fingerprint, "weights": weights}


def check_features_unchanged(ws: Workspace, run: Run) -> None:
    """Refuse to evaluate ``run`` on features other than those it was trained on: a model whose
    fingerprint in the cache changed (or that is gone) is a one-line error naming both."""
    models = [f["model"] for f in run.features if f["model"] != REGIONS_MODEL]
    current: dict[str, list[dict]] = {}
    for row in lineage(ws, run.dataset, models):
        current.setdefault(row["model"], []).append(row)
    if len(models) < len(run.features):
        current[REGIONS_MODEL] = [region_lineage(ws, run.dataset)]
    for before in run.features:
        now = current.get(before["model"], [])
        if any(row["fingerprint"] == before["fingerprint"] for row in now):
            continue
        found = ", ".join(_label(row) for row in now) or "none cached"
        raise BadInputError(
            run.run_dir / RUN_FILE,
            before["model"],
            f"trained on features {_label(before)}, the cache now holds {found}: "
            "evaluate on the features it was trained on, or train a new run",
        )


def _label(feature: dict[str, str | None]) -> str:
    weights = feature.get("weights")
    return f"{feature['fingerprint']} ({weights})" if weights else str(feature["fingerprint"])


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """``torch.save`` under a temporary name, then renamed: never a half-written checkpoint."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint's payload on the CPU; one-line error when there is none."""
    import torch

    if not path.is_file():
        raise BadInputError(path, None, "checkpoint not found")
    return torch.load(path, map_location="cpu", weights_only=False)


def seed_everything(seed: int, device: torch.device | str = "cpu") -> None:
    """Same seed, same run: seeds every RNG. CPU kernels are deterministic already; on other
    devices torch is asked for deterministic kernels too (that call imports torch's compiler
    stack, ~10 s, so CPU runs skip it)."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.device(device).type != "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)
