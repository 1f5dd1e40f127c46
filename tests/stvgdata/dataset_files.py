"""Tiny datasets in each real on-disk layout, built from one editable sample, for the adapter
and import tests. Each sample holds the boundary cases: a tube ending at the video's last frame
and a tube starting at its first frame."""

from __future__ import annotations

import copy
import json
from pathlib import Path


def vidor_file(vid: str, num_frames: int, boxes: dict[int, dict[int, list[float]]]) -> dict:
    """A VidOR per-video annotation: ``boxes[tid][frame] = [x1, y1, x2, y2]``."""
    trajectories: list[list[dict]] = [[] for _ in range(num_frames)]
    for tid, frames in boxes.items():
        for frame, (x1, y1, x2, y2) in frames.items():
            bbox = {"xmin": x1, "ymin": y1, "xmax": x2, "ymax": y2}
            trajectories[frame].append({"tid": tid, "bbox": bbox, "generated": 0, "tracker": "x"})
    return {
        "video_id": vid,
        "frame_count": num_frames,
        "fps": 5.0,
        "width": 64,
        "height": 48,
        "trajectories": trajectories,
    }


def _moving_box(frames: range, x: float) -> dict[int, list[float]]:
    return {f: [x + f, 10.0, x + f + 20.0, 40.0] for f in frames}


def vidstg_sample() -> dict:
    """Sentence entries per split, VidOR files per video and the split lists.

    v1 (train, 10 frames): entry 0's tube [4, 10) ends at frame_count (exclusive end_fid = 10);
    v2 (val, 8 frames): tube [0, 3) starts at frame 0.
    """
    objects = [{"tid": 0, "category": "adult"}, {"tid": 1, "category": "dog"}]
    v1 = {
        "vid": "v1",
        "fps": 5.0,
        "frame_count": 10,
        "width": 64,
        "height": 48,
        "subject/objects": objects,
        "used_segment": {"begin_fid": 0, "end_fid": 9},
        "used_relation": {
            "subject_tid": 0,
            "object_tid": 1,
            "predicate": "pat",
            "begin_fid": 4,
            "end_fid": 10,
        },
        "temporal_gt": {"begin_fid": 4, "end_fid": 10},
        "captions": [{"description": "an adult pats a dog.", "type": "person", "target_id": 0}],
        "questions": [
            {"description": "what does the adult pat?", "type": "object", "target_id": 1},
            {"description": "who pats the dog?", "type": "person", "target_id": 0},
        ],
    }
    v2 = {
        **copy.deepcopy(v1),
        "vid": "v2",
        "frame_count": 8,
        "used_segment": {"begin_fid": 0, "end_fid": 7},
        "temporal_gt": {"begin_fid": 0, "end_fid": 3},
        "captions": [{"description": "a dog runs.", "type": "object", "target_id": 1}],
        "questions": [],
    }
    return {
        "sentences": {"train": [v1], "val": [v2]},
        "vidor": {
            "v1": vidor_file(
                "v1", 10, {0: _moving_box(range(10), 1.0), 1: _moving_box(range(2, 10), 30.0)}
            ),
            "v2": vidor_file("v2", 8, {1: _moving_box(range(8), 5.0)}),
        },
        "split_lists": {"train": ["v1"], "val": ["v2"], "test": []},
    }


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def touch_video(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00not-really-a-video")


def write_vidstg_original(root: Path, sample: dict) -> Path:
    """VidSTG files in ``root/vidstg``, VidOR trees in ``root/vidor``."""
    for split, entries in sample["sentences"].items():
        write_json(root / "vidstg" / f"{split}_annotations.json", entries)
    for split, ids in sample["split_lists"].items():
        write_json(root / "vidstg" / f"{split}_files.json", ids)
    for vid, data in sample["vidor"].items():
        write_json(root / "vidor" / "annotation" / "training" / "0000" / f"{vid}.json", data)
        touch_video(root / "vidor" / "video" / "0000" / f"{vid}.mp4")
    return root


def write_vidstg_stcat(root: Path, sample: dict) -> Path:
    for split, entries in sample["sentences"].items():
        write_json(root / "sent_annos" / f"{split}_annotations.json", entries)
    for vid, data in sample["vidor"].items():
        write_json(root / "bbox_annos" / f"{vid}.json", data)
        touch_video(root / "videos" / f"{vid}.mp4")
    return root


def write_vidstg_tubedetr(root: Path, sample: dict) -> Path:
    """TubeDETR's preprocessing of the sample: one record per sentence, xywh trajectories."""
    running_id = 0
    for split, entries in sample["sentences"].items():
        records, trajectories = [], {}
        for entry in entries:
            vid = entry["vid"]
            for list_name, qtype in (("captions", "declarative"), ("questions", "interrogative")):
                for sentence in entry[list_name]:
                    records.append(
                        {
                            "video_id": running_id,
                            "original_video_id": vid,
                            "video_path": f"0000/{vid}.mp4",
                            "caption": sentence["description"],
                            "type": sentence["type"],
                            "qtype": qtype,
                            "target_id": sentence["target_id"],
                            "frame_count": entry["frame_count"],
                            "fps": entry["fps"],
                            "width": entry["width"],
                            "height": entry["height"],
                            "start_frame": entry["used_segment"]["begin_fid"],
                            "end_frame": entry["used_segment"]["end_fid"],
                            "tube_start_frame": entry["temporal_gt"]["begin_fid"],
                            "tube_end_frame": entry["temporal_gt"]["end_fid"],
                        }
                    )
                    running_id += 1
            for frame, items in enumerate(sample["vidor"][vid]["trajectories"]):
                for item in items:
                    b = item["bbox"]
                    xywh = [b["xmin"], b["ymin"], b["xmax"] - b["xmin"], b["ymax"] - b["ymin"]]
                    target = trajectories.setdefault(vid, {}).setdefault(str(item["tid"]), {})
                    target[str(frame)] = {"bbox": xywh}
        write_json(
            root / "annotations" / f"{split}.json",
            {"videos": records, "trajectories": trajectories},
        )
        for vid in {e["vid"] for e in entries}:
            touch_video(root / "video" / "0000" / f"{vid}.mp4")
    return root


def hcstvg_sample() -> dict:
    """split -> {file name: record}: a.mp4 starts at st_frame 1 (frame 0), b.mkv ends at img_num."""

    def record(st_frame: int, count: int, caption: str) -> dict:
        return {
            "bbox": [[2.0 + i, 4.0, 20.0, 30.0] for i in range(count)],
            "st_frame": st_frame,
            "st_time": (st_frame - 1) / 2.0,
            "ed_time": (st_frame - 1 + count) / 2.0,
            "img_num": 40,
            "caption": caption,
            "width": 64,
            "height": 48,
        }

    return {
        "train": {"a.mp4": record(1, 5, "the man in black sits down.")},
        "test": {"b.mkv": record(31, 10, "the woman turns and walks away.")},
    }


def to_hcstvg_v2(sample: dict) -> dict:
    """v2's field names: the sentence is ``English`` and the size is ``img_size = [h, w]``."""
    out = {}
    for split, records in sample.items():
        renamed = {}
        for key, rec in records.items():
            rec = dict(rec)
            rec["English"] = rec.pop("caption")
            rec["img_size"] = [rec.pop("height"), rec.pop("width")]
            renamed[key] = rec
        out["val" if split == "test" else split] = renamed
    return out


def write_hcstvg(root: Path, sample: dict, version: int = 1) -> Path:
    suffix = "" if version == 1 else "_v2"
    for split, records in sample.items():
        write_json(root / f"anno_v{version}" / f"{split}{suffix}.json", records)
        for key in records:
            touch_video(root / "video" / key)
    return root
