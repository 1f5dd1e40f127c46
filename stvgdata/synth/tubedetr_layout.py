"""Writer of VidSTG as preprocessed by TubeDETR: one file per split with one record per
sentence and the target trajectories of its videos::

    <root>/{train,val,test}.json   {"videos": [...], "trajectories": {vid: {tid: {frame: ...}}}}
    <root>/video/<dir>/<vid>.mp4   (VidOR's video tree; video_path = "<dir>/<vid>.mp4")

Frames are absolute; ``tube_end_frame`` is exclusive but ``end_frame`` is VidSTG's inclusive
``used_segment.end_fid``, copied unchanged as TubeDETR's ``preproc_vidstg.py`` does (TubeDETR
then reads it as exclusive); boxes are ``[x, y, w, h]`` in pixels. Trajectories hold each
target's box on every frame of the clips its sentences are posed on (TubeDETR only reads them
inside tubes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson

from stvg.stvgdata.geometry import xyxy_to_xywh
from stvg.stvgdata.synth.plan import VideoPlan
from stvg.stvgdata.synth.vidstg_layout import vidor_ids


def sentence_records(plan: VideoPlan, first_id: int) -> list[dict]:
    """One record per sentence of the video; ``video_id`` runs from ``first_id``."""
    scene = plan.scene
    directory, vid = vidor_ids(plan.index)
    records = []
    for entry in plan.entries:
        is_person = scene.objects[entry.target].appearance.is_person
        for sentence in entry.sentences:
            records.append(
                {
                    "video_id": first_id + len(records),
                    "original_video_id": vid,
                    "video_path": f"{directory}/{vid}.mp4",
                    "caption": sentence.text,
                    "type": "person" if is_person else "object",
                    "qtype": sentence.sentence_type,
                    "target_id": entry.target,
                    "frame_count": scene.frame_count,
                    "fps": scene.fps,
                    "width": scene.width,
                    "height": scene.height,
                    "start_frame": entry.segment[0],
                    "end_frame": entry.segment[1] - 1,  # inclusive, as TubeDETR copies it
                    "tube_start_frame": entry.tube[0],
                    "tube_end_frame": entry.tube[1],
                }
            )
    return records


def target_trajectories(plan: VideoPlan) -> dict[str, dict[str, dict]]:
    """str(tid) -> str(frame) -> {"bbox": [x, y, w, h]} for every target, over its clips."""
    frames_of: dict[int, set[int]] = {}
    for entry in plan.entries:
        frames_of.setdefault(entry.target, set()).update(range(*entry.segment))
    trajectories = {}
    for tid, frames in sorted(frames_of.items()):
        xywh = xyxy_to_xywh(plan.scene.boxes[tid]).astype(np.int64)  # (T, 4)
        trajectories[str(tid)] = {str(f): {"bbox": xywh[f].tolist()} for f in sorted(frames)}
    return trajectories


class TubeDetrWriter:
    """Collects each split's sentence records and trajectories; writes them when closed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.records: dict[str, list[dict]] = {}
        self.trajectories: dict[str, dict[str, dict]] = {}

    def add(self, plan: VideoPlan) -> None:
        records = self.records.setdefault(plan.split, [])
        records.extend(sentence_records(plan, first_id=len(records)))
        split_trajectories = self.trajectories.setdefault(plan.split, {})
        split_trajectories[vidor_ids(plan.index)[1]] = target_trajectories(plan)

    def close(self) -> None:
        for split, records in self.records.items():
            data = {"videos": records, "trajectories": self.trajectories[split]}
            (self.root / f"{split}.json").write_bytes(orjson.dumps(data))
