"""HDF5 shard files of the feature store: the one commit path (``ShardFile``) and the
writer/reader pair of the array kinds (frame maps, frame tokens, text tokens).

The layout is ``schemas.arrays``: frame kinds store one (T, H, W, C) or (T, N, C) dataset per
video, text tokens one concatenated (N_tokens, C) dataset plus token ids. A shard is written by
one process under a hidden temporary name; ``ShardFile.commit`` renames it into place and only
then appends its manifest rows, so every manifest row points at a complete file. Every array
carries HDF5's fletcher32 checksum per chunk (unless ``StorageConfig.checksum`` is off). Checked
reads (``verify --deep``) fail on damaged bytes; the training path reads unchecked, since HDF5's
check costs more than the read itself (``ShardReader``).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pyarrow as pa

from stvg.schemas.arrays import KINDS, TOKEN_IDS_PATH
from stvg.stvgdata.atomic import temp_sibling
from stvg.stvgdata.cache.edc import transfer_list
from stvg.stvgdata.cache.faults import ensure_space
from stvg.stvgdata.cache.manifest import item_of
from stvg.stvgdata.catalog import append_rows
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors import EXTRACTORS, kind_of
from stvg.stvgdata.workspace import Workspace

SHARD_SUFFIX = ".h5"
COMPRESSIONS = (None, "gzip", "lzf")
DTYPES = ("float16", "float32")
TOKEN_CHUNK_ROWS = 256


@dataclass(frozen=True)
class StorageConfig:
    """How arrays are stored: dtype, compression, chunking along time, and shard rotation."""

    dtype: str = "float16"  # halves the cache; features are consumed as float32 by the loader
    compression: str | None = None  # None, "gzip" or "lzf": lzf is cheap, gzip smaller
    # HDF5 chunks hold whole rows (sampled frames / tokens) along time, about this many bytes:
    # big enough for fast sequential reads, small enough that a query's clip reads little extra
    chunk_bytes: int = 4 << 20
    max_items: int = 512  # rotate to a new shard after this many videos/queries ...
    max_bytes: int = 4 << 30  # ... or this many stored bytes, whichever comes first
    # fletcher32 per chunk: damaged bytes fail `verify --deep` and checked reads instead of
    # being served (docs/feature-cache.md, Checksums)
    checksum: bool = True

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise BadInputError.for_field("dtype", self.dtype, "expected float16 or float32")
        if self.compression not in COMPRESSIONS:
            raise BadInputError.for_field(
                "compression", self.compression, "expected none, lzf or gzip"
            )


@dataclass(frozen=True)
class ModelIdentity:
    """What a stored array was computed with; written as attributes of every dataset."""

    model: str
    fingerprint: str
    description: str  # readable summary of the fingerprinted configuration
    weights: str = ""  # readable weights label (manifest column ``weights``)
    config: str | None = None  # the extractor's config as JSON (manifest column ``config``)
    kind: str = ""  # layout kind (schemas.arrays.KINDS); empty: the model's registered kind

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", kind_of(self.model))


def array_key(video_id: str) -> str:
    """HDF5-safe dataset name for a video id ('/' would create groups)."""
    return video_id.replace("/", "%2F")


@dataclass
class _OpenArray:
    path: str
    num_rows: int
    rows_written: int
    manifest: dict[str, Any]


@dataclass
class _TokenBuffer:
    identity: ModelIdentity
    rows: int = 0  # rows assigned to queries so far (written or buffered)
    feats: list[np.ndarray] = field(default_factory=list)  # (L, C) per buffered query
    ids: list[np.ndarray] = field(default_factory=list)  # (L,) per buffered query
    nbytes: int = 0  # stored bytes of the buffered features


@dataclass
class ShardFile:
    """One shard being written by one process, whatever its kind: a hidden temporary file that
    ``commit`` renames into place before appending its manifest rows (the store's one commit
    path), and that ``abort`` deletes."""

    ws: Workspace
    relative_path: str  # shard path relative to ``ws.features_dir``
    dataset: str

    def __post_init__(self) -> None:
        self.final_path = self.ws.features_dir / self.relative_path
        self.final_path.parent.mkdir(parents=True, exist_ok=True)
        self.temp_path = temp_sibling(self.final_path)
        self._file = h5py.File(self.temp_path, "w", libver="latest", rdcc_nbytes=0)
        self._rows: list[dict[str, Any]] = []

    def _flush(self) -> None:
        """Write what the kind's writer still buffers (called by ``commit``)."""

    def _manifest_row(self, identity: ModelIdentity, **fields: Any) -> dict[str, Any]:
        """A manifest row of this shard for ``identity``'s item; ``fields`` give where it lies
        (video/query, array path, rows) and its fps, frames, shape, dtype and input digest."""
        return {
            "dataset": self.dataset,
            "model": identity.model,
            "kind": identity.kind,
            "fingerprint": identity.fingerprint,
            "config": identity.config,
            "weights": identity.weights,
            "shard": self.relative_path,
            **fields,
        }

    def commit(self) -> int:
        """Close, rename into place, then append the manifest rows; returns rows committed.

        An empty shard (every item failed) is removed instead of committed.
        """
        self._flush()
        self._file.close()
        if not self._rows:
            self.temp_path.unlink(missing_ok=True)
            return 0
        with open(self.temp_path, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(self.temp_path, self.final_path)
        created_at = datetime.now(UTC)
        table = pa.Table.from_pylist([{**row, "created_at": created_at} for row in self._rows])
        try:
            append_rows(self.ws, "features", table)
        except BaseException:
            self.final_path.unlink(missing_ok=True)  # no manifest row will ever point at it
            raise
        return len(self._rows)

    def abort(self) -> None:
        """Close and delete the temporary file: nothing of this shard becomes visible.

        Safe after a failed write or commit (full disk): closing may fail again, the file is
        deleted all the same."""
        with contextlib.suppress(OSError, RuntimeError):  # the file is deleted just below
            self._file.close()
        self.temp_path.unlink(missing_ok=True)


@dataclass
class ShardWriter(ShardFile):
    """Writes one shard of the array kinds (one process, one file)."""

    storage: StorageConfig = field(default_factory=StorageConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._open: dict[str, _OpenArray] = {}
        self._tokens: dict[str, _TokenBuffer] = {}  # model -> query rows not yet written
        self.nbytes = 0

    @property
    def num_items(self) -> int:
        """Completed items (videos or queries) in this shard."""
        return len(self._rows)

    @property
    def has_open_arrays(self) -> bool:
        """Whether some video array is begun but neither finished nor discarded."""
        return bool(self._open)

    @property
    def full(self) -> bool:
        return self.num_items >= self.storage.max_items or self.nbytes >= self.storage.max_bytes

    def _reserve_space(self, nbytes: int) -> None:
        """Fail cleanly before HDF5 meets a full disk: room for the rows, the chunk cache's
        flush and the metadata written at close."""
        ensure_space(self.temp_path.parent, nbytes, reserve=2 * self.storage.chunk_bytes)

    def _attributes(self, identity: ModelIdentity) -> dict[str, Any]:
        registered = EXTRACTORS.get(identity.model)
        return {
            "model": identity.model,
            "fingerprint": identity.fingerprint,
            "description": identity.description,
            "axes": ",".join(KINDS[identity.kind].axes),
            "dataset": self.dataset,
            "doc": registered.doc if registered else KINDS[identity.kind].doc,
        }

    def _create(self, path: str, shape: tuple[int, ...], dtype: str, maxshape=None) -> h5py.Dataset:
        row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * np.dtype(dtype).itemsize
        rows = max(1, self.storage.chunk_bytes // max(row_bytes, 1))
        # growable token arrays: a query owns ~20 rows, so small chunks keep its read small
        chunk = (min(rows, max(shape[0], 1) if maxshape is None else TOKEN_CHUNK_ROWS), *shape[1:])
        return self._file.create_dataset(
            path,
            shape=shape,
            maxshape=maxshape,
            dtype=dtype,
            chunks=chunk,
            compression=self.storage.compression,
            fletcher32=self.storage.checksum,
        )

    def begin_video(
        self,
        identity: ModelIdentity,
        video_id: str,
        fps: float,
        frame_idx: np.ndarray,
        row_shape: tuple[int, int, int],
        input_digest: str | None = None,
    ) -> str:
        """Create the (T, H, W, C) array of one video; returns the handle for ``write_rows``.

        ``input_digest`` (``digest.video_digest``) lets readers tell when the video changed."""
        path = KINDS[identity.kind].array_path(identity.model, array_key(video_id))
        num_rows = len(frame_idx)
        data = self._create(path, (num_rows, *row_shape), self.storage.dtype)
        data.attrs.update(self._attributes(identity))
        data.attrs.update(video_id=video_id, fps=fps, frame_idx=np.asarray(frame_idx, np.int64))
        manifest = self._manifest_row(
            identity,
            video_id=video_id,
            query_id=None,
            array_path=path,
            row_start=0,
            row_end=num_rows,
            fps=float(fps),
            frame_idx=[int(f) for f in frame_idx],
            shape=list(row_shape),
            dtype=self.storage.dtype,
            input_digest=input_digest,
        )
        self._open[path] = _OpenArray(path, num_rows, 0, manifest)
        return path

    def write_rows(self, handle: str, row_start: int, rows: np.ndarray) -> None:
        """Write rows [row_start, row_start + len(rows)) of an open video array."""
        entry = self._open[handle]
        stop = row_start + len(rows)
        if stop > entry.num_rows:
            raise ValueError(f"{handle}: rows up to {stop} exceed its {entry.num_rows} rows")
        self._reserve_space(rows.size * np.dtype(self.storage.dtype).itemsize)
        self._file[handle][row_start:stop] = rows.astype(self.storage.dtype, copy=False)
        entry.rows_written += len(rows)
        self.nbytes += rows.size * np.dtype(self.storage.dtype).itemsize

    def finish_video(self, handle: str) -> None:
        """Mark an array complete; it enters the manifest when the shard commits."""
        entry = self._open.pop(handle)
        if entry.rows_written != entry.num_rows:
            del self._file[handle]
            raise ValueError(f"{handle}: {entry.rows_written} of {entry.num_rows} rows written")
        self._rows.append(entry.manifest)

    def discard_video(self, handle: str) -> None:
        """Drop a partially written array (its video failed); nothing of it is committed."""
        if self._open.pop(handle, None) is not None:
            del self._file[handle]

    def add_query_tokens(
        self,
        identity: ModelIdentity,
        query_id: str,
        video_id: str,
        token_ids: np.ndarray,
        feats: np.ndarray,
        input_digest: str | None = None,
    ) -> None:
        """Append one query's tokens (L,) and features (L, C) to the model's token arrays;
        ``input_digest`` is ``digest.text_digest`` of its sentence."""
        nbytes = feats.size * np.dtype(self.storage.dtype).itemsize
        path = KINDS[identity.kind].array_path(identity.model, query_id)
        tokens = self._tokens.setdefault(identity.model, _TokenBuffer(identity))
        start, stop = tokens.rows, tokens.rows + len(feats)
        tokens.rows = stop
        tokens.feats.append(feats.astype(self.storage.dtype, copy=False))
        tokens.ids.append(np.asarray(token_ids, np.int32))
        tokens.nbytes += nbytes
        if tokens.nbytes >= self.storage.chunk_bytes:
            self._flush_tokens(tokens)
        self.nbytes += nbytes
        self._rows.append(
            self._manifest_row(
                identity,
                video_id=video_id,
                query_id=query_id,
                array_path=path,
                row_start=start,
                row_end=stop,
                fps=None,
                frame_idx=[],
                shape=[int(feats.shape[1])],
                dtype=self.storage.dtype,
                input_digest=input_digest,
            )
        )

    def _flush_tokens(self, tokens: _TokenBuffer) -> None:
        """Append the buffered queries' rows to the model's token arrays in one write: one
        small write per query would rewrite a whole chunk each time."""
        if not tokens.feats:
            return
        self._reserve_space(tokens.nbytes)  # once per write, not per buffered query
        model = tokens.identity.model
        path = KINDS[tokens.identity.kind].array_path(model, "")
        ids_path = TOKEN_IDS_PATH.format(model=model)
        feats, ids = np.concatenate(tokens.feats), np.concatenate(tokens.ids)
        if path not in self._file:
            channels = feats.shape[1]
            data = self._create(path, (0, channels), self.storage.dtype, maxshape=(None, channels))
            data.attrs.update(self._attributes(tokens.identity))
            self._create(ids_path, (0,), "int32", maxshape=(None,))
        data, ids_data = self._file[path], self._file[ids_path]
        start, stop = data.shape[0], data.shape[0] + len(feats)
        data.resize(stop, axis=0)
        ids_data.resize(stop, axis=0)
        data[start:stop] = feats
        ids_data[start:stop] = ids
        tokens.feats, tokens.ids, tokens.nbytes = [], [], 0

    def _flush(self) -> None:
        for handle in list(self._open):
            self.discard_video(handle)
        for tokens in self._tokens.values():
            self._flush_tokens(tokens)

    def abort(self) -> None:
        self._open.clear()
        super().abort()


def read_runs(
    data: h5py.Dataset, runs: list[tuple[int, int]], *, verify_checksums: bool
) -> np.ndarray:
    """Rows [start, stop) of each run (ascending, disjoint) of ``data``, concatenated in one
    HDF5 read; ``verify_checksums`` False skips fletcher32, returning damaged bytes as stored."""
    runs = [(start, stop) for start, stop in runs if stop > start]
    out = np.empty((sum(stop - start for start, stop in runs), *data.shape[1:]), data.dtype)
    if not len(out):
        return out
    space, tail = data.id.get_space(), data.shape[1:]
    space.select_none()
    for start, stop in runs:
        space.select_hyperslab(
            (start, *(0,) * len(tail)), (stop - start, *tail), op=h5py.h5s.SELECT_OR
        )
    memory = h5py.h5s.create_simple(out.shape)
    data.id.read(memory, space, out, dxpl=transfer_list(verify_checksums))
    return out


class ShardReader:
    """Reads manifest rows; opens each shard lazily on first use and keeps it open.

    ``verify_checksums`` is the one choice between safety and speed. Checking fletcher32 runs
    at ~0.7 GiB/s per process, far below reads from the page cache, so the training path (the
    loader, the heads' data) passes False: it trusts the cache, ``verify --deep`` is the check
    and ``extract`` repairs what it flagged. True (the default) fails on damaged bytes.
    Create one per process (DataLoader workers each get their own after pickling).
    """

    def __init__(self, features_dir: Path, *, verify_checksums: bool = True) -> None:
        self.features_dir = Path(features_dir)
        self.verify_checksums = verify_checksums
        self._files: dict[str, h5py.File] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_files": {}}

    def file(self, shard: str) -> h5py.File:
        if shard not in self._files:
            # no chunk cache: reads cover whole row ranges, so HDF5 can read chunks straight
            # into the result instead of copying them through its cache (2x on big reads)
            self._files[shard] = h5py.File(self.features_dir / shard, "r", rdcc_nbytes=0)
        return self._files[shard]

    def read(self, row: dict[str, Any], rows: np.ndarray | None = None) -> np.ndarray:
        """The array of one manifest row, or only its ``rows`` (sorted positions within it).

        A missing shard, or damaged bytes under a checked read, raise one ``BadInputError``."""
        try:
            return self._read(row, rows)
        except (OSError, KeyError) as exc:
            raise unreadable(self.features_dir, row, exc) from None

    def _read(self, row: dict[str, Any], rows: np.ndarray | None) -> np.ndarray:
        data = self.file(row["shard"])[row["array_path"]]
        start, stop = int(row["row_start"]), int(row["row_end"])
        if rows is None:
            return self._runs(data, [(start, stop)])
        rows = start + np.asarray(rows, dtype=np.int64)
        if len(rows) and rows[-1] - rows[0] + 1 <= 2 * len(rows):
            # dense selection: one contiguous read beats a selection of many runs
            block = self._runs(data, [(rows[0], rows[-1] + 1)])
            return block if len(block) == len(rows) else block[rows - rows[0]]
        runs = np.split(rows, np.flatnonzero(np.diff(rows) != 1) + 1) if len(rows) else []
        return self._runs(data, [(int(run[0]), int(run[-1]) + 1) for run in runs])

    def _runs(self, data: h5py.Dataset, runs: list[tuple[int, int]]) -> np.ndarray:
        return read_runs(data, runs, verify_checksums=self.verify_checksums)

    def description(self, row: dict[str, Any]) -> str:
        """The readable fingerprint stored with a manifest row's array (what computed it)."""
        return str(self.file(row["shard"])[row["array_path"]].attrs["description"])

    def read_token_ids(self, row: dict[str, Any]) -> np.ndarray:
        """Token ids (L,) of a token-model manifest row."""
        try:
            ids = self.file(row["shard"])[TOKEN_IDS_PATH.format(model=row["model"])]
            return self._runs(ids, [(int(row["row_start"]), int(row["row_end"]))])
        except (OSError, KeyError) as exc:
            raise unreadable(self.features_dir, row, exc) from None

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()


def unreadable(features_dir: Path, row: dict[str, Any], exc: BaseException) -> BadInputError:
    """One line for a manifest row whose shard cannot be read, saying how to repair it."""
    item = item_of(row)
    cause = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return BadInputError(
        features_dir / row["shard"],
        f"{row['model']} {item}",
        f"cannot read its features ({cause}); run `stvg verify --deep --dataset "
        f"{row['dataset']}`, then `stvg extract --dataset {row['dataset']}` to recompute them",
    )
