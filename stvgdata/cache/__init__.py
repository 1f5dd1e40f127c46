"""The feature cache: HDF5 shards (``shard``), the Parquet manifest (``manifest``), the split
of work between processes (``plan``) and ``verify``. Only this package knows the HDF5 layout."""

from stvgdata.cache.manifest import (
    cached_by_fingerprint,
    check_fingerprint,
    drop_model,
    item_column,
    manifest_rows,
)
from stvgdata.cache.plan import WorkSplit, new_shard_name, remove_stale_files, worker_lock
from stvgdata.cache.shard import ModelIdentity, ShardReader, ShardWriter, StorageConfig
from stvgdata.cache.verify import Problem, VerifyReport, verify_cache

__all__ = [
    "ModelIdentity",
    "Problem",
    "ShardReader",
    "ShardWriter",
    "StorageConfig",
    "VerifyReport",
    "WorkSplit",
    "cached_by_fingerprint",
    "check_fingerprint",
    "drop_model",
    "item_column",
    "manifest_rows",
    "new_shard_name",
    "remove_stale_files",
    "verify_cache",
    "worker_lock",
]
