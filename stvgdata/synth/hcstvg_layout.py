"""Writer of HC-STVG's on-disk layout, v1 and v2.

    <root>/train.json, <root>/test.json           v1: {video file name: record}
    <root>/train_v2.json, <root>/val_v2.json      v2: same, sentence in English, img_size [h, w]
    <root>/video/<video file name>                the videos (e.g. video/synth000042.mp4)

Frame conventions: ``st_frame`` is 1-based as documented by HC-STVG, so the tube is the
0-based absolute half-open range [st_frame - 1, st_frame - 1 + len(bbox)); ``bbox`` holds one
[x, y, w, h] (pixels) per tube frame; ``st_time = (st_frame - 1) / fps`` and
``ed_time = (st_frame - 1 + len(bbox)) / fps``; ``img_num`` = frame count = fps x 20.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson

from stvg.stvgdata.geometry import xyxy_to_xywh
from stvg.stvgdata.synth.plan import VideoPlan

ANNOTATION_FILES = {
    1: {"train": "train.json", "test": "test.json"},
    2: {"train": "train_v2.json", "val": "val_v2.json"},
}


def video_name(index: int) -> str:
    """The dict key and file name of video ``index`` (its stem is the catalog's video_id)."""
    return f"synth{index:06d}.mp4"


def video_file(root: Path, index: int) -> Path:
    return root / "video" / video_name(index)


def hcstvg_record(plan: VideoPlan, version: int) -> dict:
    """One value of the annotation dict: the video's single query and its tube."""
    scene = plan.scene
    (entry,) = plan.entries
    (caption,) = entry.captions
    start, end = entry.tube
    bbox = xyxy_to_xywh(scene.boxes[entry.target, start:end]).astype(np.int64).tolist()
    timing = {
        "st_frame": start + 1,
        "st_time": round(start / scene.fps, 6),
        "ed_time": round(end / scene.fps, 6),
        "img_num": scene.frame_count,
    }
    if version == 1:
        return {
            "bbox": bbox,
            **timing,
            "caption": caption.text,
            "width": scene.width,
            "height": scene.height,
        }
    return {
        "English": caption.text,
        "bbox": bbox,
        **timing,
        "img_size": [scene.height, scene.width],
    }


class HcstvgWriter:
    """Collects one record per video; writes each split's dict when closed."""

    def __init__(self, root: Path, version: int) -> None:
        self.root = root
        self.version = version
        self.records: dict[str, dict[str, dict]] = {}

    def add(self, plan: VideoPlan) -> None:
        split_records = self.records.setdefault(plan.split, {})
        split_records[video_name(plan.index)] = hcstvg_record(plan, self.version)

    def close(self) -> None:
        for split, records in self.records.items():
            name = ANNOTATION_FILES[self.version][split]
            (self.root / name).write_bytes(orjson.dumps(records))
