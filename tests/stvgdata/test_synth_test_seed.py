"""``test_seed``: the synthetic test split drawn from a seed of its own (a held-out test set)."""

from __future__ import annotations

import pytest

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.synth import generate


def _generate(root, test_seed=None):
    return generate(root, "vidstg", 20, 0, False, workers=1, detections=False, test_seed=test_seed)


def _split_files(root):
    names = (f"{split}_annotations.json" for split in ("train", "val", "test"))
    return {name: (root / name).read_bytes() for name in names}


def test_test_seed_changes_the_test_split_only(tmp_path):
    _generate(tmp_path / "dev")
    summary = _generate(tmp_path / "held-out", test_seed=1000)
    dev, held_out = _split_files(tmp_path / "dev"), _split_files(tmp_path / "held-out")
    assert dev["train_annotations.json"] == held_out["train_annotations.json"]
    assert dev["val_annotations.json"] == held_out["val_annotations.json"]
    assert dev["test_annotations.json"] != held_out["test_annotations.json"]
    assert summary.test_seed == 1000 and summary.splits["test"].videos > 0


def test_test_seed_must_differ_from_the_development_seed(tmp_path):
    with pytest.raises(BadInputError, match="test_seed"):
        _generate(tmp_path / "same", test_seed=0)
