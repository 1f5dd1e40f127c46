"""Pictures of one query's prediction: its frames (decoded from the source video) with the GT
box (green) and the predicted box (red inside the predicted span, grey outside), a timeline
under each frame (GT span green, predicted span red, the frame a white tick), saved as a PNG
contact sheet or an animated GIF; plus a heatmap PNG of the 2D-TAN score map (sigmoid of the
scores of real proposals; start frame i down, end frame j across; GT proposal outlined)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from heads.csdvl.engine import outputs_to_predictions
from heads.csdvl.predict import load_model, resolve_checkpoint
from heads.eval.predictions import QueryPrediction
from stvgdata.atomic import atomic_output
from stvgdata.catalog import connect, fetch_arrow
from stvgdata.errors import BadInputError
from stvgdata.video import iter_frames
from stvgdata.workspace import Workspace

GT_COLOUR = (40, 220, 40)
PRED_COLOUR = (230, 40, 40)
OUTSIDE_COLOUR = (150, 150, 150)
TIMELINE_HEIGHT = 12
HEATMAP_CELL = 12  # pixels per proposal cell

_QUERY_SQL = """
SELECT q.dataset, q.split, q.video_id, q.tube_start_frame, q.tube_end_frame, v.path,
       v.width, v.height, v.num_frames
FROM queries q JOIN videos v ON v.dataset = q.dataset AND v.video_id = q.video_id
WHERE q.query_id = ? AND (? IS NULL OR q.dataset = ?)
"""


@dataclass(frozen=True)
class QueryInfo:
    dataset: str
    split: str
    video_path: Path
    size: tuple[int, int]  # (width, height) in pixels
    num_frames: int
    tube: tuple[int, int]  # absolute [start, end)
    gt_boxes: dict[int, np.ndarray]  # absolute frame -> pixel xyxy


@dataclass(frozen=True)
class ShowResult:
    picture: Path
    heatmap: Path
    prediction: QueryPrediction


def query_info(ws: Workspace, query_id: str, dataset: str | None) -> QueryInfo:
    """The query's video, split, tube and GT boxes from the catalog."""
    con = connect(ws)
    try:
        rows = fetch_arrow(con, _QUERY_SQL, [query_id, dataset, dataset]).to_pylist()
        if len(rows) != 1:
            reason = "no such query" if not rows else "query id in several datasets: give `dataset`"
            raise BadInputError("catalog", query_id, reason)
        row = rows[0]
        boxes = con.execute(
            "SELECT frame_idx, x1, y1, x2, y2 FROM boxes WHERE dataset = ? AND query_id = ?",
            [row["dataset"], query_id],
        ).fetchall()
    finally:
        con.close()
    return QueryInfo(
        dataset=row["dataset"],
        split=row["split"],
        video_path=Path(row["path"]),
        size=(row["width"], row["height"]),
        num_frames=row["num_frames"],
        tube=(row["tube_start_frame"], row["tube_end_frame"]),
        gt_boxes={frame: np.array(box, dtype=np.float64) for frame, *box in boxes},
    )


def _predict_query(
    ws: Workspace, run_or_checkpoint: str, info: QueryInfo, query_id: str
) -> tuple[QueryPrediction, np.ndarray]:
    """The run's prediction for one query and its score map (T, T), NaN on masked proposals."""
    from stvgdata.loader import CachedQueryDataset, collate_queries

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
    scores = outputs["score_logits"][0].sigmoid().masked_fill(~outputs["proposal_mask"][0], np.nan)
    return outputs_to_predictions(outputs, batch)[0], scores.numpy()


def _draw_box(draw: ImageDraw.ImageDraw, box: np.ndarray, colour: tuple, width: int) -> None:
    draw.rectangle([float(v) for v in box], outline=colour, width=width)


def _annotate(
    rgb: np.ndarray, frame: int, info: QueryInfo, prediction: QueryPrediction
) -> Image.Image:
    """One frame with its boxes and a timeline strip below it."""
    height, width = rgb.shape[:2]
    canvas = Image.new("RGB", (width, height + TIMELINE_HEIGHT))
    canvas.paste(Image.fromarray(rgb))
    draw = ImageDraw.Draw(canvas)
    if frame in info.gt_boxes:
        _draw_box(draw, info.gt_boxes[frame], GT_COLOUR, 2)
    row = np.searchsorted(prediction.frame_idx, frame)
    if row < len(prediction.frame_idx) and prediction.frame_idx[row] == frame:
        inside = prediction.start_frame <= frame < prediction.end_frame
        _draw_box(draw, prediction.boxes[row], PRED_COLOUR if inside else OUTSIDE_COLOUR, 2)
    scale = width / max(info.num_frames, 1)
    top = height
    draw.rectangle([0, top, width, top + TIMELINE_HEIGHT], fill=(30, 30, 30))
    gt_span = [info.tube[0] * scale, top + 1, info.tube[1] * scale, top + 5]
    draw.rectangle(gt_span, fill=GT_COLOUR)
    pred_span = [prediction.start_frame * scale, top + 7, prediction.end_frame * scale, top + 11]
    draw.rectangle(pred_span, fill=PRED_COLOUR)
    draw.line([frame * scale, top, frame * scale, top + TIMELINE_HEIGHT], fill=(255, 255, 255))
    return canvas


def _contact_sheet(images: list[Image.Image], columns: int = 4) -> Image.Image:
    width, height = images[0].size
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (width * min(columns, len(images)), height * rows))
    for i, image in enumerate(images):
        sheet.paste(image, ((i % columns) * width, (i // columns) * height))
    return sheet


def score_map_image(scores: np.ndarray, gt_cell: tuple[int, int] | None) -> Image.Image:
    """Heatmap of a (T, T) score map in [0, 1] (NaN = masked, drawn dark grey)."""
    masked = np.isnan(scores)
    value = np.nan_to_num(scores, nan=0.0).clip(0, 1)
    # black -> red -> yellow -> white
    rgb = np.stack([value * 3, value * 3 - 1, value * 3 - 2], axis=-1).clip(0, 1) * 255
    rgb[masked] = 40
    image = Image.fromarray(rgb.astype(np.uint8)).resize(
        (scores.shape[1] * HEATMAP_CELL, scores.shape[0] * HEATMAP_CELL), Image.NEAREST
    )
    if gt_cell is not None:
        i, j = gt_cell
        box = [
            j * HEATMAP_CELL,
            i * HEATMAP_CELL,
            (j + 1) * HEATMAP_CELL - 1,
            (i + 1) * HEATMAP_CELL - 1,
        ]
        ImageDraw.Draw(image).rectangle(box, outline=GT_COLOUR, width=2)
    return image


def _gt_cell(frame_idx: np.ndarray, tube: tuple[int, int]) -> tuple[int, int] | None:
    """The proposal (i, j) of sampled frames inside the GT tube, if any frame is."""
    inside = np.flatnonzero((frame_idx >= tube[0]) & (frame_idx < tube[1]))
    return (int(inside[0]), int(inside[-1])) if len(inside) else None


def show_query(
    ws: Workspace,
    run_or_checkpoint: str,
    query_id: str,
    out: Path,
    dataset: str | None = None,
    max_frames: int = 16,
) -> ShowResult:
    """Write ``out`` (.png contact sheet or .gif animation) and ``<out stem>-scores.png``."""
    out = Path(out)
    if out.suffix.lower() not in (".png", ".gif"):
        raise BadInputError(out, None, "output must end in .png or .gif")
    info = query_info(ws, query_id, dataset)
    prediction, scores = _predict_query(ws, run_or_checkpoint, info, query_id)
    sampled = prediction.frame_idx
    shown = sampled[np.unique(np.linspace(0, len(sampled) - 1, max_frames).round().astype(int))]
    width, height = info.size
    images = [
        _annotate(rgb, frame, info, prediction)
        for frame, rgb in iter_frames(info.video_path, shown, (height, width))
    ]
    with atomic_output(out) as tmp:
        if out.suffix.lower() == ".gif":
            images[0].save(
                tmp, format="GIF", save_all=True, append_images=images[1:], duration=300, loop=0
            )
        else:
            _contact_sheet(images).save(tmp, format="PNG")
    heatmap = out.with_name(f"{out.stem}-scores.png")
    with atomic_output(heatmap) as tmp:
        score_map_image(scores, _gt_cell(sampled, info.tube)).save(tmp, format="PNG")
    return ShowResult(out, heatmap, prediction)
