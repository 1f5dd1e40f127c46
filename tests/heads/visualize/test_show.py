"""Pictures of a predictions file's queries: each output kind, where the GT box is drawn, and
the worst / best picks."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image

from stvg.heads.eval.evaluate import RunInfo, evaluate
from stvg.heads.eval.predictions import read_stvg_predictions
from stvg.heads.visualize.draw import GT_COLOUR, PRED_COLOUR, annotate_frame, frame_scale
from stvg.heads.visualize.show import ShowRequest, output_paths, show
from stvg.stvgdata.errors import BadInputError
from tests.heads.visualize.shown_workspace import DATASET, SHIFTS, build_shown_workspace


@pytest.fixture(scope="module")
def shown(tmp_path_factory):
    return build_shown_workspace(tmp_path_factory.mktemp("shown"))


def _show(shown, out, **kwargs):
    ws, predictions = shown
    request = ShowRequest(out=out, predictions=predictions, dataset=DATASET, **kwargs)
    return show(ws, request)


def test_png_is_a_titled_contact_sheet_of_the_chosen_frames(shown, tmp_path):
    (item,) = _show(shown, tmp_path / "q.png", query_ids=["t0-q1"], max_frames=8)
    assert item.scene.sentence.startswith("the red square moves 1")
    assert item.scene.viou == pytest.approx(np.nanmean(item.scene.ious))  # span = tube
    with Image.open(item.path) as sheet:
        width, height = sheet.size
    assert width == 4 * 3 * 64  # four frames across, small frames drawn 3 times larger
    assert height > 2 * (3 * 48 + 14)  # two rows of frame + timeline, under the title band


def test_gif_has_one_picture_per_frame_and_mp4_the_whole_clip(shown, tmp_path):
    (gif,) = _show(shown, tmp_path / "q.gif", query_ids=["t0-q0"], max_frames=4)
    with Image.open(gif.path) as image:
        assert image.n_frames == 4
    (mp4,) = _show(shown, tmp_path / "q.mp4", query_ids=["t0-q0"])
    with av.open(str(mp4.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert sum(1 for _ in container.decode(stream)) == len(mp4.scene.frame_idx) > 4


def test_gt_box_pixels_are_drawn_where_the_box_is(shown, tmp_path):
    (item,) = _show(shown, tmp_path / "q.png", query_ids=["t1-q1"], max_frames=2)
    scene = item.scene
    row = int(np.flatnonzero(scene.has_gt)[0])
    rgb = np.full((48, 64, 3), 40, np.uint8)
    pixels = np.asarray(annotate_frame(scene, row, rgb))
    scale = frame_scale(scene)
    x1, y1, x2, y2 = (scene.gt_boxes[row] * scale).round().astype(int)
    mid_y = (y1 + y2) // 2
    assert tuple(pixels[mid_y, x1]) == GT_COLOUR  # left edge of the GT box
    assert tuple(pixels[mid_y, x1 - 2]) == (0, 0, 0)  # its black outline
    px = int(round(scene.pred_boxes[row][2] * scale))
    assert tuple(pixels[mid_y, px]) == PRED_COLOUR  # right edge of the (shifted) prediction
    assert tuple(pixels[mid_y, x1 - 5]) == (40, 40, 40)  # beyond the outline: the frame


def test_worst_and_best_rank_by_viou_within_a_sentence_type(shown, tmp_path):
    worst = _show(shown, tmp_path / "w.png", worst=2, max_frames=1)
    assert [w.scene.query_id for w in worst] == ["t1-q1", "t1-q0"]  # largest shifts
    assert [w.path.name for w in worst] == ["w-01-t1-q1.png", "w-02-t1-q0.png"]
    best = _show(shown, tmp_path / "b.png", best=1, sentence_type="interrogative", max_frames=1)
    assert [b.scene.query_id for b in best] == ["t0-q1"]
    assert min(SHIFTS.values()) == 0.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"query_ids": ["nope"]}, "no such query"),
        ({"worst": 1, "sentence_type": "rhetorical"}, "no such queries"),
        ({"worst": 0}, "1 or more"),
        ({"query_ids": ["t0-q0"], "internals": True}, "needs `run` of a csdvl run"),
    ],
)
def test_bad_requests_are_one_line_errors(shown, tmp_path, kwargs, message):
    with pytest.raises(BadInputError, match=message):
        _show(shown, tmp_path / "q.png", **kwargs)


def test_output_kind_and_folder_are_checked_before_any_work(shown, tmp_path):
    with pytest.raises(BadInputError, match="must end in"):
        _show(shown, tmp_path / "q.jpg", query_ids=["t0-q0"])
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(BadInputError, match="cannot write"):
        _show(shown, blocker / "q.png", query_ids=["t0-q0"])


def test_ranked_outputs_are_numbered_and_ids_made_file_safe(tmp_path):
    paths = output_paths(tmp_path / "w.mp4", ["0007@13/d0", "b"], ranked=True)
    assert [p.name for p in paths] == ["w-01-0007@13_d0.mp4", "w-02-b.mp4"]
    assert output_paths(tmp_path / "q.png", ["a/b"], ranked=False) == [tmp_path / "q.png"]


def test_a_run_recorded_by_eval_is_drawn_from_its_recorded_predictions(shown, tmp_path):
    ws, path = shown
    run = RunInfo("e3m-recorded", "e3m")
    evaluate(ws, DATASET, "test", read_stvg_predictions(path), "all-frames", run)
    (item,) = show(ws, ShowRequest(out=tmp_path / "r.png", run=run.run_id, worst=1))
    (direct,) = _show(shown, tmp_path / "f.png", query_ids=["t1-q1"])
    assert item.scene.query_id == "t1-q1" and item.scene.source == "run e3m-recorded"
    assert item.scene.viou == pytest.approx(direct.scene.viou)
    np.testing.assert_allclose(item.scene.pred_boxes, direct.scene.pred_boxes)


def test_show_pictures_rows_and_internals_only_for_a_method_that_draws_them(
    shown, tmp_path, monkeypatch
):
    import types

    import stvg.heads.visualize.show as show_module

    ws, predictions = shown
    request = ShowRequest(out=tmp_path / "q.png", predictions=predictions, dataset=DATASET,
                          query_ids=["t0-q0"])  # fmt: skip
    (row,) = show_module.show_pictures(ws, request)
    assert row["query_id"] == "t0-q0" and row["path"] == str(tmp_path / "q.png")
    run_request = ShowRequest(out=tmp_path / "r.png", run="r", worst=1, internals=True)
    monkeypatch.setattr(show_module, "show", lambda *_: [])
    monkeypatch.setattr(show_module, "read_run", lambda *_: types.SimpleNamespace(method="e3m"))
    with pytest.raises(BadInputError, match="needs `run` of a csdvl run") as caught:
        show_module.show_pictures(ws, run_request)
    assert caught.value.field == "internals"
