"""Writers of VidSTG's sentence-file layouts: the original release (over VidOR's trees) and
STCAT's flat copy of the same files.

original::

    <root>/{train,val,test}_annotations.json      sentence entries (no boxes, no paths)
    <root>/{train,val,test}_files.json            video ids of each split
    <root>/annotation/{training,validation}/<dir>/<vid>.json   VidOR per-video annotation
    <root>/video/<dir>/<vid>.mp4                  the videos

stcat (STCAT / CG-STVG regenerate their own split lists, so there are none)::

    <root>/sent_annos/{train,val,test}_annotations.json
    <root>/bbox_annos/<vid>.json
    <root>/videos/<vid>.mp4

Frame conventions (absolute 0-based frame ids): ``temporal_gt`` and ``used_relation`` ends are
exclusive; ``used_segment.end_fid`` is inclusive (at most frame_count - 1), as in the release.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson

from stvg.stvgdata.synth.plan import VideoPlan
from stvg.stvgdata.synth.queries import Entry, Sentence
from stvg.stvgdata.synth.scene import Scene, SceneObject

VIDOR_PART = {"train": "training", "val": "training", "test": "validation"}
"""VidSTG train/val videos come from VidOR training, test videos from VidOR validation."""
VIDEOS_PER_DIR = 100
PERSON_CATEGORY = "adult"
"""VidOR's category for grown-up people; the sentence ``type`` of a person target is person."""
TRAJECTORY_ITEM = (
    '{"tid":%d,"bbox":{"xmin":%d,"ymin":%d,"xmax":%d,"ymax":%d},"generated":0,"tracker":"none"}'
)


def vidor_ids(index: int) -> tuple[str, str]:
    """(directory, video id) of video ``index``, shaped like VidOR's ('0000', '0000000042')."""
    return f"{index // VIDEOS_PER_DIR:04d}", f"{index:010d}"


def object_category(obj: SceneObject) -> str:
    """VidOR's category of an object: adult for people, else the shape's name."""
    return PERSON_CATEGORY if obj.appearance.is_person else obj.appearance.shape


def _objects(scene: Scene) -> list[dict]:
    return [{"tid": obj.tid, "category": object_category(obj)} for obj in scene.objects]


def _relation(entry: Entry) -> dict:
    return {
        "subject_tid": entry.target,
        "object_tid": entry.reference,
        "predicate": entry.predicate,
        "begin_fid": entry.tube[0],
        "end_fid": entry.tube[1],
    }


def trajectories_json(boxes: np.ndarray) -> bytes:
    """VidOR ``trajectories`` for (K, T, 4) boxes: a list per frame of every object's box.

    Formatted with one %-template per frame instead of building K x T dicts: VidSTG-scale runs
    write tens of millions of boxes, and this is several times faster than dicts + orjson.
    """
    count, frames = boxes.shape[:2]
    tids = np.broadcast_to(np.arange(count)[:, None, None], (count, frames, 1))
    rows = np.concatenate([tids, boxes], axis=2).transpose(1, 0, 2).reshape(frames, count * 5)
    template = "[" + ",".join([TRAJECTORY_ITEM] * count) + "]"
    return ("[" + ",".join(template % tuple(row) for row in rows.tolist()) + "]").encode()


def vidor_annotation(plan: VideoPlan) -> bytes:
    """The VidOR per-video JSON of ``plan``."""
    scene = plan.scene
    directory, vid = vidor_ids(plan.index)
    relations = {tuple(_relation(entry).values()): _relation(entry) for entry in plan.entries}
    head = orjson.dumps(
        {
            "version": "VERSION 1.0",
            "video_id": vid,
            "video_path": f"{directory}/{vid}.mp4",
            "frame_count": scene.frame_count,
            "fps": scene.fps,
            "width": scene.width,
            "height": scene.height,
            "subject/objects": _objects(scene),
            "tags": [],
            "relation_instances": list(relations.values()),
        }
    )
    return head[:-1] + b',"trajectories":' + trajectories_json(scene.boxes) + b"}"


def _sentence(sentence: Sentence, plan: VideoPlan, target: int) -> dict:
    kind = "person" if plan.scene.objects[target].appearance.is_person else "object"
    return {"description": sentence.text, "type": kind, "target_id": target}


def sentence_entry(plan: VideoPlan, entry: Entry) -> dict:
    """One element of ``<split>_annotations.json``."""
    scene = plan.scene
    return {
        "vid": vidor_ids(plan.index)[1],
        "fps": scene.fps,
        "frame_count": scene.frame_count,
        "width": scene.width,
        "height": scene.height,
        "subject/objects": _objects(scene),
        "used_segment": {"begin_fid": entry.segment[0], "end_fid": entry.segment[1] - 1},
        "used_relation": _relation(entry),
        "temporal_gt": {"begin_fid": entry.tube[0], "end_fid": entry.tube[1]},
        "captions": [_sentence(s, plan, entry.target) for s in entry.captions],
        "questions": [_sentence(s, plan, entry.target) for s in entry.questions],
    }


def original_video_file(root: Path, index: int) -> Path:
    directory, vid = vidor_ids(index)
    return root / "video" / directory / f"{vid}.mp4"


def stcat_video_file(root: Path, index: int) -> Path:
    return root / "videos" / f"{vidor_ids(index)[1]}.mp4"


def original_annotation_file(root: Path, plan: VideoPlan) -> Path:
    directory, vid = vidor_ids(plan.index)
    return root / "annotation" / VIDOR_PART[plan.split] / directory / f"{vid}.json"


def stcat_annotation_file(root: Path, plan: VideoPlan) -> Path:
    return root / "bbox_annos" / f"{vidor_ids(plan.index)[1]}.json"


def write_video_annotation(
    annotation_file: Callable[[Path, VideoPlan], Path], root: Path, plan: VideoPlan
) -> None:
    """Write the VidOR file of one video (safe to run in parallel: one file per video)."""
    path = annotation_file(root, plan)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(vidor_annotation(plan))


class VidstgWriter:
    """Collects the sentence entries and video ids of each split; writes them when closed.

    ``sentence_dir``: where the sentence files go, relative to the root; ``video_lists``:
    whether to write ``<split>_files.json`` too (the original release has them, STCAT not).
    """

    def __init__(self, root: Path, sentence_dir: str = "", video_lists: bool = True) -> None:
        self.root = root
        self.sentence_dir = root / sentence_dir
        self.video_lists = video_lists
        self.entries: dict[str, list[dict]] = {}
        self.files: dict[str, list[str]] = {}

    def add(self, plan: VideoPlan) -> None:
        self.files.setdefault(plan.split, []).append(vidor_ids(plan.index)[1])
        split_entries = self.entries.setdefault(plan.split, [])
        split_entries.extend(sentence_entry(plan, entry) for entry in plan.entries)

    def close(self) -> None:
        self.sentence_dir.mkdir(parents=True, exist_ok=True)
        for split, vids in self.files.items():
            if self.video_lists:
                (self.sentence_dir / f"{split}_files.json").write_bytes(orjson.dumps(vids))
            (self.sentence_dir / f"{split}_annotations.json").write_bytes(
                orjson.dumps(self.entries[split])
            )
