"""Pillow drawing of a query scene: outlined boxes in two colours that read on any video, a
label on each frame (frame number, time, IoU), a timeline strip of the GT and predicted spans
under each frame, and a title band (wrapped sentence, ids, vIoU, legend)."""

from __future__ import annotations

import textwrap
from functools import partial

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from stvg.heads.visualize.scene import QueryScene

GT_COLOUR = (255, 210, 0)  # amber: not a colour of the synthetic benchmark's objects
PRED_COLOUR = (255, 40, 200)  # magenta
OUTSIDE_COLOUR = (170, 170, 170)  # a predicted box outside the predicted span
OUTLINE = (0, 0, 0)
BAND = (24, 24, 24)
TEXT = (240, 240, 240)
BOX_WIDTH = 2  # coloured stroke; a black stroke of the same width rings it on each side
TIMELINE_HEIGHT = 14
MIN_FRAME_WIDTH, MAX_FRAME_WIDTH = 192, 320  # frames are scaled into this width range
FONT_SIZE = 11


def font(size: int = FONT_SIZE) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def outlined_box(draw: ImageDraw.ImageDraw, box: np.ndarray, colour: tuple) -> None:
    """A coloured rectangle between two black ones, visible on light and dark pixels."""
    x1, y1, x2, y2 = (float(v) for v in box)
    for grow, fill in ((BOX_WIDTH, OUTLINE), (-BOX_WIDTH, OUTLINE), (0, colour)):
        draw.rectangle([x1 - grow, y1 - grow, x2 + grow, y2 + grow], outline=fill, width=BOX_WIDTH)


def frame_scale(scene: QueryScene) -> float:
    """Pixels drawn per video pixel: wide frames shrink to ``MAX_FRAME_WIDTH``, small ones grow
    by a whole factor to at least ``MIN_FRAME_WIDTH`` (so labels fit)."""
    width = scene.size[0]
    if width > MAX_FRAME_WIDTH:
        return MAX_FRAME_WIDTH / width
    return float(max(1, -(-MIN_FRAME_WIDTH // width)))


def _label(scene: QueryScene, row: int) -> str:
    frame = int(scene.frame_idx[row])
    iou = scene.ious[row]
    iou_text = "-" if np.isnan(iou) else f"{iou:.2f}"
    return f"frame {frame}  {frame / scene.fps:.2f} s  IoU {iou_text}"


def _timeline(draw: ImageDraw.ImageDraw, scene: QueryScene, top: int, width: int, frame: int):
    """GT span (upper row) and predicted span (lower row) over the clip; a white tick at
    ``frame``."""
    start, end = scene.clip
    scale = width / max(end - start, 1)
    half = TIMELINE_HEIGHT // 2
    draw.rectangle([0, top, width, top + TIMELINE_HEIGHT], fill=BAND)
    spans = [(scene.tube, GT_COLOUR, top + 1)]
    if scene.pred_span is not None:
        spans.append((scene.pred_span, PRED_COLOUR, top + half + 1))
    for (span_start, span_end), colour, y in spans:
        x1, x2 = (max(0, s - start) * scale for s in (span_start, min(span_end, end)))
        if x2 > x1:
            draw.rectangle([x1, y, x2 - 1, y + half - 3], fill=colour)
    x = (frame - start) * scale
    draw.line([x, top, x, top + TIMELINE_HEIGHT], fill=(255, 255, 255), width=2)


def annotate_frame(scene: QueryScene, row: int, rgb: np.ndarray) -> Image.Image:
    """Frame ``row`` of the scene (``rgb`` (H, W, 3) at video size) with its boxes, label and
    timeline strip, scaled by ``frame_scale``."""
    scale = frame_scale(scene)
    width, height = (round(v * scale) for v in scene.size)
    canvas = Image.new("RGB", (width, height + TIMELINE_HEIGHT), BAND)
    canvas.paste(Image.fromarray(rgb).resize((width, height), Image.BILINEAR))
    draw = ImageDraw.Draw(canvas)
    if scene.has_gt[row]:
        outlined_box(draw, scene.gt_boxes[row] * scale, GT_COLOUR)
    if scene.has_pred[row]:
        frame = scene.frame_idx[row]
        span = scene.pred_span
        inside = span is not None and span[0] <= frame < span[1]
        outlined_box(draw, scene.pred_boxes[row] * scale, PRED_COLOUR if inside else OUTSIDE_COLOUR)
    text = _label(scene, row)
    left, top, right, bottom = draw.textbbox((3, 2), text, font=font())
    draw.rectangle([0, 0, right + 3, bottom + 2], fill=BAND)
    draw.text((3, 2), text, fill=TEXT, font=font())
    _timeline(draw, scene, height, width, int(scene.frame_idx[row]))
    return canvas


LEGEND = (
    ("ground truth", GT_COLOUR),
    ("prediction", PRED_COLOUR),
    ("prediction outside its span", OUTSIDE_COLOUR),
)
LINE_HEIGHT = FONT_SIZE + 4


def _legend_rows(width: int) -> list[list[tuple[str, tuple]]]:
    """The legend's entries in rows that fit ``width`` pixels."""
    rows, used = [[]], 4
    for name, colour in LEGEND:
        need = 24 + round(font().getlength(name))
        if rows[-1] and used + need > width:
            rows.append([])
            used = 4
        rows[-1].append((name, colour))
        used += need
    return rows


def _legend(draw: ImageDraw.ImageDraw, rows: list[list[tuple[str, tuple]]], y: int) -> None:
    for row in rows:
        x = 4
        for name, colour in row:
            draw.rectangle([x, y + 2, x + 10, y + 12], outline=OUTLINE, fill=colour)
            draw.text((x + 14, y), name, fill=TEXT, font=font())
            x += 24 + round(draw.textlength(name, font=font()))
        y += LINE_HEIGHT


def title_band(scene: QueryScene, width: int) -> Image.Image:
    """The sentence (wrapped), the ids and the vIoU, and the legend, ``width`` pixels wide."""
    chars = max(20, int((width - 8) / font().getlength("n")))  # about one line per width
    score = "unpredicted" if scene.pred_span is None else f"vIoU {scene.viou:.3f}"
    ids = f"{scene.query_id} ({scene.sentence_type}), video {scene.video_id}, {score}"
    wrap = partial(textwrap.wrap, width=chars, break_on_hyphens=False)
    lines = wrap(f'"{scene.sentence.strip()}"') or [""]
    lines += wrap(ids) + wrap(scene.source)
    legend = _legend_rows(width)
    band = Image.new("RGB", (width, LINE_HEIGHT * (len(lines) + len(legend)) + 6), BAND)
    draw = ImageDraw.Draw(band)
    for i, line in enumerate(lines):
        draw.text((4, 3 + i * LINE_HEIGHT), line, fill=TEXT, font=font())
    _legend(draw, legend, 3 + len(lines) * LINE_HEIGHT)
    return band


def with_title(scene: QueryScene, body: Image.Image) -> Image.Image:
    """``body`` under the scene's title band."""
    band = title_band(scene, body.width)
    picture = Image.new("RGB", (body.width, band.height + body.height), BAND)
    picture.paste(band)
    picture.paste(body, (0, band.height))
    return picture


def contact_sheet(images: list[Image.Image], columns: int = 4) -> Image.Image:
    """Images of one size in a grid, ``columns`` across."""
    width, height = images[0].size
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (width * min(columns, len(images)), height * rows), BAND)
    for i, image in enumerate(images):
        sheet.paste(image, ((i % columns) * width, (i // columns) * height))
    return sheet
