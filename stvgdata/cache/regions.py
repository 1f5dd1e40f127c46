"""The ``region-set`` kind's writer/reader pair: per-video region and whole-frame embeddings
and per-query sentence embeddings of one vision-language encoder.

Region sets are rows of the one ``features`` manifest (model ``regions``, kind ``region-set``,
the encoder's fingerprint as ``fingerprint``, its weights path as ``weights``, its config in
``config``), one row per (video, part) or query, naming shard, HDF5 group (or sentence dataset)
and rows. Shards live beside the feature shards (``shards/<dataset>/regions/``) and commit,
drop, lock and verify through the same code. The HDF5 layout is ``schemas.arrays.REGION_LAYOUT``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import h5py
import numpy as np

from stvg.schemas.arrays import REGION_LAYOUT, REGION_SET
from stvg.stvgdata.cache.manifest import REGIONS_MODEL, item_of, manifest_rows
from stvg.stvgdata.cache.plan import WorkSplit, new_shard_name
from stvg.stvgdata.cache.shard import ModelIdentity, ShardFile, ShardReader, array_key
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace

BOX_PARTS = REGION_LAYOUT.box_parts
EXTRACT_HINT = "stvg extract-regions --dataset {dataset}"
LEGACY_TABLE = "regions"  # the separate region manifest of older workspaces


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
    """The boxes of one video and part, with their embeddings (what a writer stores)."""

    frame_idx: np.ndarray  # (N,) int32 absolute frame of each box
    boxes: np.ndarray  # (N, 4) float32 pixel xyxy
    tubelet_id: np.ndarray  # (N,) int64, -1 for raw detections
    scores: np.ndarray  # (N,) float32, nan where bridged
    labels: np.ndarray  # (N,) object strings
    embeddings: np.ndarray  # (N, D) float32 L2-normalized


def region_identity(fingerprint: str, weights: str, config: dict[str, Any]) -> ModelIdentity:
    """The manifest identity of an encoder's region set (``weights``: its weights path)."""
    return ModelIdentity(
        REGIONS_MODEL,
        fingerprint,
        f"encoder={fingerprint}; weights={weights}",
        weights,
        json.dumps(config, sort_keys=True),
        REGION_SET,
    )


# --------------------------------------------------------------------------------------------
# the manifest


def refuse_old_layout(ws: Workspace, dataset: str) -> None:
    """One line when the workspace keeps regions in the layout of an older stvg (a separate
    ``regions`` table): they are not read, and re-extracting moves the dataset to the store."""
    old = ws.table_dir(LEGACY_TABLE)
    if old.is_dir() and any(old.glob("part-*.parquet")):
        raise BadInputError(
            old,
            dataset,
            "region embeddings cached in the layout of an older stvg; re-extract them with "
            f"`{EXTRACT_HINT.format(dataset=dataset)}` and `replace_region_cache`",
        )


def remove_old_layout(ws: Workspace) -> None:
    """Delete the regions an older stvg kept outside the store (their manifest and shards):
    unreadable now, they are replaced by a re-extraction."""
    old = ws.table_dir(LEGACY_TABLE)
    for path in old.glob("part-*.parquet") if old.is_dir() else ():
        path.unlink()
    old_shards = ws.features_dir / LEGACY_TABLE
    if old_shards.is_dir():
        shutil.rmtree(old_shards)


def region_rows(ws: Workspace, dataset: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(part, video_id or query_id) -> manifest row of ``dataset``'s region set."""
    refuse_old_layout(ws, dataset)
    rows = manifest_rows(ws, dataset, REGIONS_MODEL).to_pylist()
    return {(REGION_LAYOUT.part_of(row["array_path"]), item_of(row)): row for row in rows}


def dataset_encoder(ws: Workspace, dataset: str) -> tuple[str, str]:
    """(fingerprint, weights path) of the one encoder ``dataset``'s regions were cached with
    (the store's fingerprint check keeps it one)."""
    refuse_old_layout(ws, dataset)
    rows = manifest_rows(ws, dataset, REGIONS_MODEL)
    encoders = sorted(
        set(zip(rows["fingerprint"].to_pylist(), rows["weights"].to_pylist(), strict=True))
    )
    if not encoders:
        raise BadInputError(
            ws.features_dir,
            dataset,
            f"no region embeddings cached; run `{EXTRACT_HINT.format(dataset=dataset)}`",
        )
    return encoders[-1]


# --------------------------------------------------------------------------------------------
# the reader


class RegionReader(ShardReader):
    """Reads region-set rows: a video's part groups and queries' sentence rows."""

    def read_group(self, row: dict[str, Any], names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """The arrays ``names`` of one video part's row."""
        try:
            group = self.file(row["shard"])[row["array_path"]]
            return {name: group[name][row["row_start"] : row["row_end"]] for name in names}
        except (OSError, KeyError) as exc:
            raise _unreadable(self, row, exc) from None

    def read_sentences(self, rows: list[dict[str, Any]]) -> np.ndarray:
        """(Q, D) float32 sentence embeddings of ``rows`` (same dim), in that order."""
        out = np.empty((len(rows), rows[0]["shape"][0]), np.float32)
        by_shard: dict[str, list[int]] = {}
        for position, row in enumerate(rows):
            by_shard.setdefault(row["shard"], []).append(position)
        for shard, positions in by_shard.items():
            starts = np.array([rows[p]["row_start"] for p in positions])
            unique, inverse = np.unique(starts, return_inverse=True)  # h5py: increasing rows
            try:
                data = self.file(shard)[REGION_LAYOUT.sentence_path]
                out[positions] = data[unique.tolist()][inverse]
            except (OSError, KeyError) as exc:
                raise _unreadable(self, rows[positions[0]], exc) from None
        return out


def _unreadable(reader: ShardReader, row: dict[str, Any], exc: BaseException) -> BadInputError:
    cause = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return BadInputError(
        reader.features_dir / row["shard"],
        f"regions {item_of(row)}",
        f"cannot read its region embeddings ({cause}); run `stvg verify --dataset "
        f"{row['dataset']}`, then `{EXTRACT_HINT.format(dataset=row['dataset'])}`",
    )


def _not_cached(ws: Workspace, dataset: str, item: str, what: str) -> BadInputError:
    return BadInputError(
        ws.features_dir,
        f"{dataset}/{item}",
        f"no cached {what}; run `{EXTRACT_HINT.format(dataset=dataset)}`",
    )


def read_video_regions(
    ws: Workspace, dataset: str, video_id: str, boxes: str = "tubelets"
) -> VideoRegions:
    """Region (``boxes``: tubelets or detections) and whole-frame embeddings of one video."""
    if boxes not in BOX_PARTS:
        raise BadInputError.for_field("boxes", boxes, f"must be one of {', '.join(BOX_PARTS)}")
    latest = region_rows(ws, dataset)
    frames_row, boxes_row = latest.get(("frames", video_id)), latest.get((boxes, video_id))
    if frames_row is None or boxes_row is None:
        missing = "frame embeddings" if frames_row is None else f"{boxes} regions"
        raise _not_cached(ws, dataset, video_id, missing)
    reader = RegionReader(ws.features_dir)
    try:
        frames = reader.read_group(frames_row, REGION_LAYOUT.frame_arrays)
        regions = reader.read_group(boxes_row, REGION_LAYOUT.box_arrays)
    finally:
        reader.close()
    return VideoRegions(
        dataset=dataset,
        video_id=video_id,
        encoder=boxes_row["fingerprint"],
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
    latest = region_rows(ws, dataset)
    rows = []
    for query_id in query_ids:
        row = latest.get((REGION_LAYOUT.sentence_part, query_id))
        if row is None:
            raise _not_cached(ws, dataset, query_id, "sentence embedding")
        rows.append(row)
    if not rows:
        return np.zeros((0, 0), np.float32)
    reader = RegionReader(ws.features_dir)
    try:
        return reader.read_sentences(rows)
    finally:
        reader.close()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --------------------------------------------------------------------------------------------
# the writer


class RegionWriter(ShardFile):
    """Writes one region-set shard of one dataset and encoder; commits like every shard."""

    def __init__(
        self, ws: Workspace, relative_path: str, dataset: str, identity: ModelIdentity
    ) -> None:
        super().__init__(ws, relative_path, dataset)
        self.identity = identity
        self._sentences: list[tuple[str, str, str, np.ndarray]] = []

    @property
    def num_items(self) -> int:
        return len(self._rows) + len(self._sentences)

    def _attributes(self, part: str, doc: str) -> dict[str, str]:
        return {
            "encoder": self.identity.fingerprint,
            "weights": self.identity.weights,
            "dataset": self.dataset,
            "kind": part,
            "doc": doc,
        }

    def _create(self, where: h5py.Group, name: str, data: Any, dtype: Any = None) -> None:
        """One array; numbers carry fletcher32 like every array of the store (``verify
        --deep``), strings and empty arrays cannot."""
        checksum = dtype is None and len(data) > 0
        where.create_dataset(name, data=data, dtype=dtype, fletcher32=checksum)

    def _group(self, part: str, video_id: str, doc: str) -> h5py.Group:
        group = self._file.create_group(f"/{part}/{array_key(video_id)}")
        group.attrs.update(self._attributes(part, doc), video_id=video_id)
        return group

    def _row(
        self,
        video_id: str,
        query_id: str | None,
        path: str,
        rows: tuple[int, int],
        dim: int,
        digest: str,
    ) -> None:
        self._rows.append(
            self._manifest_row(
                self.identity,
                video_id=video_id,
                query_id=query_id,
                array_path=path,
                row_start=rows[0],
                row_end=rows[1],
                fps=None,
                frame_idx=[],
                shape=[dim],
                dtype="float32",
                input_digest=digest,
            )
        )

    def add_frames(
        self, video_id: str, frame_idx: np.ndarray, embeddings: np.ndarray, digest: str
    ) -> None:
        """Whole-frame embeddings (T, D) of the sampled frames ``frame_idx`` (T,)."""
        doc = "Whole sampled frames (resized square) embedded by the encoder."
        group = self._group("frames", video_id, doc)
        self._create(group, "frame_idx", np.asarray(frame_idx, np.int32))
        self._create(group, "embeddings", np.asarray(embeddings, np.float32))
        n, dim = embeddings.shape
        self._row(video_id, None, group.name, (0, n), dim, digest)

    def add_boxes(self, part: str, video_id: str, regions: BoxRegions, digest: str) -> None:
        """The boxes of one video and part (tubelets or detections) with their embeddings."""
        group = self._group(part, video_id, f"Crops of the {part} boxes on the sampled frames.")
        self._create(group, "frame_idx", np.asarray(regions.frame_idx, np.int32))
        self._create(group, "boxes", np.asarray(regions.boxes, np.float32))
        self._create(group, "tubelet_id", np.asarray(regions.tubelet_id, np.int64))
        self._create(group, "scores", np.asarray(regions.scores, np.float32))
        labels = [str(label) for label in regions.labels]
        self._create(group, "labels", labels, h5py.string_dtype())
        self._create(group, "embeddings", np.asarray(regions.embeddings, np.float32))
        n, dim = regions.embeddings.shape
        self._row(video_id, None, group.name, (0, n), dim, digest)

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

    def _flush(self) -> None:
        if not self._sentences:
            return
        embeddings = np.stack([s[3] for s in self._sentences]).astype(np.float32)  # (Q, D)
        self._create(self._file, REGION_LAYOUT.sentence_path, embeddings)
        doc = "Sentence embedding of each query, row i belongs to query_id[i]."
        self._file[REGION_LAYOUT.sentence_path].attrs.update(self._attributes("sentences", doc))
        ids = [s[0] for s in self._sentences]
        self._create(self._file, REGION_LAYOUT.sentence_ids_path, ids, h5py.string_dtype())
        path, dim = REGION_LAYOUT.sentence_path, embeddings.shape[1]
        for row, (query_id, video_id, digest, _) in enumerate(self._sentences):
            self._row(video_id, query_id, path, (row, row + 1), dim, digest)
        self._sentences = []


def new_region_writer(
    ws: Workspace, dataset: str, identity: ModelIdentity, split: WorkSplit | None = None
) -> RegionWriter:
    """A writer of a fresh region-set shard of ``dataset`` in ``split``'s shard prefix."""
    name = new_shard_name(dataset, REGIONS_MODEL, split or WorkSplit())
    return RegionWriter(ws, name, dataset, identity)
