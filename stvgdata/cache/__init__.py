"""The feature cache: HDF5 shards (``shard``), the Parquet manifest (``manifest``), the split
of work between processes (``plan``) and ``verify``. Only this package knows the HDF5 layout."""

from stvg.stvgdata.cache.digest import InputCheck, file_stamp, text_digest, video_digest
from stvg.stvgdata.cache.faults import StorageError, storage_faults
from stvg.stvgdata.cache.manifest import (
    drop_items,
    drop_model,
    item_column,
    manifest_rows,
)
from stvg.stvgdata.cache.plan import WorkSplit, new_shard_name, remove_stale_files, worker_lock
from stvg.stvgdata.cache.repair import Redo, items_to_redo, verify_flags
from stvg.stvgdata.cache.shard import ModelIdentity, ShardReader, ShardWriter, StorageConfig
from stvg.stvgdata.cache.verify import Problem, VerifyReport, verify_cache

__all__ = [
    "InputCheck",
    "ModelIdentity",
    "Problem",
    "Redo",
    "ShardReader",
    "ShardWriter",
    "StorageConfig",
    "StorageError",
    "VerifyReport",
    "WorkSplit",
    "drop_items",
    "drop_model",
    "file_stamp",
    "item_column",
    "items_to_redo",
    "manifest_rows",
    "new_shard_name",
    "remove_stale_files",
    "storage_faults",
    "text_digest",
    "verify_cache",
    "verify_flags",
    "video_digest",
    "worker_lock",
]
