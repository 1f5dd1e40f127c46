"""A torch Dataset over the feature cache: one item per query, batched by ``collate_queries``
into the layout of ``schemas.batch``.

Catalog metadata (queries, boxes) is read once when the dataset is built and the feature rows
are resolved and checked through ``stvgdata.query_features`` (the one per-query cache reader
every method shares); items then only read HDF5 rows, through its per-process row cache, so
``num_workers > 0`` is safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from stvg.schemas.arrays import FRAME_MAP, TEXT_TOKENS
from stvg.schemas.batch import MAP_FIELDS, FeatureSet, QueryItem
from stvg.stvgdata.catalog import query as catalog_query
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors import models_of
from stvg.stvgdata.geometry import xyxy_to_cxcywh_norm
from stvg.stvgdata.query_features import (
    DEFAULT_CACHE_BYTES,
    STALE_CHECK_COLUMNS,
    FeatureRows,
    query_rows,
)
from stvg.stvgdata.workspace import Workspace

PAD_TOKEN_ID = 1  # RoBERTa's <pad> (also the byte-fallback tokenizer's); heads read text_mask
DEFAULT_MAX_FRAMES = 200  # TubeDETR's cap on sampled frames per clip


@dataclass(frozen=True)
class QueryRecord:
    """Everything an item needs besides feature rows; small and picklable."""

    query_id: str
    video_id: str
    sentence_type: str
    image_size: tuple[float, float]  # (width, height) in pixels
    tube: tuple[int, int]  # absolute [start, end)
    positions: np.ndarray  # (T,) rows of the video's frame timeline used for this query
    frame_idx: np.ndarray  # (T,) absolute frame index of each used row
    fps: float
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # model -> manifest row
    box_frames: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (K,)
    boxes_xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # (K, 4) pixels


def clip_positions(frame_idx: np.ndarray, segment: tuple[int, int], max_frames: int) -> np.ndarray:
    """Rows of the sampled timeline inside the half-open ``segment``, uniformly subsampled to
    at most ``max_frames`` (first and last kept)."""
    inside = np.flatnonzero((frame_idx >= segment[0]) & (frame_idx < segment[1]))
    if len(inside) <= max_frames:
        return inside
    return inside[np.unique(np.linspace(0, len(inside) - 1, max_frames).round().astype(np.int64))]


QUERY_COLUMNS = (
    "q.query_id", "q.video_id", "q.sentence_type", "q.tube_start_frame", "q.tube_end_frame",
    "q.segment_start_frame", "q.segment_end_frame", "v.width", "v.height", *STALE_CHECK_COLUMNS,
)  # fmt: skip
_BOXES_SQL = """
SELECT b.query_id, b.frame_idx, b.x1, b.y1, b.x2, b.y2
FROM boxes b JOIN queries q ON b.dataset = q.dataset AND b.query_id = q.query_id
WHERE q.dataset = ? AND q.split = ? ORDER BY b.query_id, b.frame_idx
"""


def map_models() -> tuple[str, ...]:
    """Models whose cached rows are (T, h, w, C) maps, usable as frame or clip features."""
    return models_of(FRAME_MAP)


def token_models() -> tuple[str, ...]:
    """Models whose cached rows are per-token query features, usable as text features."""
    return models_of(TEXT_TOKENS)


def check_feature_set(features: FeatureSet) -> None:
    """BadInputError naming the first field whose model cannot fill it."""
    for field_name, model, allowed in (
        ("frame", features.frame, map_models()),
        ("clip", features.clip, map_models()),
        ("text", features.text, token_models()),
    ):
        if model is not None and model not in allowed:
            raise BadInputError(
                "feature set", f"{field_name}={model}", f"not usable here; choose from {allowed}"
            )


class CachedQueryDataset(Dataset):
    """Queries of ``dataset``/``split`` whose features are all cached for ``features``.

    Per query: the sampled frames of its clip (VidSTG: its segment; HC-STVG: the whole video)
    uniformly subsampled to at most ``max_frames``, the frame models' rows on those frames, the
    text model's tokens, and GT boxes normalized (cx, cy, w, h) on frames inside the tube.
    Queries lacking some model's features are left out and counted in ``missing``; features
    whose input changed since extraction (``stvgdata.cache.digest``) are refused.
    ``cache_bytes`` bounds each process's in-memory row cache (see the module doc).
    """

    def __init__(
        self,
        ws: Workspace,
        dataset: str,
        split: str,
        max_frames: int = DEFAULT_MAX_FRAMES,
        features: FeatureSet = FeatureSet(),
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        check_feature_set(features)
        self.features = features
        self.models = features.models()
        queries = query_rows(ws, dataset, split, QUERY_COLUMNS)
        self.feature_rows = FeatureRows(ws, dataset, self.models, queries, cache_bytes)
        self.features_dir = ws.features_dir
        boxes = self._boxes_by_query(catalog_query(ws, _BOXES_SQL, [dataset, split]).to_pylist())
        self.records: list[QueryRecord] = []
        self.missing = 0
        for query in queries:
            record = self._record(query, boxes, max_frames)
            if record is None:
                self.missing += 1
            else:
                self.records.append(record)

    @staticmethod
    def _boxes_by_query(rows: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        grouped: dict[str, list[dict]] = {}
        for row in rows:
            grouped.setdefault(row["query_id"], []).append(row)
        return {
            query_id: (
                np.array([r["frame_idx"] for r in items], np.int64),
                np.array([[r["x1"], r["y1"], r["x2"], r["y2"]] for r in items], np.float64),
            )
            for query_id, items in grouped.items()
        }

    def _record(self, query: dict, boxes: dict, max_frames: int) -> QueryRecord | None:
        """The query's record, or None when a model's features or the clip's frames lack."""
        rows = self.feature_rows.for_query(query)
        if rows is None:
            return None
        frame_rows = [rows[m] for m in self.features.map_fields().values()]
        timeline = np.asarray(frame_rows[0]["frame_idx"] if frame_rows else [], np.int64)
        for row in frame_rows[1:]:
            if not np.array_equal(row["frame_idx"], timeline):
                raise BadInputError(
                    self.features_dir / row["shard"],
                    query["video_id"],
                    f"{row['model']} and {frame_rows[0]['model']} sampled different frames; "
                    "extract both at the same fps",
                )
            grids = [tuple(r["shape"][:2]) for r in (frame_rows[0], row)]
            if grids[0] != grids[1]:
                raise BadInputError(
                    "feature cache",
                    query["video_id"],
                    f"frame features {self.features.frame} are on a {grids[0]} grid but clip "
                    f"features {self.features.clip} on {grids[1]}; extract both with one "
                    "`input_size`",
                )
        segment = (query["segment_start_frame"], query["segment_end_frame"])
        positions = clip_positions(timeline, segment, max_frames)
        if frame_rows and len(positions) == 0:
            return None
        box_frames, boxes_xyxy = boxes.get(query["query_id"], (np.zeros(0, np.int64), None))
        return QueryRecord(
            query_id=query["query_id"],
            video_id=query["video_id"],
            sentence_type=query["sentence_type"],
            image_size=(float(query["width"]), float(query["height"])),
            tube=(query["tube_start_frame"], query["tube_end_frame"]),
            positions=positions,
            frame_idx=timeline[positions],
            fps=float(frame_rows[0]["fps"]) if frame_rows else 0.0,
            rows=rows,
            box_frames=box_frames,
            boxes_xyxy=boxes_xyxy if boxes_xyxy is not None else np.zeros((0, 4)),
        )

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> QueryItem:
        record = self.records[index]
        width, height = record.image_size
        item: QueryItem = {
            "query_id": record.query_id,
            "video_id": record.video_id,
            "sentence_type": record.sentence_type,
            "frame_idx": record.frame_idx,
            "image_size": np.array([width, height], np.float32),
            "fps": record.fps,
        }
        for key, model in self.features.map_fields().items():
            item[key] = self.feature_rows.read(record.rows[model], record.positions)
        if self.features.text is not None:
            item["text_feats"] = self.feature_rows.read(record.rows[self.features.text])
            item["token_ids"] = self.feature_rows.token_ids(record.rows[self.features.text])
        item.update(self._targets(record))
        return item

    @staticmethod
    def _targets(record: QueryRecord) -> dict[str, np.ndarray]:
        """GT boxes (T, 4) normalized cxcywh, box_mask (T,), tube [start, end) on the frame axis."""
        frame_idx = record.frame_idx
        start, end = record.tube
        known = np.zeros(len(frame_idx), bool)
        slot = np.zeros(len(frame_idx), np.int64)
        if len(record.box_frames):
            slot = np.minimum(
                np.searchsorted(record.box_frames, frame_idx), len(record.box_frames) - 1
            )
            known = record.box_frames[slot] == frame_idx
        has_box = known & (frame_idx >= start) & (frame_idx < end)
        boxes = np.zeros((len(frame_idx), 4), np.float32)
        if has_box.any():
            xyxy = record.boxes_xyxy[slot[has_box]]
            boxes[has_box] = xyxy_to_cxcywh_norm(xyxy, *record.image_size)
        tube = np.searchsorted(frame_idx, [start, end]).astype(np.int64)
        return {"boxes": boxes, "box_mask": has_box, "tube": tube}


def _pad(arrays: list[np.ndarray], length: int, fill: float = 0) -> np.ndarray:
    """Stack arrays of shape (n_i, ...) into (B, length, ...), padding with ``fill``."""
    out = np.full((len(arrays), length, *arrays[0].shape[1:]), fill, dtype=arrays[0].dtype)
    for i, array in enumerate(arrays):
        out[i, : len(array)] = array
    return out


def _mask(lengths: list[int], length: int) -> torch.Tensor:
    return torch.arange(length)[None, :] < torch.tensor(lengths)[:, None]


def collate_queries(items: list[QueryItem]) -> dict[str, Any]:
    """Pad items to the longest clip and sentence; masks mark what is real (schemas.batch)."""
    frames = max(len(item["frame_idx"]) for item in items)
    batch: dict[str, Any] = {
        "frame_mask": _mask([len(item["frame_idx"]) for item in items], frames),
        "boxes": torch.from_numpy(_pad([item["boxes"] for item in items], frames)),
        "box_mask": torch.from_numpy(_pad([item["box_mask"] for item in items], frames, False)),
        "tube": torch.from_numpy(np.stack([item["tube"] for item in items])),
        "frame_idx": torch.from_numpy(_pad([item["frame_idx"] for item in items], frames, -1)),
        "image_size": torch.from_numpy(np.stack([item["image_size"] for item in items])),
        "fps": torch.tensor([item["fps"] for item in items], dtype=torch.float32),
    }
    for key in MAP_FIELDS:
        if key in items[0]:
            padded = _pad([item[key] for item in items], frames)
            batch[key] = torch.from_numpy(padded).float()  # (B, T, h, w, C)
    if "text_feats" in items[0]:
        tokens = max(len(item["token_ids"]) for item in items)
        batch["text_feats"] = torch.from_numpy(
            _pad([i["text_feats"] for i in items], tokens)
        ).float()
        batch["text_mask"] = _mask([len(item["token_ids"]) for item in items], tokens)
        ids = _pad([item["token_ids"].astype(np.int64) for item in items], tokens, PAD_TOKEN_ID)
        batch["token_ids"] = torch.from_numpy(ids)
    for key in ("query_id", "video_id", "sentence_type"):
        batch[key] = [item[key] for item in items]
    return batch
