"""VidOR files are decoded typed first and generically on any refusal: the typed decoder changes
what an import costs, never what it accepts or the boxes it reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import pytest

from stvg.stvgdata.adapters import vidor
from stvg.stvgdata.catalog import read_table
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.importer import import_dataset
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.dataset_files import vidstg_sample, write_vidstg_original


def v1_job(root: Path) -> vidor.TrajectoryJob:
    """The sample's v1 file with both targets' tubes (as the sentence reader asks for them)."""
    return vidor.TrajectoryJob(
        file=root / "vidor" / "annotation" / "training" / "0000" / "v1.json",
        video_id="v1",
        num_frames=10,
        width=64,
        height=48,
        tubes=((0, 4, 10), (1, 4, 10), (1, 0, 6)),
    )


def generic_tubes(job: vidor.TrajectoryJob) -> list[vidor.Tube]:
    trajectories = orjson.loads(job.file.read_bytes())["trajectories"]
    return vidor._tubes(job, trajectories, vidor.JSON_ITEMS)


def assert_same_tubes(got: list[vidor.Tube], expected: list[vidor.Tube]) -> None:
    assert len(got) == len(expected)
    for (frames, boxes), (want_frames, want_boxes) in zip(got, expected, strict=True):
        assert frames.dtype == want_frames.dtype and boxes.dtype == want_boxes.dtype
        np.testing.assert_array_equal(frames, want_frames)
        np.testing.assert_array_equal(boxes, want_boxes)


def test_well_formed_files_skip_the_generic_parser(tmp_path, monkeypatch):
    job = v1_job(write_vidstg_original(tmp_path, vidstg_sample()))
    expected = generic_tubes(job)

    def generic_parse(*args, **kwargs):
        raise AssertionError("the generic parser ran on a well-formed file")

    monkeypatch.setattr(vidor, "load_json", generic_parse)
    assert_same_tubes(vidor.read_tubes(job), expected)
    assert [len(frames) for frames, _ in expected] == [6, 6, 4]


def rewrite_v1(root: Path, edit) -> None:
    path = v1_job(root).file
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def test_what_only_the_generic_path_accepts_still_imports(tmp_path):
    """A non-target object without a box and a frame outside every tube that is not a list: the
    typed decoder refuses the file, the importer (which reads neither) does not."""
    root = write_vidstg_original(tmp_path, vidstg_sample())
    job = v1_job(root)
    expected = generic_tubes(job)

    def edit(document: dict) -> None:
        document["trajectories"][5].append({"tid": 7, "generated": 1})
        document["trajectories"].append(None)  # frame 10 of 11: beyond the video, see below

    rewrite_v1(root, edit)
    with pytest.raises(BadInputError, match="trajectories cover 11 frames"):
        vidor.read_tubes(job)
    rewrite_v1(root, lambda document: document["trajectories"].pop())
    assert_same_tubes(vidor.read_tubes(job), expected)
    clean = write_vidstg_original(tmp_path / "clean", vidstg_sample())
    for name, layout_root in (("edited", root), ("clean", clean)):
        import_dataset(Workspace(tmp_path / name / "ws"), "vidstg", layout_root, check_videos=False)
    edited, unedited = (
        read_table(Workspace(tmp_path / n / "ws"), "boxes") for n in ("edited", "clean")
    )
    assert edited.num_rows == 21 and edited.equals(unedited)


def invalid_utf8_in_an_unread_field(root: Path) -> None:
    path = v1_job(root).file
    path.write_bytes(path.read_bytes().replace(b'"tracker": "x"', b'"tracker": "\xff"', 1))


def float_tid_on_a_tube_frame(root: Path) -> None:
    rewrite_v1(root, lambda document: document["trajectories"][5][0].update(tid=0.0))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (invalid_utf8_in_an_unread_field, r"v1\.json: not valid JSON"),
        (float_tid_on_a_tube_frame, r"v1\.json: video v1, trajectories\[5\]: malformed box item"),
    ],
)
def test_refusals_are_the_generic_paths(tmp_path, edit, message):
    root = write_vidstg_original(tmp_path, vidstg_sample())
    edit(root)
    with pytest.raises(BadInputError, match=message):
        import_dataset(Workspace(tmp_path / "ws"), "vidstg", root, check_videos=False)
