"""Plots from the runs and predictions tables: ablation bars over seeds, per-query vIoU of two
run groups; PNG or SVG by extension."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from stvg.heads.eval.evaluate import RunInfo, evaluate, load_ground_truth
from stvg.heads.eval.predictions import QueryPrediction, read_stvg_predictions
from stvg.heads.visualize.plots import ablation_bars, plot_ablation, plot_viou, viou_distributions
from stvg.stvgdata.catalog import query
from stvg.stvgdata.errors import BadInputError
from tests.heads.visualize.shown_workspace import DATASET, build_shown_workspace


def _shifted(prediction: QueryPrediction, shift: float) -> QueryPrediction:
    boxes = prediction.boxes + np.array([shift, 0, shift, 0])
    return QueryPrediction(
        prediction.query_id, prediction.start_frame, prediction.end_frame, prediction.frame_idx,
        boxes,
    )  # fmt: skip


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Variants "near" and "far" (boxes shifted 1 / 8 px more), two seeds each, evaluated."""
    ws, path = build_shown_workspace(tmp_path_factory.mktemp("plots"))
    predictions = read_stvg_predictions(path)
    ground_truth = load_ground_truth(ws, DATASET, "test")
    run_ids = {}
    for variant, shift in (("near", 1.0), ("far", 8.0)):
        for seed in (0, 1):
            shifted = {q: _shifted(p, shift + seed) for q, p in predictions.items()}
            run = RunInfo(f"{variant}-{seed}", "toy", variant, seed)
            evaluate(ws, DATASET, "test", shifted, "all-frames", run, ground_truth=ground_truth)
            run_ids.setdefault(variant, []).append(run.run_id)
    return ws, run_ids


def test_ablation_bars_are_mean_and_std_over_seeds(recorded, tmp_path):
    ws, _ = recorded
    bars = ablation_bars(ws, "toy", DATASET, "test", "all-frames", variants=["near", "far"])
    assert bars.variants == ["near", "far"] and bars.seed_counts == [2, 2]
    assert bars.means[0] > bars.means[1] and np.all(bars.stds > 0)
    recorded_viou = query(ws, "SELECT m_viou FROM runs WHERE variant = 'near' AND sentence_type"
                          " = 'all' ORDER BY seed")["m_viou"].to_pylist()  # fmt: skip
    assert bars.stds[0] == pytest.approx(np.std(recorded_viou, ddof=1))  # as `stvg ablate`
    low, high = bars.intervals[1]  # far - near, paired over the queries
    assert bars.intervals[0] is None and low <= high < 0
    out = plot_ablation(bars, "toy", tmp_path / "ablation.png")
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size[0] > 200


def test_viou_distributions_pair_the_groups_queries(recorded, tmp_path):
    ws, run_ids = recorded
    score_a, score_b = viou_distributions(ws, run_ids["near"], run_ids["far"])
    assert score_a.shape == score_b.shape == (4,) and np.all(score_a >= score_b)
    out = plot_viou(score_a, score_b, ("near", "far"), tmp_path / "viou.svg")
    assert "<svg" in out.read_text()


def test_unknown_variant_metric_and_extension_are_one_line_errors(recorded, tmp_path):
    ws, _ = recorded
    with pytest.raises(BadInputError, match="no runs of this variant"):
        ablation_bars(ws, "toy", DATASET, "test", "all-frames", variants=["nope"])
    with pytest.raises(BadInputError, match="must be one of"):
        ablation_bars(ws, "toy", DATASET, "test", "all-frames", metric="accuracy")
    bars = ablation_bars(ws, "toy", DATASET, "test", "all-frames")
    with pytest.raises(BadInputError, match=r"\.png, \.svg"):
        plot_ablation(bars, "toy", tmp_path / "ablation.pdf")
