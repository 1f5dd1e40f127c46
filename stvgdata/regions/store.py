"""The region cache: per-video region and frame embeddings and per-query sentence embeddings.

Arrays live in HDF5 shards under ``features/regions/<dataset>/`` (layout
``schemas.arrays.REGION_LAYOUT``); the ``regions`` table is the manifest, one row per (video,
kind) or query, naming shard, group and rows. A shard is written under a temporary name,
renamed when complete, and only then do its manifest rows appear, so a reader never sees a
half-written item. Only this module knows the HDF5 layout.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stvg.schemas import TABLES
from stvg.schemas.arrays import REGION_LAYOUT
from stvg.stvgdata.atomic import temp_sibling
from stvg.stvgdata.cache.shard import array_key
from stvg.stvgdata.catalog import append_rows, read_table, table_files, write_parquet
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.regions.base import TextEncoder
from stvg.stvgdata.workspace import Workspace

REGIONS_DIR = "regions"
BOX_KINDS = REGION_LAYOUT.box_kinds
EXTRACT_HINT = "stvg extract-regions --dataset {dataset}"


@dataclass(frozen=True)
class VideoRegions:
    """One video's cached region + frame embeddings, all L2-normalized float32, one encoder."""

    dataset: str
    video_id: str
    encoder: str  # encoder fingerprint, e.g. "stvg-vl-synth:<digest>" or "clip:<digest>"
    frame_idx: np.ndarray  # (T,) int32 absolute frames with features (the sampled frames)
    frame_embeddings: np.ndarray  # (T, D) float32, whole-frame image embedding
    region_frame: np.ndarray  # (N,) int32 absolute frame of each region (a subset of frame_idx)
    boxes: np.ndarray  # (N, 4) float32 pixel x1, y1, x2, y2
    tubelet_id: np.ndarray  # (N,) int64 tubelet of the box, -1 for a raw detection
    scores: np.ndarray  # (N,) float32 detector score (nan where the tracker bridged a miss)
    labels: np.ndarray  # (N,) object label strings (dtype object)
    embeddings: np.ndarray  # (N, D) float32 region embedding


@dataclass(frozen=True)
class BoxRegions:
    """The boxes of one video and kind, with their embeddings (what a writer stores)."""

    frame_idx: np.ndarray  # (N,) int32 absolute frame of each box
    boxes: np.ndarray  # (N, 4) float32 pixel xyxy
    tubelet_id: np.ndarray  # (N,) int64, -1 for raw detections
    scores: np.ndarray  # (N,) float32, nan where bridged
    labels: np.ndarray  # (N,) object strings
    embeddings: np.ndarray  # (N, D) float32 L2-normalized


def digest_of(*parts: object) -> str:
    """Short digest of arrays and strings: equal inputs give equal digests across runs."""
    digest = hashlib.sha256()
    for part in parts:
        data = np.ascontiguousarray(part).tobytes() if isinstance(part, np.ndarray) else part
        digest.update(str(data).encode() if not isinstance(data, bytes) else data)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# the manifest


def region_rows(ws: Workspace, dataset: str) -> pa.Table:
    """Manifest rows of ``dataset``, newest last (a redone item's latest row wins)."""
    rows = read_table(ws, "regions")
    rows = rows.filter(pc.equal(rows["dataset"], dataset))
    return rows.sort_by([("created_at", "ascending")])


def latest_rows(rows: pa.Table) -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, video_id or query_id) -> its newest manifest row."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows.to_pylist():
        latest[(row["kind"], row["query_id"] or row["video_id"])] = row
    return latest


def dataset_encoder(ws: Workspace, dataset: str, rows: pa.Table | None = None) -> tuple[str, str]:
    """(fingerprint, weights path) of the one encoder ``dataset``'s regions were cached with."""
    rows = region_rows(ws, dataset) if rows is None else rows
    encoders = sorted(
        set(zip(rows["encoder"].to_pylist(), rows["weights"].to_pylist(), strict=True))
    )
    if not encoders:
        raise BadInputError(
            ws.features_dir / REGIONS_DIR,
            dataset,
            f"no region embeddings cached; run `{EXTRACT_HINT.format(dataset=dataset)}`",
        )
    if len({fingerprint for fingerprint, _ in encoders}) > 1:
        raise BadInputError(
            ws.features_dir / REGIONS_DIR,
            dataset,
            f"regions of several encoders are cached ({', '.join(e for e, _ in encoders)}); "
            "rerun extract-regions with `replace_region_cache`",
        )
    return encoders[-1]


def check_encoder(ws: Workspace, dataset: str, fingerprint: str) -> None:
    """Refuse to mix embeddings of two encoders in one dataset: similarities across them mean
    nothing, so a second encoder needs an explicit replace."""
    cached = set(region_rows(ws, dataset)["encoder"].to_pylist()) - {fingerprint}
    if cached:
        raise BadInputError(
            ws.features_dir / REGIONS_DIR,
            dataset,
            f"the cache holds regions of encoder {', '.join(sorted(cached))}, this run uses "
            f"{fingerprint}; rerun with `replace_region_cache` to drop them, "
            "or use another `workspace`",
        )


def drop_regions(ws: Workspace, dataset: str, keep_encoder: str = "") -> int:
    """Remove ``dataset``'s manifest rows (except ``keep_encoder``'s), then the shards no row
    points at any more; returns the rows removed. Manifest first, so no row dangles."""
    dropped = 0
    for path in table_files(ws, "regions"):
        part = pq.read_table(path, schema=TABLES["regions"])
        doomed = pc.and_(
            pc.equal(part["dataset"], dataset), pc.not_equal(part["encoder"], keep_encoder)
        )
        count = pc.sum(doomed).as_py() or 0
        if not count:
            continue
        kept = part.filter(pc.invert(doomed))
        if kept.num_rows:
            write_parquet(path, kept)
        else:
            path.unlink()
        dropped += count
    remove_unreferenced_shards(ws, dataset)
    return dropped


def remove_unreferenced_shards(ws: Workspace, dataset: str) -> int:
    """Delete ``dataset``'s shards no manifest row points at (dropped, or left by a run killed
    between rename and manifest append) and temporary files of killed writers. Call it only
    under the dataset's extraction lock: a running writer's files look the same."""
    referenced = set(read_table(ws, "regions")["shard"].to_pylist())
    directory = ws.features_dir / REGIONS_DIR / dataset
    removed = 0
    for path in directory.glob("*.h5*") if directory.is_dir() else ():
        relative = path.relative_to(ws.features_dir).as_posix()
        if ".tmp-" in path.name or (path.suffix == ".h5" and relative not in referenced):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# --------------------------------------------------------------------------------------------
# the readers


def _not_cached(ws: Workspace, dataset: str, item: str, what: str) -> BadInputError:
    return BadInputError(
        ws.features_dir / REGIONS_DIR,
        f"{dataset}/{item}",
        f"no cached {what}; run `{EXTRACT_HINT.format(dataset=dataset)}`",
    )


def read_video_regions(
    ws: Workspace, dataset: str, video_id: str, boxes: str = "tubelets"
) -> VideoRegions:
    """Region (``boxes``: tubelets or detections) and whole-frame embeddings of one video."""
    if boxes not in BOX_KINDS:
        raise BadInputError.for_field("boxes", boxes, f"must be one of {', '.join(BOX_KINDS)}")
    rows = region_rows(ws, dataset)
    latest = latest_rows(rows)
    frames_row, boxes_row = latest.get(("frames", video_id)), latest.get((boxes, video_id))
    if frames_row is None or boxes_row is None:
        missing = "frame embeddings" if frames_row is None else f"{boxes} regions"
        raise _not_cached(ws, dataset, video_id, missing)
    frames = _read_group(ws, frames_row, REGION_LAYOUT.frame_arrays)
    regions = _read_group(ws, boxes_row, REGION_LAYOUT.box_arrays)
    return VideoRegions(
        dataset=dataset,
        video_id=video_id,
        encoder=boxes_row["encoder"],
        frame_idx=frames["frame_idx"].astype(np.int32),
        frame_embeddings=frames["embeddings"].astype(np.float32),
        region_frame=regions["frame_idx"].astype(np.int32),
        boxes=regions["boxes"].astype(np.float32),
        tubelet_id=regions["tubelet_id"].astype(np.int64),
        scores=regions["scores"].astype(np.float32),
        labels=np.array([_text(label) for label in regions["labels"]], dtype=object),
        embeddings=regions["embeddings"].astype(np.float32),
    )


def read_query_embeddings(ws: Workspace, dataset: str, query_ids: Sequence[str]) -> np.ndarray:
    """(Q, D) float32 L2-normalized sentence embeddings of ``query_ids``, in that order."""
    latest = latest_rows(region_rows(ws, dataset))
    rows = []
    for query_id in query_ids:
        row = latest.get(("sentences", query_id))
        if row is None:
            raise _not_cached(ws, dataset, query_id, "sentence embedding")
        rows.append(row)
    if not rows:
        return np.zeros((0, 0), np.float32)
    out = np.empty((len(rows), rows[0]["dim"]), np.float32)
    by_shard: dict[str, list[int]] = {}
    for position, row in enumerate(rows):
        by_shard.setdefault(row["shard"], []).append(position)
    for shard, positions in by_shard.items():
        with h5py.File(ws.features_dir / shard, "r") as handle:
            starts = np.array([rows[p]["row_start"] for p in positions])
            unique, inverse = np.unique(starts, return_inverse=True)  # h5py: increasing rows
            out[positions] = handle[REGION_LAYOUT.sentence_path][unique.tolist()][inverse]
    return out


def load_text_encoder(ws: Workspace, dataset: str, device: str = "cpu") -> TextEncoder:
    """The encoder ``dataset``'s regions were cached with (its text side is what K and L call
    for phrases, prototypes and word-level features), computing on ``device``."""
    from stvg.stvgdata.encoders.registry import load_encoder  # torch only when an encoder is needed

    fingerprint, weights = dataset_encoder(ws, dataset)
    return load_encoder(fingerprint, weights, device)


def _read_group(ws: Workspace, row: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    with h5py.File(ws.features_dir / row["shard"], "r") as handle:
        group = handle[row["array_path"]]
        return {name: group[name][row["row_start"] : row["row_end"]] for name in names}


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --------------------------------------------------------------------------------------------
# the writer


@dataclass
class RegionShardWriter:
    """Writes one region shard of one dataset and encoder; ``commit`` renames it into place and
    then appends its manifest rows, ``abort`` leaves nothing behind."""

    ws: Workspace
    dataset: str
    encoder: str  # fingerprint
    weights: str
    _rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.relative_path = f"{REGIONS_DIR}/{self.dataset}/{stamp}-{uuid.uuid4().hex[:8]}.h5"
        self.final_path = self.ws.features_dir / self.relative_path
        self.final_path.parent.mkdir(parents=True, exist_ok=True)
        self.temp_path = temp_sibling(self.final_path)
        self._file = h5py.File(self.temp_path, "w")
        self._sentences: list[tuple[str, str, str, np.ndarray]] = []

    @property
    def num_items(self) -> int:
        return len(self._rows) + len(self._sentences)

    def _group(self, kind: str, video_id: str) -> h5py.Group:
        group = self._file.create_group(f"/{kind}/{array_key(video_id)}")
        group.attrs.update(
            encoder=self.encoder, weights=self.weights, dataset=self.dataset, kind=kind
        )
        group.attrs["video_id"] = video_id
        return group

    def _row(
        self,
        kind: str,
        video_id: str,
        query_id: str | None,
        path: str,
        rows: tuple[int, int],
        dim: int,
        digest: str,
    ) -> None:
        self._rows.append(
            dict(
                dataset=self.dataset,
                video_id=video_id,
                query_id=query_id,
                kind=kind,
                encoder=self.encoder,
                weights=self.weights,
                shard=self.relative_path,
                array_path=path,
                row_start=rows[0],
                row_end=rows[1],
                input_digest=digest,
                dim=dim,
            )
        )

    def add_frames(
        self, video_id: str, frame_idx: np.ndarray, embeddings: np.ndarray, digest: str
    ) -> None:
        """Whole-frame embeddings (T, D) of the sampled frames ``frame_idx`` (T,)."""
        group = self._group("frames", video_id)
        group.attrs["doc"] = "Whole sampled frames (resized square) embedded by the encoder."
        group.create_dataset("frame_idx", data=np.asarray(frame_idx, np.int32))
        group.create_dataset("embeddings", data=np.asarray(embeddings, np.float32))
        n, dim = embeddings.shape
        self._row("frames", video_id, None, group.name, (0, n), dim, digest)

    def add_boxes(self, kind: str, video_id: str, regions: BoxRegions, digest: str) -> None:
        """The boxes of one video and kind (tubelets or detections) with their embeddings."""
        group = self._group(kind, video_id)
        group.attrs["doc"] = f"Crops of the {kind} boxes on the sampled frames, embedded."
        group.create_dataset("frame_idx", data=np.asarray(regions.frame_idx, np.int32))
        group.create_dataset("boxes", data=np.asarray(regions.boxes, np.float32))
        group.create_dataset("tubelet_id", data=np.asarray(regions.tubelet_id, np.int64))
        group.create_dataset("scores", data=np.asarray(regions.scores, np.float32))
        labels = [str(label) for label in regions.labels]
        group.create_dataset("labels", data=labels, dtype=h5py.string_dtype())
        group.create_dataset("embeddings", data=np.asarray(regions.embeddings, np.float32))
        n, dim = regions.embeddings.shape
        self._row(kind, video_id, None, group.name, (0, n), dim, digest)

    def add_sentences(
        self,
        query_ids: Sequence[str],
        video_ids: Sequence[str],
        digests: Sequence[str],
        embeddings: np.ndarray,
    ) -> None:
        """Sentence embeddings (Q, D) of ``query_ids``; ``digests`` say what was encoded."""
        for item in zip(query_ids, video_ids, digests, embeddings, strict=True):
            self._sentences.append(item)

    def _write_sentences(self) -> None:
        if not self._sentences:
            return
        embeddings = np.stack([s[3] for s in self._sentences]).astype(np.float32)  # (Q, D)
        dim = embeddings.shape[1]
        data = self._file.create_dataset(REGION_LAYOUT.sentence_path, data=embeddings)
        data.attrs.update(
            encoder=self.encoder,
            weights=self.weights,
            dataset=self.dataset,
            kind="sentences",
            doc="Sentence embedding of each query, row i belongs to query_id[i].",
        )
        ids = [s[0] for s in self._sentences]
        self._file.create_dataset(
            REGION_LAYOUT.sentence_ids_path, data=ids, dtype=h5py.string_dtype()
        )
        for row, (query_id, video_id, digest, _) in enumerate(self._sentences):
            path = REGION_LAYOUT.sentence_path
            self._row("sentences", video_id, query_id, path, (row, row + 1), dim, digest)

    def commit(self) -> int:
        """Make the shard and its rows visible (nothing when empty); returns items committed."""
        self._write_sentences()
        self._file.close()
        if not self._rows:
            self.temp_path.unlink(missing_ok=True)
            return 0
        with open(self.temp_path, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(self.temp_path, self.final_path)
        now = datetime.now(UTC)
        append_rows(
            self.ws, "regions", pa.Table.from_pylist([r | {"created_at": now} for r in self._rows])
        )
        return len(self._rows)

    def abort(self) -> None:
        """Drop everything written so far."""
        self._file.close()
        self.temp_path.unlink(missing_ok=True)
