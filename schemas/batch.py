"""Layout of a training/evaluation batch produced by the cache loader and consumed by heads.

B queries, T sampled frames (padded to the longest clip in the batch), H x W feature grid,
L text tokens (padded). Boxes are normalized (cx, cy, w, h) in [0, 1] relative to the video
frame size; temporal indices refer to positions on the batch's frame axis (0..T-1).
Which cached model fills each feature field is a ``FeatureSet`` (defaults: the paper's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    import numpy as np

BATCH_FIELDS: dict[str, tuple[str, str, str]] = {
    # name: (shape, dtype, meaning)
    "frame_feats": ("B,T,H,W,Cr", "float32", "Frame maps of each sampled frame (FeatureSet.frame)"),
    "clip_feats": (
        "B,T,H,W,Cs",
        "float32",
        "Clip maps on the same frames and grid (FeatureSet.clip)",
    ),
    "frame_mask": ("B,T", "bool", "True for real (not padded) frames"),
    "text_feats": ("B,L,Ct", "float32", "Token features of the query (FeatureSet.text)"),
    "text_mask": ("B,L", "bool", "True for real tokens"),
    "token_ids": ("B,L", "int64", "Token ids (pad id where text_mask is False)"),
    "boxes": ("B,T,4", "float32", "GT box (cx, cy, w, h) normalized, zeros where no GT"),
    "box_mask": ("B,T", "bool", "True where the frame has a GT box (inside the tube)"),
    "tube": ("B,2", "int64", "GT tube on the frame axis: [start, end) indices"),
    "frame_idx": ("B,T", "int64", "Absolute source frame index of each frame, -1 for padding"),
    "image_size": ("B,2", "float32", "Source frame (width, height) in pixels"),
    "fps": ("B", "float32", "Sampling rate of the frame timeline"),
    "query_id": ("B", "str", "Query ids (list of str)"),
    "video_id": ("B", "str", "Video ids (list of str)"),
    "sentence_type": ("B", "str", "declarative or interrogative (list of str)"),
}

MAP_FIELDS = ("frame_feats", "clip_feats")  # the (B, T, H, W, C) fields, on one grid


class QueryItem(TypedDict, total=False):
    """One query as the cache reader yields it, before collation: the fields of
    ``BATCH_FIELDS`` without B and unpadded (T this clip's frames, L its tokens); the feature
    fields only for the models its ``FeatureSet`` names, masks only after collation."""

    query_id: str
    video_id: str
    sentence_type: str
    frame_idx: np.ndarray  # (T,) int64 absolute frame index
    image_size: np.ndarray  # (2,) float32 (width, height) in pixels
    fps: float
    frame_feats: np.ndarray  # (T, H, W, Cr)
    clip_feats: np.ndarray  # (T, H, W, Cs)
    text_feats: np.ndarray  # (L, Ct)
    token_ids: np.ndarray  # (L,)
    boxes: np.ndarray  # (T, 4) float32 normalized (cx, cy, w, h), zeros where no GT
    box_mask: np.ndarray  # (T,) bool
    tube: np.ndarray  # (2,) int64 [start, end) on the frame axis


@dataclass(frozen=True)
class FeatureSet:
    """Which cached feature model fills each feature field of the batch; None leaves it out.

    The defaults are the paper's inputs. ``frame`` and ``clip`` must be (T, h, w, C) map models
    on one grid (resnet101, slowfast, vl-synth-map), ``text`` a token model (roberta,
    vl-synth-text); e.g. ``frame="vl-synth-map", text="vl-synth-text"`` feeds CSDVL's static
    stream text-aligned features, the offline stand-in for its MDETR initialization. Stored in
    a run's configuration so evaluation and resume read the features it was trained on.
    """

    frame: str | None = "resnet101"  # -> frame_feats
    clip: str | None = "slowfast"  # -> clip_feats
    text: str | None = "roberta"  # -> text_feats, text_mask, token_ids

    def map_fields(self) -> dict[str, str]:
        """Batch key -> model of the frame-timeline fields that are in use."""
        chosen = zip(MAP_FIELDS, (self.frame, self.clip), strict=True)
        return {key: model for key, model in chosen if model is not None}

    def models(self) -> tuple[str, ...]:
        """Every model read, each once (frame, clip, text order)."""
        named = (self.frame, self.clip, self.text)
        return tuple(dict.fromkeys(m for m in named if m is not None))
