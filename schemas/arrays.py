"""Layouts of the arrays in the feature cache's HDF5 shards.

A shard is one HDF5 file written by one process. Inside it:
- frame-timeline models (``resnet101``, ``slowfast``, ``vl-synth-map``, ``vl-synth-motion-map``;
  ``vit`` with (T, N, C)) store one dataset per video at ``/<model>/<video_id>`` with shape
  (T, H, W, C): row t is the feature map of the t-th sampled frame, whose absolute source frame
  index is the manifest's ``frame_idx[t]``;
- token models (``roberta``, ``vl-synth-text``) store all queries of the shard concatenated
  along the token axis: ``/<model>/features`` (N_tokens, C) and ``/<model>/token_ids``
  (N_tokens,), a query owning rows ``[row_start, row_end)`` of both.
Every dataset carries the attributes named in ``ArrayLayout.attributes``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArrayLayout:
    """How one model's features are laid out in a shard."""

    model: str
    timeline: str  # "frame": one row per sampled frame; "token": one row per text token
    axes: tuple[str, ...]  # axis names of one item's array, first axis = rows
    default_channels: int  # C of the full-size model (tiny test configs use fewer)
    doc: str
    # attributes every HDF5 dataset of this model carries (h5ls -v shows them)
    attributes: tuple[str, ...] = ("model", "fingerprint", "axes", "dataset")

    def array_path(self, key: str) -> str:
        """HDF5 path of the array holding ``key`` (a video id; ignored for token models)."""
        if self.timeline == "token":
            return f"/{self.model}/features"
        return f"/{self.model}/{key}"


FRAME_ATTRIBUTES = ("model", "fingerprint", "axes", "dataset", "video_id", "fps", "frame_idx")
TOKEN_ATTRIBUTES = ("model", "fingerprint", "axes", "dataset")

ARRAY_LAYOUTS: dict[str, ArrayLayout] = {
    "resnet101": ArrayLayout(
        model="resnet101",
        timeline="frame",
        axes=("T", "H", "W", "C"),
        default_channels=2048,
        doc="ResNet-101 pre-pool map (stride 32) of each sampled frame.",
        attributes=FRAME_ATTRIBUTES,
    ),
    "slowfast": ArrayLayout(
        model="slowfast",
        timeline="frame",
        axes=("T", "H", "W", "C"),
        default_channels=2304,
        doc=(
            "SlowFast trunk maps on the same frame timeline as resnet101: fast-pathway channels "
            "(256) concatenated after the slow pathway's (2048, repeated over its alpha frames)."
        ),
        attributes=FRAME_ATTRIBUTES,
    ),
    "vit": ArrayLayout(
        model="vit",
        timeline="frame",
        axes=("T", "N", "C"),
        default_channels=768,
        doc=(
            "CLIP-style ViT tokens of each sampled frame after layer k (CLS first, then the "
            "patches row-major): the input of the frozen top layers a prompt head runs."
        ),
        attributes=FRAME_ATTRIBUTES,
    ),
    "roberta": ArrayLayout(
        model="roberta",
        timeline="token",
        axes=("L", "C"),
        default_channels=768,
        doc="RoBERTa-base last hidden state of each token of a query (with <s> and </s>).",
        attributes=TOKEN_ATTRIBUTES,
    ),
    "vl-synth-map": ArrayLayout(
        model="vl-synth-map",
        timeline="frame",
        axes=("T", "H", "W", "C"),
        default_channels=128,
        doc=(
            "stvg-vl-synth image tower run densely over each sampled frame, cells projected "
            "into the joint image-text space, stride 32 (the offline stand-in for MDETR's "
            "text-aligned backbone)."
        ),
        attributes=FRAME_ATTRIBUTES,
    ),
    "vl-synth-motion-map": ArrayLayout(
        model="vl-synth-motion-map",
        timeline="frame",
        axes=("T", "H", "W", "C"),
        default_channels=128,
        doc=(
            "motion-aware stvg-vl-synth image tower (trained with context_frames c > 1) run "
            "densely over each sampled frame stacked with its neighbours, stride 32 (the "
            "offline stand-in for SlowFast's clip maps)."
        ),
        attributes=FRAME_ATTRIBUTES,
    ),
    "vl-synth-text": ArrayLayout(
        model="vl-synth-text",
        timeline="token",
        axes=("L", "C"),
        default_channels=128,
        doc="stvg-vl-synth text tower: each word token of a query in the joint space.",
        attributes=TOKEN_ATTRIBUTES,
    ),
}

TOKEN_IDS_PATH = "/{model}/token_ids"


@dataclass(frozen=True)
class RegionLayout:
    """How the region cache lays out one shard (``stvgdata.regions.store`` reads and writes it).

    Video items live in one group per (kind, video): ``/<kind>/<video key>`` holding
    ``frame_idx`` (N,) int32 absolute frames and ``embeddings`` (N, D) float32 L2-normalized;
    box kinds (tubelets, detections) add ``boxes`` (N, 4) float32 pixel xyxy, ``tubelet_id``
    (N,) int64 (-1 for raw detections), ``scores`` (N,) float32 (nan where the tracker bridged
    a miss) and ``labels`` (N,) strings. Sentences of all queries of the shard are rows of
    ``/sentences/embeddings`` (Q, D) with ``/sentences/query_id`` (Q,) beside them.
    """

    video_kinds: tuple[str, ...] = ("frames", "tubelets", "detections")
    box_kinds: tuple[str, ...] = ("tubelets", "detections")
    frame_arrays: tuple[str, ...] = ("frame_idx", "embeddings")
    box_arrays: tuple[str, ...] = (
        "frame_idx",
        "boxes",
        "tubelet_id",
        "scores",
        "labels",
        "embeddings",
    )
    sentence_path: str = "/sentences/embeddings"
    sentence_ids_path: str = "/sentences/query_id"
    # attributes of every group and of the sentence dataset (h5ls -v shows them)
    attributes: tuple[str, ...] = ("encoder", "weights", "dataset", "kind", "doc")


REGION_LAYOUT = RegionLayout()
