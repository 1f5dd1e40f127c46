"""Where stvg keeps what it writes: one workspace directory (``--workspace``, env
``STVG_WORKSPACE``, default ``./stvg-workspace``).

Layout::

    catalog/index.json                 dataset -> current version directory (atomic swap)
    catalog/versions/<dataset>-<id>/   videos/queries/boxes/failures.parquet of one import
    tables/<table>/part-*.parquet      append-only tables (features manifest, runs, ...)
    features/shards/...                HDF5 shards of the feature cache
    runs/<run_id>/                     checkpoints, configs and predictions of training runs
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from stvg.stvgdata.errors import BadInputError

DEFAULT_WORKSPACE = "stvg-workspace"
WORKSPACE_ENV = "STVG_WORKSPACE"
# What stvg creates at the top of a workspace; a directory with none of these is not one.
WORKSPACE_ENTRIES = ("catalog", "tables", "features", "runs")


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def resolve(cls, path: str | Path | None = None) -> Workspace:
        """The workspace named by ``path``, else by the environment, else the default."""
        chosen = path or os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE
        return cls(Path(chosen).expanduser().resolve())

    def require(self) -> None:
        """Refuse to read a workspace that does not exist (a mistyped ``--workspace``), so that it
        never looks like an empty catalog. Commands that write create the directory; an empty
        directory is an empty workspace."""
        if not self.root.is_dir():
            reason = "workspace does not exist (check `workspace`; stvg import creates it)"
            raise BadInputError(self.root, None, reason)
        names = {path.name for path in self.root.iterdir()}
        if names and not names.intersection(WORKSPACE_ENTRIES):
            raise BadInputError(
                self.root,
                None,
                f"not a stvg workspace: none of {', '.join(WORKSPACE_ENTRIES)} (check `workspace`)",
            )

    @property
    def catalog_dir(self) -> Path:
        return self.root / "catalog"

    @property
    def catalog_index(self) -> Path:
        return self.catalog_dir / "index.json"

    @property
    def versions_dir(self) -> Path:
        return self.catalog_dir / "versions"

    @property
    def tables_dir(self) -> Path:
        return self.root / "tables"

    def table_dir(self, table: str) -> Path:
        return self.tables_dir / table

    @property
    def features_dir(self) -> Path:
        return self.root / "features"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"
