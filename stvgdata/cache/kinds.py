"""The store's registry by layout kind: the writer/reader pair and the ``verify`` check each
kind of manifest row goes through (kinds are ``schemas.arrays.KINDS``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import h5py

from stvg.schemas.arrays import FRAME_MAP, FRAME_TOKENS, REGION_SET, TEXT_TOKENS
from stvg.stvgdata.cache.checks import check_array_row, check_region_row
from stvg.stvgdata.cache.manifest import row_kind
from stvg.stvgdata.cache.regions import RegionReader, RegionWriter
from stvg.stvgdata.cache.shard import ShardFile, ShardReader, ShardWriter

RowCheck = Callable[[h5py.File, dict[str, Any], bool], list[str]]


@dataclass(frozen=True)
class KindStorage:
    """How rows of one kind are written, read and verified."""

    writer: type[ShardFile]
    reader: type[ShardReader]
    check: RowCheck  # (open shard, manifest row, deep) -> reasons it does not match


_ARRAYS = KindStorage(ShardWriter, ShardReader, check_array_row)
STORAGE: dict[str, KindStorage] = {
    FRAME_MAP: _ARRAYS,
    FRAME_TOKENS: _ARRAYS,
    TEXT_TOKENS: _ARRAYS,
    REGION_SET: KindStorage(RegionWriter, RegionReader, check_region_row),
}


def storage_of(row: dict[str, Any]) -> KindStorage:
    """The writer/reader pair and check of a manifest row's kind."""
    return STORAGE[row_kind(row)]
