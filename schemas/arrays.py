"""Layout kinds of the feature store's HDF5 shards.

A shard is one HDF5 file written by one process; every manifest row names the layout *kind* of
the array it points at, and the store reads and writes each kind through the writer/reader pair
registered for it. Kinds know axes and paths, never concrete models: which model writes which
kind is the extractor registry's business (``stvgdata.extractors``).

- ``frame-map`` (T, H, W, C) and ``frame-tokens`` (T, N, C): one dataset per video at
  ``/<model>/<video key>``; row t is the t-th sampled frame, whose absolute source frame index
  is the manifest's ``frame_idx[t]``.
- ``text-tokens`` (L, C): all queries of the shard concatenated along the token axis,
  ``/<model>/features`` (N_tokens, C) and ``/<model>/token_ids`` (N_tokens,); a query owns rows
  ``[row_start, row_end)`` of both.
- ``region-set``: per video one group per part (``REGION_LAYOUT``), and the sentences of all
  queries of the shard as rows of one dataset.
Every dataset carries the attributes named in its kind's ``attributes``.
"""

from __future__ import annotations

from dataclasses import dataclass

FRAME_MAP = "frame-map"
FRAME_TOKENS = "frame-tokens"
TEXT_TOKENS = "text-tokens"
REGION_SET = "region-set"

FRAME_ATTRIBUTES = ("model", "fingerprint", "axes", "dataset", "video_id", "fps", "frame_idx")
TOKEN_ATTRIBUTES = ("model", "fingerprint", "axes", "dataset")
REGION_ATTRIBUTES = ("encoder", "weights", "dataset", "kind", "doc")


@dataclass(frozen=True)
class LayoutKind:
    """How one kind of array is laid out in a shard."""

    name: str
    timeline: str  # "frame": a row per sampled frame; "token": a row per text token; "region"
    axes: tuple[str, ...]  # axis names of one item's array, first axis = rows
    doc: str
    # attributes every HDF5 dataset of this kind carries (h5ls -v shows them)
    attributes: tuple[str, ...] = TOKEN_ATTRIBUTES

    def array_path(self, group: str, key: str) -> str:
        """HDF5 path of the array holding ``key`` (a video key; ignored for text tokens) in the
        group ``group`` (the model, or a region part)."""
        if self.timeline == "token":
            return f"/{group}/features"
        return f"/{group}/{key}"


KINDS: dict[str, LayoutKind] = {
    kind.name: kind
    for kind in (
        LayoutKind(
            FRAME_MAP,
            "frame",
            ("T", "H", "W", "C"),
            "A feature map of each sampled frame (rows = sampled frames).",
            FRAME_ATTRIBUTES,
        ),
        LayoutKind(
            FRAME_TOKENS,
            "frame",
            ("T", "N", "C"),
            "Tokens of each sampled frame (rows = sampled frames).",
            FRAME_ATTRIBUTES,
        ),
        LayoutKind(
            TEXT_TOKENS,
            "token",
            ("L", "C"),
            "Per-token features of a query (rows = tokens).",
            TOKEN_ATTRIBUTES,
        ),
        LayoutKind(
            REGION_SET,
            "region",
            ("N", "D"),
            "Region, whole-frame and sentence embeddings of one encoder.",
            REGION_ATTRIBUTES,
        ),
    )
}

TOKEN_IDS_PATH = "/{model}/token_ids"


@dataclass(frozen=True)
class RegionLayout:
    """How the ``region-set`` kind lays out one shard.

    Video items live in one group per (part, video): ``/<part>/<video key>`` holding
    ``frame_idx`` (N,) int32 absolute frames and ``embeddings`` (N, D) float32 L2-normalized;
    box parts (tubelets, detections) add ``boxes`` (N, 4) float32 pixel xyxy, ``tubelet_id``
    (N,) int64 (-1 for raw detections), ``scores`` (N,) float32 (nan where the tracker bridged
    a miss) and ``labels`` (N,) strings. Sentences of all queries of the shard are rows of
    ``/sentences/embeddings`` (Q, D) with ``/sentences/query_id`` (Q,) beside them.
    """

    video_parts: tuple[str, ...] = ("frames", "tubelets", "detections")
    box_parts: tuple[str, ...] = ("tubelets", "detections")
    frame_arrays: tuple[str, ...] = ("frame_idx", "embeddings")
    box_arrays: tuple[str, ...] = (
        "frame_idx",
        "boxes",
        "tubelet_id",
        "scores",
        "labels",
        "embeddings",
    )
    sentence_part: str = "sentences"
    sentence_path: str = "/sentences/embeddings"
    sentence_ids_path: str = "/sentences/query_id"

    def part_of(self, array_path: str) -> str:
        """The part (frames, tubelets, detections, sentences) an array path belongs to."""
        return array_path.strip("/").split("/", 1)[0]


REGION_LAYOUT = RegionLayout()
