"""CoSPaL's weak inputs: tubelets with per-frame features, and query words - never a GT box,
a tube boundary or a target id.

A video becomes a ``VideoTubelets``: for each tracker tubelet, per sampled frame, its region
embedding (the vision-language encoder's, from the region cache), its box, box-trajectory
descriptors and optionally the cached SlowFast map mean-pooled inside the box (SlowFast stands
in for the paper's I3D). A query becomes a ``WeakQuery``: token embeddings of the sentence and
of its contextual part from the same encoder's text side, and the query's clip (segment) - the
input video span, not the tube. ``collate_weak`` builds batches whose fields are exactly
``WEAK_FIELDS``. Catalog rows, region sets and SlowFast rows come through
``stvgdata.query_features``; this module only arranges them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torchvision.ops import roi_align

from stvg.heads.cospal.phrases import split_sentence
from stvg.stvgdata.encoders.registry import load_text_encoder
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.query_features import FeatureRows, query_rows, video_regions
from stvg.stvgdata.regions import VideoRegions
from stvg.stvgdata.regions.base import TextEncoder
from stvg.stvgdata.workspace import Workspace

TRAIN_SPLIT = "train"
MOTION_DIM = 7  # cx, cy, w, h (image units), vx, vy (image units per frame), speed
VELOCITY_SCALE = 10.0  # per-frame displacements are ~0.01 image units; bring them near 0.1
# The only catalog columns weak training reads (tube, boxes and target ids are never selected;
# the video's path only tells whether its cached features are stale).
WEAK_QUERY_COLUMNS = (
    "q.query_id", "q.video_id", "q.sentence", "q.segment_start_frame", "q.segment_end_frame",
    "v.width", "v.height", "v.path",
)  # fmt: skip
SLOWFAST_MODEL = "slowfast"
WEAK_FIELDS = frozenset(
    {"query_ids", "video_index", "words", "word_mask", "context", "context_mask", "appearance",
     "dynamics", "present"}
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class VideoTubelets:
    """One video's K tubelets on its T sampled frames (absent frames hold zeros)."""

    video_id: str
    frame_idx: np.ndarray  # (T,) int64 absolute sampled frames
    tubelet_ids: np.ndarray  # (K,) int64
    appearance: np.ndarray  # (K, T, D) float32 region embeddings
    boxes: np.ndarray  # (K, T, 4) float32 pixel xyxy
    present: np.ndarray  # (K, T) bool: the tubelet has a box on the frame
    dynamics: np.ndarray  # (K, T, MOTION_DIM + C) float32 motion descriptors [+ SlowFast]


@dataclass(frozen=True, eq=False)
class WeakQuery:
    """A sentence on a clip; ``words`` / ``context`` (L, D) token embeddings."""

    query_id: str
    video_id: str
    segment: tuple[int, int]  # the query's clip [start, end), absolute frames (an input)
    words: np.ndarray
    context: np.ndarray


def weak_query_rows(ws: Workspace, dataset: str, split: str) -> list[dict]:
    """The catalog rows weak training may see: ids, sentence, clip and frame size."""
    return query_rows(ws, dataset, split, WEAK_QUERY_COLUMNS)


def encode_queries(rows: Sequence[dict], encoder: TextEncoder) -> list[WeakQuery]:
    """Token embeddings of each sentence and of its context (the sentence when it has none)."""
    sentences = [row["sentence"] for row in rows]
    contexts = [split_sentence(s).context or s for s in sentences]
    words = encoder.encode_tokens(sentences)
    context = encoder.encode_tokens(contexts)
    return [
        WeakQuery(
            query_id=row["query_id"],
            video_id=row["video_id"],
            segment=(int(row["segment_start_frame"]), int(row["segment_end_frame"])),
            words=w.astype(np.float32),
            context=c.astype(np.float32),
        )
        for row, w, c in zip(rows, words, context, strict=True)
    ]


def motion_descriptors(boxes: np.ndarray, present: np.ndarray, size: tuple[float, float]):
    """(K, T, MOTION_DIM) float32 from boxes (K, T, 4) pixel xyxy on (width, height) frames:
    centre and size in image units, velocity by central differences over present frames."""
    width, height = size
    scale = np.array([width, height, width, height], np.float32)
    norm = boxes / scale
    centre = (norm[..., :2] + norm[..., 2:]) / 2
    extent = norm[..., 2:] - norm[..., :2]
    velocity = np.zeros_like(centre)
    both = present[:, 2:] & present[:, :-2]
    velocity[:, 1:-1] = np.where(both[..., None], (centre[:, 2:] - centre[:, :-2]) / 2, 0)
    velocity *= VELOCITY_SCALE
    speed = np.linalg.norm(velocity, axis=-1, keepdims=True)
    out = np.concatenate([centre, extent, velocity, speed], axis=-1).astype(np.float32)
    return np.where(present[..., None], out, 0).astype(np.float32)


def pool_in_boxes(
    feature_map: np.ndarray, boxes: np.ndarray, size: tuple[float, float]
) -> np.ndarray:
    """(K, T, C) mean of ``feature_map`` (T, h, w, C) inside each box (K, T, 4) pixel xyxy
    (half-pixel aligned: map cell i covers [i, i + 1) in map units)."""
    num_tubelets, frames = boxes.shape[:2]
    maps = torch.from_numpy(np.ascontiguousarray(feature_map, np.float32)).permute(0, 3, 1, 2)
    scale = torch.tensor([maps.shape[3] / size[0], maps.shape[2] / size[1]] * 2)
    rois = torch.from_numpy(boxes.reshape(-1, 4).astype(np.float32)) * scale
    batch = torch.arange(frames).repeat(num_tubelets)[:, None].float()
    pooled = roi_align(maps, torch.cat([batch, rois], 1), (1, 1), 1.0, 2, aligned=True)
    return pooled.reshape(num_tubelets, frames, -1).numpy()


def tubelets_from_regions(
    regions: VideoRegions, size: tuple[float, float], slowfast: np.ndarray | None = None
) -> VideoTubelets:
    """Arrange a video's tubelet regions (N boxes) as (K, T) grids over its sampled frames;
    ``slowfast`` (T, h, w, C) on the same frames adds in-box SlowFast to the dynamics."""
    frame_idx = regions.frame_idx.astype(np.int64)
    keep = regions.tubelet_id >= 0
    tubelet_ids, row = np.unique(regions.tubelet_id[keep], return_inverse=True)
    col = np.searchsorted(frame_idx, regions.region_frame[keep])
    shape = (len(tubelet_ids), len(frame_idx))
    appearance = np.zeros((*shape, regions.embeddings.shape[1]), np.float32)
    boxes = np.zeros((*shape, 4), np.float32)
    present = np.zeros(shape, bool)
    appearance[row, col] = regions.embeddings[keep]
    boxes[row, col] = regions.boxes[keep]
    present[row, col] = True
    dynamics = motion_descriptors(boxes, present, size)
    if slowfast is not None:
        pooled = pool_in_boxes(slowfast, boxes, size)
        dynamics = np.concatenate([dynamics, np.where(present[..., None], pooled, 0)], axis=-1)
    return VideoTubelets(
        regions.video_id, frame_idx, tubelet_ids, appearance, boxes, present, dynamics
    )


def load_videos(
    ws: Workspace, dataset: str, queries: Sequence[dict], use_slowfast: bool
) -> dict[str, VideoTubelets]:
    """``VideoTubelets`` of every video some of ``queries`` (``weak_query_rows``) is posed on."""
    by_video = {row["video_id"]: row for row in queries}
    models = (SLOWFAST_MODEL,) if use_slowfast else ()
    features = FeatureRows(ws, dataset, models, queries, cache_bytes=0)
    videos = {}
    try:
        for video_id, query in by_video.items():
            size = (float(query["width"]), float(query["height"]))
            regions = video_regions(ws, dataset, video_id)
            slowfast = None
            if use_slowfast:
                row = features.find(SLOWFAST_MODEL, query)
                if row is None or not np.array_equal(row["frame_idx"], regions.frame_idx):
                    raise BadInputError(
                        ws.features_dir,
                        f"{dataset}/{video_id}",
                        "no SlowFast features on the region frames; run `stvg extract "
                        "--features slowfast` at the regions' fps, or pass `use_slowfast`=false",
                    )
                slowfast = features.read(row)
            videos[video_id] = tubelets_from_regions(regions, size, slowfast)
    finally:
        features.close()
    return videos


def clip_present(video: VideoTubelets, segment: tuple[int, int]) -> np.ndarray:
    """(K, T) presence restricted to the query's clip."""
    inside = (video.frame_idx >= segment[0]) & (video.frame_idx < segment[1])
    return video.present & inside[None, :]


def difficulty(query: WeakQuery, video: VideoTubelets) -> float:
    """Scene density of a query: tubelets in its clip (ties broken by sentence length)."""
    return float(clip_present(video, query.segment).any(axis=1).sum()) + len(query.words) / 1e3


def _padded(arrays: Sequence[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros((len(arrays), *shape), arrays[0].dtype)
    for i, array in enumerate(arrays):
        out[(i, *(slice(0, n) for n in array.shape))] = array
    return out


def collate_weak(
    queries: Sequence[WeakQuery], videos: dict[str, VideoTubelets]
) -> dict[str, object]:
    """A batch of WEAK_FIELDS: (B, L, D) words, (B, Lc, D) context, (B, K, T, D) appearance,
    (B, K, T, M) dynamics, (B, K, T) presence inside each query's clip, (B,) video index
    (queries on one video are positives of each other in the contrastive losses)."""
    chosen = [videos[q.video_id] for q in queries]
    k = max(len(v.tubelet_ids) for v in chosen)
    t = max(len(v.frame_idx) for v in chosen)
    words_len = max(len(q.words) for q in queries)
    context_len = max(len(q.context) for q in queries)
    order = {vid: i for i, vid in enumerate(dict.fromkeys(q.video_id for q in queries))}
    dim = chosen[0].appearance.shape[-1]
    return {
        "query_ids": [q.query_id for q in queries],
        "video_index": torch.tensor([order[q.video_id] for q in queries]),
        "words": torch.from_numpy(_padded([q.words for q in queries], (words_len, dim))),
        "word_mask": torch.from_numpy(_padded([np.ones(len(q.words), bool) for q in queries],
                                              (words_len,))),
        "context": torch.from_numpy(_padded([q.context for q in queries], (context_len, dim))),
        "context_mask": torch.from_numpy(
            _padded([np.ones(len(q.context), bool) for q in queries], (context_len,))
        ),
        "appearance": torch.from_numpy(_padded([v.appearance for v in chosen], (k, t, dim))),
        "dynamics": torch.from_numpy(
            _padded([v.dynamics for v in chosen], (k, t, chosen[0].dynamics.shape[-1]))
        ),
        "present": torch.from_numpy(
            _padded([clip_present(v, q.segment) for q, v in zip(queries, chosen, strict=True)],
                    (k, t))
        ),
    }  # fmt: skip


def strided(batch: dict[str, object], stride: int) -> dict[str, object]:
    """The batch on every ``stride``-th frame (per-frame fields are (B, K, T, ...))."""
    frames = ("appearance", "dynamics", "present")
    return {key: value[:, :, ::stride] if key in frames else value for key, value in batch.items()}


@dataclass(frozen=True, eq=False)
class CospalData:
    """Weak queries of both splits and the tubelets of their videos, loaded once per sweep."""

    train: list[WeakQuery]
    eval: list[WeakQuery]
    eval_split: str
    videos: dict[str, VideoTubelets]
    use_slowfast: bool  # the tubelets' dynamics hold in-box SlowFast features


def load_data(
    ws: Workspace,
    dataset: str,
    eval_split: str,
    use_slowfast: bool = True,
    with_train: bool = True,
) -> CospalData:
    """Queries of ``train`` (unless ``with_train`` is False: prediction only) and ``eval_split``
    with token embeddings from the regions' text encoder, and the ``VideoTubelets`` of their
    videos."""
    splits = (TRAIN_SPLIT, eval_split) if with_train else (eval_split,)
    rows = {TRAIN_SPLIT: []} | {split: weak_query_rows(ws, dataset, split) for split in splits}
    for split in splits:
        if not rows[split]:
            raise BadInputError(ws.catalog_dir, f"{dataset}/{split}", "no queries in this split")
    encoder = load_text_encoder(ws, dataset)
    return CospalData(
        train=encode_queries(rows[TRAIN_SPLIT], encoder),
        eval=encode_queries(rows[eval_split], encoder),
        eval_split=eval_split,
        videos=load_videos(
            ws, dataset, [r for split_rows in rows.values() for r in split_rows], use_slowfast
        ),
        use_slowfast=use_slowfast,
    )


def feature_dims(data: CospalData) -> tuple[int, int]:
    """(appearance, dynamics) feature sizes of the loaded tubelets."""
    video = next(iter(data.videos.values()))
    return video.appearance.shape[-1], video.dynamics.shape[-1]


def on_device(batch: dict[str, object], device: str) -> dict[str, object]:
    """The batch with its tensors on ``device`` (query ids stay a list)."""
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
