"""What ``verify`` checks of one manifest row against its shard, per layout kind.

Shallow checks read metadata only (array present, row range, shape, dtype, attributes); deep
ones also read every row with fletcher32 checked and look for NaN/inf.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np

from stvg.schemas.arrays import KINDS, TOKEN_IDS_PATH
from stvg.stvgdata.cache.manifest import row_kind
from stvg.stvgdata.cache.shard import read_runs

DEEP_READ_ROWS = 64  # rows per read in deep mode: bounded memory for 10-minute videos


def check_array_row(handle: h5py.File, row: dict[str, Any], deep: bool) -> list[str]:
    """Reasons why a frame-map, frame-tokens or text-tokens row does not match its array."""
    path = row["array_path"]
    if path not in handle:
        return [f"array {path} missing from the shard"]
    data = handle[path]
    start, stop = row["row_start"], row["row_end"]
    reasons = []
    if not 0 <= start < stop <= data.shape[0]:
        reasons.append(f"rows [{start}, {stop}) outside the array's {data.shape[0]} rows")
    if list(data.shape[1:]) != list(row["shape"]):
        reasons.append(f"row shape {list(data.shape[1:])} != manifest {row['shape']}")
    if data.dtype.name != row["dtype"]:
        reasons.append(f"dtype {data.dtype.name} != manifest {row['dtype']}")
    for attr in ("model", "fingerprint"):
        if data.attrs.get(attr) != row[attr]:
            reasons.append(f"attribute {attr}={data.attrs.get(attr)!r} != manifest {row[attr]!r}")
    text = KINDS[row_kind(row)].timeline == "token"
    if not text:
        stored = np.asarray(data.attrs.get("frame_idx", []))
        if stop - start != len(row["frame_idx"]) or not np.array_equal(stored, row["frame_idx"]):
            reasons.append("frame_idx differs between the manifest and the array")
    else:
        ids = handle.get(TOKEN_IDS_PATH.format(model=row["model"]))
        if ids is None or ids.shape[0] != data.shape[0]:
            reasons.append("token ids missing or of another length than the features")
    if deep and not reasons:
        reasons.extend(deep_reasons(data, start, stop))
        if text and not reasons:
            ids = handle[TOKEN_IDS_PATH.format(model=row["model"])]
            reasons.extend(deep_reasons(ids, start, stop, "token ids"))
    return reasons


def check_region_row(handle: h5py.File, row: dict[str, Any], deep: bool) -> list[str]:
    """Reasons why a region-set row (a video part's group, or a query's sentence row) does not
    match its shard: every array of the group present with the group's length, the embedding
    dim and the encoder as the manifest says."""
    path = row["array_path"]
    if path not in handle:
        return [f"region {path} missing from the shard"]
    node = handle[path]
    is_group = isinstance(node, h5py.Group)
    arrays = dict(node.items()) if is_group else {"embeddings": node}
    embeddings = arrays.get("embeddings")
    if embeddings is None:
        return [f"no embeddings in {path}"]
    start, stop = row["row_start"], row["row_end"]
    reasons = []
    if not 0 <= start <= stop <= embeddings.shape[0]:
        reasons.append(f"rows [{start}, {stop}) outside the array's {embeddings.shape[0]} rows")
    if list(embeddings.shape[1:]) != list(row["shape"]):
        reasons.append(f"row shape {list(embeddings.shape[1:])} != manifest {row['shape']}")
    lengths = {name: data.shape[0] for name, data in arrays.items()}
    if is_group and len(set(lengths.values())) > 1:
        reasons.append(f"arrays of different lengths: {lengths}")
    if node.attrs.get("encoder") != row["fingerprint"]:
        reasons.append(
            f"attribute encoder={node.attrs.get('encoder')!r} != manifest {row['fingerprint']!r}"
        )
    if deep and not reasons:
        reasons.extend(deep_reasons(embeddings, start, stop))
    return reasons


def deep_reasons(data: h5py.Dataset, start: int, stop: int, what: str = "data") -> list[str]:
    """Read rows [start, stop) of ``data`` with checksums checked, unlike the training path's
    reads: checksum failures and NaN/inf."""
    for chunk_start in range(start, stop, DEEP_READ_ROWS):
        run = (chunk_start, min(stop, chunk_start + DEEP_READ_ROWS))
        try:
            block = read_runs(data, [run], verify_checksums=True)
        except OSError as exc:  # fletcher32 mismatch, or bytes HDF5 cannot decode
            return [f"damaged {what} in rows from {chunk_start}: {str(exc).splitlines()[0]}"]
        if np.issubdtype(block.dtype, np.floating) and not np.isfinite(block).all():
            return [f"non-finite values in rows from {chunk_start}"]
    return []


def checksummed(handle: h5py.File, row: dict[str, Any]) -> bool:
    """Whether ``row``'s rows are stored with fletcher32 (empty region arrays have none)."""
    node = handle.get(row["array_path"])
    if isinstance(node, h5py.Group):
        node = node.get("embeddings")
    return node is None or node.size == 0 or node.fletcher32
