"""CSDVL's inner pictures for one query (matplotlib, non-interactive, imported inside): the
2D-TAN proposal map (start and end in seconds, the GT span and the chosen proposal marked) and
the static / d2s attention over the feature grid for one frame, overlaid on that frame."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from stvg.heads.csdvl.engine import outputs_to_predictions
from stvg.heads.csdvl.predict import load_model, resolve_checkpoint
from stvg.heads.eval.predictions import QueryPrediction
from stvg.heads.visualize.draw import GT_COLOUR, PRED_COLOUR
from stvg.heads.visualize.plots import pyplot, save_figure
from stvg.heads.visualize.show import ShowRequest, file_label
from stvg.stvgdata.catalog import connect, fetch_arrow
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.video import iter_frames
from stvg.stvgdata.workspace import Workspace

_QUERY_SQL = """
SELECT q.dataset, q.split, q.tube_start_frame, q.tube_end_frame, v.path, v.width, v.height, v.fps
FROM queries q JOIN videos v ON v.dataset = q.dataset AND v.video_id = q.video_id
WHERE q.query_id = ? AND (? IS NULL OR q.dataset = ?)
"""


@dataclass(frozen=True)
class QueryInfo:
    dataset: str
    split: str
    video_path: Path
    size: tuple[int, int]  # (width, height) in pixels
    fps: float
    tube: tuple[int, int]  # absolute [start, end)


@dataclass(frozen=True, eq=False)
class QueryInternals:
    """A run's view of one query: its prediction, the proposal scores (T, T) (sigmoid, NaN on
    masked proposals) over the sampled frames ``frame_idx`` (T,), and the last layer's static
    and d2s attention (T, H, W) over the feature grid (d2s None when the variant has none)."""

    info: QueryInfo
    prediction: QueryPrediction
    frame_idx: np.ndarray
    scores: np.ndarray
    static_attention: np.ndarray
    d2s_attention: np.ndarray | None


def query_info(ws: Workspace, query_id: str, dataset: str | None) -> QueryInfo:
    """The query's video, split and tube from the catalog."""
    con = connect(ws)
    try:
        rows = fetch_arrow(con, _QUERY_SQL, [query_id, dataset, dataset]).to_pylist()
    finally:
        con.close()
    if len(rows) != 1:
        reason = "no such query" if not rows else "query id in several datasets: give `dataset`"
        raise BadInputError("catalog", query_id, reason)
    row = rows[0]
    return QueryInfo(
        dataset=row["dataset"],
        split=row["split"],
        video_path=Path(row["path"]),
        size=(row["width"], row["height"]),
        fps=row["fps"],
        tube=(row["tube_start_frame"], row["tube_end_frame"]),
    )


def query_internals(
    ws: Workspace, run_or_checkpoint: str, query_id: str, dataset: str | None = None
) -> QueryInternals:
    """Run the model of ``run_or_checkpoint`` on one query's cached features."""
    from stvg.stvgdata.loader import CachedQueryDataset, collate_queries

    info = query_info(ws, query_id, dataset)
    model, train_config = load_model(resolve_checkpoint(ws, run_or_checkpoint))
    queries = CachedQueryDataset(
        ws,
        info.dataset,
        info.split,
        max_frames=train_config.max_frames,
        features=train_config.features,
    )
    index = next((i for i, r in enumerate(queries.records) if r.query_id == query_id), None)
    if index is None:
        raise BadInputError("feature cache", query_id, "query has no cached features")
    batch = collate_queries([queries[index]])
    with torch.no_grad():
        outputs = model(batch)
    _, _, height, width, _ = batch["frame_feats"].shape
    scores = outputs["score_logits"][0].sigmoid().masked_fill(~outputs["proposal_mask"][0], np.nan)
    prediction = outputs_to_predictions(outputs, batch)[0]
    d2s = outputs.get("d2s_attention")
    d2s_grid = None
    if d2s is not None and d2s.shape[-1] == height * width:  # not the pooled "w/o spatial" grid
        d2s_grid = d2s[-1, 0].reshape(-1, height, width).numpy()
    return QueryInternals(
        info=info,
        prediction=prediction,
        frame_idx=prediction.frame_idx,
        scores=scores.numpy(),
        static_attention=outputs["static_attention"][-1, 0].reshape(-1, height, width).numpy(),
        d2s_attention=d2s_grid,
    )


def _rgb(colour: tuple[int, int, int]) -> tuple[float, ...]:
    return tuple(c / 255 for c in colour)


def _gt_cell(frame_idx: np.ndarray, tube: tuple[int, int]) -> tuple[int, int] | None:
    """The proposal (i, j) of sampled frames inside the GT tube, if any frame is."""
    inside = np.flatnonzero((frame_idx >= tube[0]) & (frame_idx < tube[1]))
    return (int(inside[0]), int(inside[-1])) if len(inside) else None


def plot_proposals(internals: QueryInternals, query_id: str, out: Path) -> Path:
    """The (T, T) proposal map, start (rows) against end (columns) in seconds."""
    plt = pyplot()
    seconds = internals.frame_idx / internals.info.fps
    count = len(seconds)
    fig, ax = plt.subplots(figsize=(4.6, 4.0), dpi=100)
    image = ax.imshow(internals.scores, cmap="viridis", vmin=0, vmax=1, origin="upper")
    fig.colorbar(image, ax=ax, label="proposal score (sigmoid)")
    ticks = np.unique(np.linspace(0, count - 1, min(count, 6)).round().astype(int))
    labels = [f"{seconds[i]:.1f}" for i in ticks]
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    ax.set_xlabel("end (s)")
    ax.set_ylabel("start (s)")
    gt = _gt_cell(internals.frame_idx, internals.info.tube)
    if gt is not None:
        ax.add_patch(
            plt.Rectangle((gt[1] - 0.5, gt[0] - 0.5), 1, 1, fill=False, lw=2.5, ec=_rgb(GT_COLOUR))
        )
    pred = internals.prediction
    chosen = np.searchsorted(internals.frame_idx, [pred.start_frame, pred.end_frame - 1])
    chosen = np.clip(chosen, 0, count - 1)
    ax.plot(chosen[1], chosen[0], "x", ms=10, mew=2.5, color=_rgb(PRED_COLOUR))
    ax.plot([], [], "s", mfc="none", mec=_rgb(GT_COLOUR), label="GT span")
    ax.plot([], [], "x", color=_rgb(PRED_COLOUR), label="chosen proposal")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(f"2D-TAN proposals - {query_id}", fontsize=10)
    return save_figure(fig, out)


def plot_attention(
    internals: QueryInternals, query_id: str, out: Path, frame: int | None = None
) -> Path:
    """Static (and d2s) attention of the last layer on the sampled frame nearest ``frame``
    (default: the middle of the GT tube), over the decoded frame."""
    plt = pyplot()
    frame = sum(internals.info.tube) // 2 if frame is None else frame
    row = int(np.argmin(np.abs(internals.frame_idx - frame)))
    frame_idx = int(internals.frame_idx[row])
    width, height = internals.info.size
    ((_, rgb),) = iter_frames(internals.info.video_path, [frame_idx], (height, width))
    maps = [("static attention", internals.static_attention[row])]
    if internals.d2s_attention is not None:
        maps.append(("d2s attention", internals.d2s_attention[row]))
    fig, axes = plt.subplots(1, len(maps), figsize=(3.6 * len(maps), 3.2), dpi=100, squeeze=False)
    for ax, (name, grid) in zip(axes[0], maps, strict=True):
        ax.imshow(rgb)
        overlay = ax.imshow(
            grid, cmap="magma", alpha=0.55, extent=(0, width, height, 0), interpolation="nearest"
        )
        fig.colorbar(overlay, ax=ax, fraction=0.046)
        ax.set_title(name, fontsize=9)
        ax.set_axis_off()
    seconds = frame_idx / internals.info.fps
    fig.suptitle(f"{query_id} - frame {frame_idx} ({seconds:.2f} s)", fontsize=10)
    return save_figure(fig, out)


def draw_internals(
    ws: Workspace, request: ShowRequest, query_ids: list[str]
) -> list[tuple[str, Path]]:
    """The proposal map and attention pictures of each query, beside the request's output:
    (query_id, path) per picture."""
    drawn = []
    for query_id in query_ids:
        found = query_internals(ws, request.run, query_id, request.dataset)
        stem = request.out.with_name(f"{request.out.with_suffix('').name}-{file_label(query_id)}")
        proposals = plot_proposals(found, query_id, stem.with_name(f"{stem.name}-proposals.png"))
        attention = stem.with_name(f"{stem.name}-attention.png")
        attention = plot_attention(found, query_id, attention, request.attention_frame)
        drawn += [(query_id, proposals), (query_id, attention)]
    return drawn
