"""STOP's classification labels: none unless named, a user's table (CSV or Parquet), the
synthetic generator's motion phrases only on request, and a one-line refusal when the named
labels leave every training clip unlabelled."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from stvg.heads.stop.config import StopConfig
from stvg.heads.stop.labels import MOTIONS, SYNTHETIC_MOTION, load_labels, motion_class
from stvg.heads.stop.train import build_model, load_data, training_step
from stvg.stvgdata.errors import BadInputError
from tests.heads.stop.stop_workspace import DATASET, build_stop_workspace
from tests.helpers import quiet_random_init

CONFIG = StopConfig(vit_tiny=True, frames=3, num_spatial=2, max_temporal=3, epochs=1)
# the tiny workspace's train queries: videos a, b, c with two queries on one tube each
LABELS = {"a-q0": "wave", "a-q1": "wave", "b-q0": "run", "b-q1": "run", "c-q0": "wave"}


pytestmark = pytest.mark.usefixtures("quiet_random_init")


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    with quiet_random_init():
        return build_stop_workspace(tmp_path_factory.mktemp("stop-labels"))


def write_table(path: Path, rows: dict[str, str]) -> Path:
    table = pa.table({"query_id": list(rows), "label": list(rows.values())})
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        path.write_text("query_id,label\n" + "".join(f"{q},{v}\n" for q, v in rows.items()))
    return path


@pytest.mark.parametrize(
    ("sentence", "motion"),
    [
        ("the red square moves to the left.", "left"),
        ("what is moving up above a green square?", "up"),
        ("who is standing still to the left of a blue triangle?", "still"),
        ("The person in the red shirt jumps up and down.", "bounce"),
        ("which circle is bouncing up and down?", "bounce"),
        ("a sentence from a real dataset", None),
    ],
)
def test_motion_class_is_read_from_the_synthetic_verb_phrases(sentence, motion) -> None:
    index = motion_class(sentence)
    assert (MOTIONS[index].value if index >= 0 else None) == motion


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_label_table_gives_sorted_classes_per_query(tmp_path, suffix) -> None:
    labels = load_labels(str(write_table(tmp_path / f"labels{suffix}", LABELS)))
    assert labels.classes == ("run", "wave")
    assert labels.label("b-q0", "any sentence") == 0 and labels.label("a-q1", "") == 1
    assert labels.label("not-in-table", "the square moves to the left") == -1


def test_a_table_without_the_label_column_is_refused_in_one_line(tmp_path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("query_id,class\na-q0,wave\n")
    with pytest.raises(BadInputError, match="needs the columns query_id, label") as error:
        load_labels(str(path))
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_without_labels_no_clip_is_labelled_and_no_class_is_read_from_sentences(ws) -> None:
    data = load_data(ws, DATASET, CONFIG, "test")
    assert data.train.classes == () and data.train.clip_labels.tolist() == [-1, -1, -1]
    model = build_model(CONFIG, data.train)
    losses = training_step(model, data.train, torch.arange(3), torch.tensor([0, 2, 4]), CONFIG)
    assert losses["classification"].item() == 0.0


def test_a_label_table_labels_the_clips_and_trains_the_classifier(ws, tmp_path) -> None:
    config = dataclasses.replace(CONFIG, labels=str(write_table(tmp_path / "l.csv", LABELS)))
    data = load_data(ws, DATASET, config, "test")
    assert data.train.classes == ("run", "wave")
    # c's two queries disagree (c-q1 has no label): its clip is left out of classification
    assert data.train.clip_labels.tolist() == [1, 0, -1]
    assert data.eval.clip_labels.tolist() == [-1]
    model = build_model(config, data.train)
    assert model.classifier.out_features == 2
    losses = training_step(model, data.train, torch.arange(3), torch.tensor([0, 2, 4]), config)
    assert losses["classification"].item() > 0


def test_synthetic_motion_labels_on_other_sentences_are_refused(ws) -> None:
    """The tiny workspace's sentences name no synthetic motion, as a real dataset's would not."""
    config = dataclasses.replace(CONFIG, labels=SYNTHETIC_MOTION)
    with pytest.raises(BadInputError, match="no labels for classification") as error:
        load_data(ws, DATASET, config, "test")
    assert f"{DATASET}/train" in str(error.value)
