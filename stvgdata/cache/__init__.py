"""The one feature store: HDF5 shards of every layout kind (``shard`` for feature arrays,
``regions`` for region sets, registered by kind in ``kinds``), the one Parquet manifest
(``manifest``: commit, drop, lock, fingerprint check, configs), the split of work between
processes (``plan``) and ``verify``. Only this package knows the HDF5 layout."""

from stvg.stvgdata.cache.digest import (
    InputCheck,
    array_digest,
    file_stamp,
    text_digest,
    video_digest,
)
from stvg.stvgdata.cache.faults import StorageError, storage_faults
from stvg.stvgdata.cache.kinds import STORAGE, KindStorage, storage_of
from stvg.stvgdata.cache.manifest import (
    REGIONS_MODEL,
    config_differences,
    drop_items,
    drop_model,
    feature_config,
    item_column,
    item_of,
    lineage,
    manifest_rows,
    reextract_command,
    refuse_other_fingerprint,
    row_config,
    row_kind,
)
from stvg.stvgdata.cache.plan import WorkSplit, new_shard_name, remove_stale_files, worker_lock
from stvg.stvgdata.cache.repair import Redo, items_to_redo, verify_flags
from stvg.stvgdata.cache.shard import ModelIdentity, ShardReader, ShardWriter, StorageConfig
from stvg.stvgdata.cache.verify import Problem, VerifyReport, verify_cache

__all__ = [
    "REGIONS_MODEL",
    "STORAGE",
    "InputCheck",
    "KindStorage",
    "ModelIdentity",
    "Problem",
    "Redo",
    "ShardReader",
    "ShardWriter",
    "StorageConfig",
    "StorageError",
    "VerifyReport",
    "WorkSplit",
    "array_digest",
    "config_differences",
    "drop_items",
    "drop_model",
    "feature_config",
    "file_stamp",
    "item_column",
    "item_of",
    "items_to_redo",
    "lineage",
    "manifest_rows",
    "new_shard_name",
    "reextract_command",
    "refuse_other_fingerprint",
    "remove_stale_files",
    "row_config",
    "row_kind",
    "storage_faults",
    "storage_of",
    "text_digest",
    "verify_cache",
    "verify_flags",
    "video_digest",
    "worker_lock",
]
