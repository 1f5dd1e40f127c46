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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from heads.eval.evaluate import new_run_id
from stvgdata.atomic import atomic_output, write_bytes_atomic
from stvgdata.catalog import query
from stvgdata.errors import BadInputError
from stvgdata.workspace import Workspace

if TYPE_CHECKING:
    import torch

RUN_FILE = "run.json"
LAST_CHECKPOINT = "checkpoint-last.pt"
BEST_CHECKPOINT = "checkpoint-best.pt"
# files that mark a run folder of an older layout (before run.json)
OLD_LAYOUT_FILES = ("config.json", "cospal.pt", "prompts-and-heads.pt", LAST_CHECKPOINT)


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
    features: list[dict[str, str]] = field(default_factory=list)  # [{model, fingerprint}]
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def checkpoint(self) -> Path:
        """The checkpoint to predict with: the best on val when validated, else the last."""
        best = self.run_dir / BEST_CHECKPOINT
        return best if best.exists() else self.run_dir / LAST_CHECKPOINT

    def save(self) -> None:
        """Write ``run.json`` (atomically; the folder is created)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        record = {k: v for k, v in asdict(self).items() if k not in ("run_id", "run_dir")}
        document = json.dumps({"run_id": self.run_id, **record}, indent=2, default=str)
        write_bytes_atomic(self.run_dir / RUN_FILE, document.encode())


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
    """A new run of ``method`` (not yet saved); its id sorts by creation time."""
    run_id = run_id or new_run_id(f"{method}-{variant}")
    return Run(
        run_id,
        ws.runs_dir / run_id,
        method,
        dataset,
        variant,
        seed,
        config,
        feature_fingerprints(ws, dataset, feature_models),
    )


def read_run(ws: Workspace, run_or_checkpoint: str) -> Run:
    """The run of a run id, or of a checkpoint file inside a run folder; a folder written by an
    older layout (no ``run.json``) is a one-line error."""
    path = Path(run_or_checkpoint)
    run_dir = path.parent if path.is_file() else ws.runs_dir / run_or_checkpoint
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


def feature_fingerprints(ws: Workspace, dataset: str, models: list[str]) -> list[dict[str, str]]:
    """(model, fingerprint) of each cached model a run reads, as the ``features`` view has it."""
    if not models:
        return []
    marks = ", ".join("?" for _ in models)
    table = query(
        ws,
        f"SELECT DISTINCT model, fingerprint FROM features WHERE dataset = ? AND model IN ({marks})"
        " ORDER BY model, fingerprint",
        [dataset, *models],
    )
    return table.to_pylist()


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
