"""Every kind of bad input aborts the import with one line naming file, record and problem, and
leaves the catalog exactly as it was."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from stvg.stvgdata.catalog import read_index, read_table
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.importer import import_dataset
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.dataset_files import (
    hcstvg_sample,
    vidstg_sample,
    write_hcstvg,
    write_vidstg_original,
    write_vidstg_tubedetr,
)


@dataclass(frozen=True)
class Case:
    dataset: str
    write: Callable[[Path], Path]  # writes the broken dataset under the given dir, returns root
    message: str  # regex the one-line error must match: file, record, reason


def vidstg(mutate: Callable[[dict], None], writer=write_vidstg_original) -> Callable[[Path], Path]:
    def write(root: Path) -> Path:
        sample = vidstg_sample()
        mutate(sample)
        return writer(root, sample)

    return write


def hcstvg(mutate: Callable[[dict], None]) -> Callable[[Path], Path]:
    def write(root: Path) -> Path:
        sample = hcstvg_sample()
        mutate(sample)
        return write_hcstvg(root, sample)

    return write


def first_entry(sample: dict) -> dict:
    return sample["sentences"]["train"][0]


def not_json(root: Path) -> Path:
    write_vidstg_original(root, vidstg_sample())
    (root / "vidstg" / "train_annotations.json").write_text('[{"vid": "v1",')
    return root


def vidor_box(sample: dict, frame: int, tid: int) -> dict:
    items = sample["vidor"]["v1"]["trajectories"][frame]
    return next(item for item in items if item["tid"] == tid)["bbox"]


def tubedetr_duplicate_id(root: Path) -> Path:
    write_vidstg_tubedetr(root, vidstg_sample())
    path = root / "annotations" / "train.json"
    path.write_text(path.read_text().replace('"video_id": 1,', '"video_id": 0,'))
    return root


def tubedetr_frame_beyond(root: Path) -> Path:
    write_vidstg_tubedetr(root, vidstg_sample())
    path = root / "annotations" / "train.json"
    path.write_text(path.read_text().replace('"9": {"bbox"', '"12": {"bbox"', 1))
    return root


def set_in(path: list, value: object) -> Callable[[dict], None]:
    """A mutation setting ``sample[path[0]][path[1]]... = value``."""

    def mutate(sample: dict) -> None:
        target = sample
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def delete_vidor_file(root: Path) -> Path:
    write_vidstg_original(root, vidstg_sample())
    (root / "vidor" / "annotation" / "training" / "0000" / "v2.json").unlink()
    return root


def video_in_two_splits(sample: dict) -> None:
    sample["sentences"]["val"].append(first_entry(sample))
    sample["split_lists"]["val"].append("v1")


def unrelated_files(root: Path) -> Path:
    (root / "README.txt").write_text("not a dataset")
    return root


def hcstvg_duplicate(sample: dict) -> None:
    sample["test"]["a.mkv"] = sample["test"]["b.mkv"]


def replaced_by(kind: str, relative: str, write: Callable[[Path], Path]) -> Callable[[Path], Path]:
    """A writer whose file ``relative`` is replaced by a dangling symlink, a symlink loop or a
    directory: there, but unreadable (root reads files whatever their mode, so modes can't)."""

    def broken(root: Path) -> Path:
        write(root)
        path = root / relative
        path.unlink()
        if kind == "dangling":
            path.symlink_to(root / "nowhere.json")
        elif kind == "loop":
            path.symlink_to(path)
        else:
            path.mkdir()
        return root

    return broken


def good_vidstg(root: Path) -> Path:
    return write_vidstg_original(root, vidstg_sample())


def good_tubedetr(root: Path) -> Path:
    return write_vidstg_tubedetr(root, vidstg_sample())


def good_hcstvg(root: Path) -> Path:
    return write_hcstvg(root, hcstvg_sample())


def edited(write: Callable[[Path], Path], relative: str, old: str, new: str):
    """A writer whose file ``relative`` has its first ``old`` replaced by ``new`` (raw text:
    for what a JSON writer cannot produce, like a key given twice)."""

    def broken(root: Path) -> Path:
        write(root)
        path = root / relative
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))
        return root

    return broken


def repeated_hcstvg_key(root: Path) -> Path:
    """test.json holding b.mkv twice: a dict keeps one of the two records."""
    write_hcstvg(root, hcstvg_sample())
    path = root / "anno_v1" / "test.json"
    body = path.read_text().strip()[1:-1]
    path.write_text("{" + body + ", " + body.replace("walks away", "sits") + "}")
    return root


def vidor_item(frame: int, target: int, **changes: object) -> Callable[[dict], None]:
    def mutate(sample: dict) -> None:
        items = sample["vidor"]["v1"]["trajectories"][frame]
        item = next(item for item in items if item["tid"] == target)
        for key, value in changes.items():
            if key in item:
                item[key] = value
            else:
                item["bbox"][key] = value

    return mutate


TUBEDETR_TRAIN = "annotations/train.json"


CASES = {
    "non-json file": Case("vidstg", not_json, r"train_annotations\.json: not valid JSON"),
    "missing field": Case(
        "vidstg",
        vidstg(lambda s: first_entry(s).pop("temporal_gt")),
        r"train_annotations\.json: entry 0 \(vid v1\): missing required field 'temporal_gt'",
    ),
    "wrong type": Case(
        "vidstg",
        vidstg(set_in(["sentences", "train", 0, "frame_count"], "10")),
        r"train_annotations\.json: entry 0 \(vid v1\): field 'frame_count' must be an integer",
    ),
    "wrong type in list item": Case(
        "vidstg",
        vidstg(set_in(["sentences", "train", 0, "questions", 1, "target_id"], 0.5)),
        r"entry 0 \(vid v1\) questions\[1\]: field 'target_id' must be an integer, got float",
    ),
    "box x2 <= x1": Case(
        "vidstg",
        vidstg(lambda s: vidor_box(s, 5, 0).update(xmax=6.0)),
        r"v1\.json: video v1, target 0, frame 5: box \(6, 10, 6, 40\) has x2 <= x1",
    ),
    "box outside the frame": Case(
        "hcstvg-v1",
        hcstvg(set_in(["train", "a.mp4", "bbox", 2], [60.0, 4.0, 20.0, 30.0])),
        r"train\.json: video a\.mp4, frame 2: box \(60, 4, 80, 34\) lies outside the 64x48",
    ),
    "non-numeric box": Case(
        "hcstvg-v1",
        hcstvg(set_in(["train", "a.mp4", "bbox", 1], ["x", 4.0, 20.0, 30.0])),
        r"train\.json: video a\.mp4: field 'bbox' must be a list of \[x, y, w, h\]",
    ),
    "two boxes for one target": Case(
        "vidstg",
        vidstg(
            lambda s: s["vidor"]["v1"]["trajectories"][7].append(
                {"tid": 0, "bbox": vidor_box(s, 7, 0)}
            )
        ),
        r"v1\.json: video v1, target 0, frame 7: two boxes for one target",
    ),
    "malformed VidOR item": Case(
        "vidstg",
        vidstg(lambda s: vidor_box(s, 6, 0).pop("ymax")),
        r"v1\.json: video v1, trajectories\[6\]: malformed box item",
    ),
    "VidOR frames beyond the video": Case(
        "vidstg",
        vidstg(lambda s: s["vidor"]["v1"]["trajectories"].append([])),
        r"v1\.json: video v1: trajectories cover 11 frames, beyond the video's 10",
    ),
    "TubeDETR frame beyond the video": Case(
        "vidstg",
        tubedetr_frame_beyond,
        r"train\.json: videos\[0\] \(video_id 0\): trajectory frame index '12' is beyond",
    ),
    "temporal_gt beyond the video": Case(
        "vidstg",
        vidstg(set_in(["sentences", "train", 0, "temporal_gt", "end_fid"], 11)),
        r"entry 0 \(vid v1\): temporal_gt \[4, 11\) reaches beyond the video's frames \[0, 10\)",
    ),
    "HC-STVG tube beyond img_num": Case(
        "hcstvg-v1",
        hcstvg(set_in(["test", "b.mkv", "st_frame"], 32)),
        r"test\.json: video b\.mkv: tube \[31, 41\) reaches beyond the video's frames \[0, 40\)",
    ),
    "HC-STVG st_frame 0": Case(
        "hcstvg-v1",
        hcstvg(set_in(["train", "a.mp4", "st_frame"], 0)),
        r"train\.json: video a\.mp4: st_frame 0 is not 1-based",
    ),
    "tube end before start": Case(
        "vidstg",
        vidstg(set_in(["sentences", "train", 0, "temporal_gt"], {"begin_fid": 6, "end_fid": 3})),
        r"entry 0 \(vid v1\): temporal_gt end 3 is not after its start 6",
    ),
    "duplicate video across splits": Case(
        "vidstg",
        vidstg(video_in_two_splits),
        r"val_annotations\.json: entry 1 \(vid v1\): duplicate video id 'v1': already in split "
        r"train",
    ),
    "duplicate TubeDETR video_id": Case(
        "vidstg",
        tubedetr_duplicate_id,
        r"train\.json: videos\[1\] \(video_id 0\): duplicate video_id '0' \(also at .*videos\[0\]",
    ),
    "duplicate HC-STVG video": Case(
        "hcstvg-v1", hcstvg(hcstvg_duplicate), r"test\.json: video a\.mkv: duplicate video id 'a'"
    ),
    "unknown split": Case(
        "vidstg",
        vidstg(set_in(["split_lists", "train"], ["v9"])),
        r"train_annotations\.json: entry 0 \(vid v1\): unknown split: video v1 is not in "
        r"train_files\.json",
    ),
    "unknown target": Case(
        "vidstg",
        vidstg(set_in(["sentences", "train", 0, "captions", 0, "target_id"], 7)),
        r"captions\[0\]: target_id 7 is not among subject/objects",
    ),
    "missing VidOR file": Case(
        "vidstg", delete_vidor_file, r"v2\.json: video v2: VidOR annotation file not found"
    ),
    "dangling symlink for a split file": Case(
        "hcstvg-v1",
        replaced_by("dangling", "anno_v1/test.json", good_hcstvg),
        r"anno_v1/test\.json: cannot read file \(symbolic link to missing .*nowhere\.json\)$",
    ),
    "symlink loop for a sentence file": Case(
        "vidstg",
        replaced_by("loop", "vidstg/val_annotations.json", good_vidstg),
        r"val_annotations\.json: cannot read file \(Too many levels of symbolic links\)$",
    ),
    "dangling symlink for a split list": Case(
        "vidstg",
        replaced_by("dangling", "vidstg/train_files.json", good_vidstg),
        r"train_files\.json: cannot read file \(symbolic link to missing",
    ),
    "directory in place of a TubeDETR split file": Case(
        "vidstg",
        replaced_by("directory", "annotations/val.json", good_tubedetr),
        r"annotations/val\.json: cannot read file \(Is a directory\)$",
    ),
    "dangling symlink for a VidOR file": Case(
        "vidstg",
        replaced_by("dangling", "vidor/annotation/training/0000/v2.json", good_vidstg),
        r"v2\.json: cannot read file \(symbolic link to missing",
    ),
    # A key given twice in one JSON object: the parser would keep one value silently.
    "repeated HC-STVG video key": Case(
        "hcstvg-v1",
        repeated_hcstvg_key,
        r"anno_v1/test\.json: key 'b\.mkv' appears twice in one object",
    ),
    "repeated field in a VidSTG entry": Case(
        "vidstg",
        edited(
            good_vidstg,
            "vidstg/train_annotations.json",
            '"questions": [',
            '"questions": [], "questions": [',
        ),
        r"train_annotations\.json: key 'questions' appears twice in one object",
    ),
    "repeated video in TubeDETR trajectories": Case(
        "vidstg",
        edited(
            good_tubedetr,
            TUBEDETR_TRAIN,
            '"trajectories": {"v1": ',
            '"trajectories": {"v1": {}, "v1": ',
        ),
        r"train\.json: key 'v1' appears twice in one object",
    ),
    # Strict types: nothing is coerced.
    "VidOR tid float": Case(
        "vidstg",
        vidstg(vidor_item(5, 0, tid=2.7)),
        r"v1\.json: video v1, trajectories\[5\]: malformed box item \{\"tid\":2\.7,",
    ),
    "VidOR tid string": Case(
        "vidstg",
        vidstg(vidor_item(5, 0, tid="0")),
        r"v1\.json: video v1, trajectories\[5\]: malformed box item \{\"tid\":\"0\",",
    ),
    "VidOR corner boolean": Case(
        "vidstg",
        vidstg(vidor_item(6, 0, xmin=True)),
        r"v1\.json: video v1, trajectories\[6\]: malformed box item .*\"xmin\":true",
    ),
    "VidOR corner string": Case(
        "vidstg",
        vidstg(vidor_item(6, 0, ymax="40")),
        r"trajectories\[6\]: malformed box item .*expected \{tid: integer, bbox:",
    ),
    "VidOR frame null": Case(
        "vidstg",
        vidstg(set_in(["vidor", "v1", "trajectories", 6], None)),
        r"v1\.json: video v1, trajectories\[6\]: must be a list of box items$",
    ),
    "HC-STVG box boolean": Case(
        "hcstvg-v1",
        hcstvg(set_in(["train", "a.mp4", "bbox", 1], [2.0, True, 20.0, 30.0])),
        r"train\.json: video a\.mp4: field 'bbox' must be a list of \[x, y, w, h\] numbers$",
    ),
    "HC-STVG box string": Case(
        "hcstvg-v1",
        hcstvg(set_in(["train", "a.mp4", "bbox", 1], [2.0, "4", 20.0, 30.0])),
        r"train\.json: video a\.mp4: field 'bbox' must be a list of \[x, y, w, h\] numbers$",
    ),
    "HC-STVG box null": Case(
        "hcstvg-v1",
        hcstvg(set_in(["train", "a.mp4", "bbox", 1], None)),
        r"train\.json: video a\.mp4: field 'bbox' must be a list of \[x, y, w, h\] numbers$",
    ),
    "HC-STVG record null": Case(
        "hcstvg-v1",
        hcstvg(set_in(["train", "a.mp4"], None)),
        r"train\.json: video a\.mp4: expected an object, got null$",
    ),
    "TubeDETR box string": Case(
        "vidstg",
        edited(good_tubedetr, TUBEDETR_TRAIN, '"5": {"bbox": [6.0,', '"5": {"bbox": ["6.0",'),
        r"train\.json: videos\[0\] \(video_id 0\): trajectory boxes must be a list of "
        r"\[x, y, w, h\] numbers$",
    ),
    "integer beyond int32": Case(
        "vidstg",
        vidstg(set_in(["sentences", "train", 0, "frame_count"], 2**40)),
        r"entry 0 \(vid v1\): field 'frame_count' 1099511627776 does not fit a 32-bit integer$",
    ),
    "integer beyond 64 bits": Case(
        "hcstvg-v1",
        hcstvg(set_in(["train", "a.mp4", "st_frame"], 2**70)),
        r"train\.json: video a\.mp4: field 'st_frame' \d+ does not fit a 32-bit integer$",
    ),
    "null field": Case(
        "vidstg",
        vidstg(set_in(["sentences", "train", 0, "fps"], None)),
        r"entry 0 \(vid v1\): field 'fps' must be a number, got null$",
    ),
    "fps 0": Case(
        "vidstg",
        vidstg(set_in(["sentences", "train", 0, "fps"], 0)),
        r"entry 0 \(vid v1\): field 'fps' must be > 0, got 0",
    ),
    "TubeDETR fps negative": Case(
        "vidstg",
        edited(good_tubedetr, TUBEDETR_TRAIN, '"fps": 5.0', '"fps": -5.0'),
        r"train\.json: videos\[0\] \(video_id 0\): field 'fps' must be > 0, got -5",
    ),
    "zero frame width": Case(
        "hcstvg-v1",
        hcstvg(set_in(["test", "b.mkv", "width"], 0)),
        r"test\.json: video b\.mkv: field 'width' must be > 0, got 0$",
    ),
    "zero img_num": Case(
        "hcstvg-v1",
        hcstvg(set_in(["test", "b.mkv", "img_num"], 0)),
        r"test\.json: video b\.mkv: field 'img_num' must be > 0, got 0$",
    ),
    "whitespace sentence": Case(
        "vidstg",
        vidstg(set_in(["sentences", "train", 0, "questions", 0, "description"], "  \t")),
        r"entry 0 \(vid v1\) questions\[0\]: field 'description' is empty$",
    ),
    "empty HC-STVG caption": Case(
        "hcstvg-v1",
        hcstvg(set_in(["train", "a.mp4", "caption"], "")),
        r"train\.json: video a\.mp4: field 'caption' is empty$",
    ),
    "empty vid": Case(
        "vidstg",
        vidstg(set_in(["sentences", "train", 0, "vid"], "")),
        r"entry 0 \(vid \): vid '' is empty$",
    ),
    "vid escaping the root": Case(
        "vidstg",
        vidstg(set_in(["sentences", "train", 0, "vid"], "../v1")),
        r"entry 0 \(vid \.\./v1\): vid '\.\./v1' contains a path separator$",
    ),
    "vid dot-dot": Case(
        "vidstg",
        vidstg(set_in(["sentences", "train", 0, "vid"], "..")),
        r"vid '\.\.' is a relative path$",
    ),
    "HC-STVG key escaping the root": Case(
        "hcstvg-v1",
        hcstvg(lambda s: s["train"].update({"../a.mp4": s["train"].pop("a.mp4")})),
        r"train\.json: video \.\./a\.mp4: video file name '\.\./a\.mp4' contains a path",
    ),
    "ids colliding as HDF5 keys": Case(
        "hcstvg-v1",
        hcstvg(lambda s: s["train"].update({"x/a.mp4": s["train"].pop("a.mp4")})),
        r"video file name 'x/a\.mp4' contains a path separator$",
    ),
    "TubeDETR video_path escaping the root": Case(
        "vidstg",
        edited(
            good_tubedetr,
            TUBEDETR_TRAIN,
            '"video_path": "0000/v1.mp4"',
            '"video_path": "../../v1.mp4"',
        ),
        r"videos\[0\] \(video_id 0\): video_path '\.\./\.\./v1\.mp4' is not a path inside",
    ),
    "TubeDETR absolute video_path": Case(
        "vidstg",
        edited(
            good_tubedetr,
            TUBEDETR_TRAIN,
            '"video_path": "0000/v1.mp4"',
            '"video_path": "/etc/v1.mp4"',
        ),
        r"video_path '/etc/v1\.mp4' is not a path inside the root$",
    ),
    "split list of integers": Case(
        "vidstg",
        vidstg(set_in(["split_lists", "train"], [1])),
        r"train_files\.json: video ids must all be strings$",
    ),
    "tid listed twice": Case(
        "vidstg",
        vidstg(lambda s: first_entry(s)["subject/objects"].append({"tid": 1, "category": "cat"})),
        r"entry 0 \(vid v1\) subject/objects\[2\]: tid 1 is listed twice$",
    ),
    "unknown dataset": Case(
        "vidstg-v9", lambda root: root, r"^dataset: vidstg-v9: unknown dataset"
    ),
    "empty root": Case("vidstg", lambda root: root, r": root is empty$"),
    "missing root": Case("vidstg", lambda root: root / "nope", r"nope: root is not a directory$"),
    "no layout under root": Case(
        "hcstvg-v2",
        unrelated_files,
        r": no hcstvg-v2 layout found \(expected release: HC-STVG v2",
    ),
}


@pytest.fixture
def populated(tmp_path: Path) -> Workspace:
    """A workspace holding good vidstg and hcstvg-v1 imports."""
    ws = Workspace(tmp_path / "ws")
    import_dataset(ws, "vidstg", write_vidstg_original(tmp_path / "good-vidstg", vidstg_sample()))
    import_dataset(ws, "hcstvg-v1", write_hcstvg(tmp_path / "good-hcstvg", hcstvg_sample()))
    return ws


def snapshot(ws: Workspace) -> tuple:
    files = sorted(p.relative_to(ws.root) for p in ws.root.rglob("*") if p.name != ".lock")
    tables = tuple(read_table(ws, name).to_pylist() for name in ("videos", "queries", "boxes"))
    return read_index(ws), files, tables


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_and_leaves_catalog_untouched(populated, tmp_path, name):
    case = CASES[name]
    bad_root = tmp_path / "bad"
    bad_root.mkdir()
    root = case.write(bad_root)
    before = snapshot(populated)
    with pytest.raises(BadInputError) as caught:
        import_dataset(populated, case.dataset, root)
    message = str(caught.value)
    assert "\n" not in message
    assert re.search(case.message, message), message
    assert snapshot(populated) == before


def test_bad_input_error_survives_worker_processes():
    import pickle

    error = BadInputError("f.json", "video v1", "broken")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.file, copy.record, copy.reason, str(copy)) == (
        "f.json",
        "video v1",
        "broken",
        "f.json: video v1: broken",
    )


def test_a_directory_that_cannot_be_listed_is_bad_input(populated, tmp_path, monkeypatch):
    """An unlistable folder may hold a split: refuse rather than import without it (root can
    list any folder, so the permission error is simulated)."""
    import stvg.stvgdata.adapters.base as base

    root = write_hcstvg(tmp_path / "bad", hcstvg_sample())
    (root / "locked").mkdir()
    real_scandir = base.os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(base.os, "scandir", scandir)
    (root / "anno_v1" / "test.json").unlink()  # test.json is searched for, down to locked/
    before = snapshot(populated)
    with pytest.raises(
        BadInputError, match=r"locked: cannot list directory \(Permission denied\)$"
    ):
        import_dataset(populated, "hcstvg-v1", root)
    assert snapshot(populated) == before
