"""Encoded videos: they decode to the declared size and frame count, the target is drawn
where its annotated box says, and the same frames always give the same file."""

from __future__ import annotations

import json

import av
import numpy as np

from stvg.stvgdata.geometry import box_iou
from stvg.stvgdata.synth import default_config, generate, with_overrides
from stvg.stvgdata.synth.encode import write_mp4
from stvg.stvgdata.synth.render import draw_background
from stvg.stvgdata.synth.scene import COLOURS

TOLERANCE = 45
"""Max per-channel difference after yuv420p + H.264 at the box centre."""


def colour_named(sentence: str) -> str:
    return next(word for word in sentence.split() if word in COLOURS)


def decode(path):
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def unoccluded(boxes_by_tid, target):
    """Whether no other object's box touches the target's box on this frame."""
    mine = np.array(boxes_by_tid[target], float)
    return all(
        box_iou(mine, np.array(other, float)) == 0
        for tid, other in boxes_by_tid.items()
        if tid != target
    )


def centre_colour(frame, box):
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    return frame[cy - 1 : cy + 2, cx - 1 : cx + 2].reshape(-1, 3).mean(axis=0)


def test_vidstg_videos_decode_and_show_the_target_in_its_box(tmp_path):
    config = with_overrides(
        "vidstg",
        default_config("vidstg"),
        width=192,
        height=112,
        fps=5.0,
        video_seconds=6.0,
        tube_seconds=2.0,
    )
    out = tmp_path / "vidstg"
    generate(out, "vidstg", 2, 4, config=config)
    checked = 0
    for vid in json.loads((out / "train_files.json").read_text()):
        (annotation,) = (out / "annotation" / "training").glob(f"*/{vid}.json")
        video = json.loads(annotation.read_text())
        frames = decode(out / "video" / video["video_path"])
        assert len(frames) == video["frame_count"]
        assert frames[0].shape == (video["height"], video["width"], 3)
        colour_of = {}
        for entry in json.loads((out / "train_annotations.json").read_text()):
            if entry["vid"] != vid:
                continue
            tube = entry["temporal_gt"]
            target = entry["captions"][0]["target_id"]
            colour_of[target] = colour_named(entry["captions"][0]["description"])
            for frame_idx in range(tube["begin_fid"], tube["end_fid"], 3):
                boxes = {
                    item["tid"]: [item["bbox"][k] for k in ("xmin", "ymin", "xmax", "ymax")]
                    for item in video["trajectories"][frame_idx]
                }
                if not unoccluded(boxes, target):
                    continue
                expected = np.array(COLOURS[colour_of[target]], float)
                got = centre_colour(frames[frame_idx], boxes[target])
                assert np.abs(got - expected).max() < TOLERANCE, (vid, frame_idx, target)
                checked += 1
    assert checked >= 5


def test_hcstvg_video_has_img_num_frames_and_the_person_in_the_box(tmp_path):
    config = with_overrides(
        "hcstvg-v1", default_config("hcstvg-v1"), width=192, height=112, fps=2.0
    )
    out = tmp_path / "hc"
    generate(out, "hcstvg-v1", 1, 2, config=config)
    ((name, record),) = json.loads((out / "train.json").read_text()).items()
    frames = decode(out / "video" / name)
    assert len(frames) == record["img_num"] == 40
    assert frames[0].shape == (record["height"], record["width"], 3)
    colour = colour_named(record["caption"])
    start = record["st_frame"] - 1
    centres = [
        centre_colour(frames[start + i], (x, y, x + w, y + h))
        for i, (x, y, w, h) in enumerate(record["bbox"])
    ]
    close = [np.abs(c - np.array(COLOURS[colour], float)).max() < TOLERANCE for c in centres]
    assert np.mean(close) > 0.5  # other people may pass in front at times


def test_frames_are_not_flat_outside_the_objects(tmp_path):
    config = with_overrides("hcstvg-v2", default_config("hcstvg-v2"), width=128, height=64, fps=1.0)
    generate(tmp_path / "hc2", "hcstvg-v2", 1, 0, config=config)
    (path,) = (tmp_path / "hc2" / "video").iterdir()
    frame = decode(path)[0].astype(float)
    assert frame.std(axis=(0, 1)).min() > 5


def test_the_same_frames_always_encode_to_the_same_bytes(tmp_path):
    """x264's macroblock-tree rate control gave other bytes for the same frames every few
    encodes (so the demo's features, and everything trained on them, changed between runs)."""
    background = draw_background(np.random.default_rng(1), 192, 112)

    def frames():
        for t in range(50):
            frame = background.copy()
            x = 3 * t
            frame[30:70, x : x + 24] = (250, 80, 30)
            frame[60:90, 160 - x : 180 - x] = (30, 200, 90)
            yield frame

    encoded = set()
    for attempt in range(20):
        path = tmp_path / f"{attempt}.mp4"
        write_mp4(path, frames(), fps=5.0)
        encoded.add(path.read_bytes())
    assert len(encoded) == 1
