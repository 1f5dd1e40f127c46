"""The ablation result every method reports: mean and sample std over seeds."""

import json

import pytest

from stvg.heads.eval.ablation import AblationResult, VariantResult
from stvg.heads.eval.metrics import Summary


def _summary(m_viou: float) -> Summary:
    return Summary(10, 0, m_viou, 0.5, 0.2, 0.4, 0.6)


def test_variant_result_reports_mean_and_sample_std_over_seeds():
    result = VariantResult("none", [0, 1])
    result.add_summary("r0", _summary(0.2))
    assert result.to_dict()["m_viou_std"] is None  # undefined for one seed
    result.add_summary("r1", _summary(0.4))
    assert result.mean("m_viou") == pytest.approx(0.3)
    assert result.std("m_viou") == pytest.approx(0.1 * 2**0.5)  # ddof 1
    record = result.to_dict()
    assert record["m_viou_mean"] == pytest.approx(0.3) and record["viou_03_std"] == 0
    assert len(record["per_seed"]) == 2


def test_a_metric_no_seed_has_is_nan_in_the_statistics_and_null_in_json():
    result = VariantResult("none", [0, 1], ("r_at_1", "accuracy"))
    result.add("r0", {"r_at_1": 0.5, "accuracy": None})
    result.add("r1", {"r_at_1": 0.7, "accuracy": None})
    assert result.mean("accuracy") != result.mean("accuracy")  # NaN
    record = result.to_dict()
    assert record["r_at_1_mean"] == pytest.approx(0.6)
    assert record["accuracy_mean"] is None and record["accuracy_std"] is None
    assert "m_viou_mean" not in record
    json.dumps(AblationResult("d", "test", "p", [result]).to_dict(), allow_nan=False)


def test_run_grid_runs_seed_major_and_collects_each_variant_in_table_order():
    from stvg.heads.eval.ablation import run_grid

    calls, ticks = [], []

    def run_one(scale: float, seed: int) -> tuple[str, dict]:
        calls.append((scale, seed))
        return f"r{scale}-{seed}", {"score": scale * (seed + 1)}

    results = run_grid(
        {"a": 1.0, "b": 2.0}, [0, 1], run_one, ("score",), lambda *tick: ticks.append(tick)
    )
    assert calls == [(1.0, 0), (2.0, 0), (1.0, 1), (2.0, 1)]  # all variants with seed 0 first
    assert [r.variant for r in results] == ["a", "b"]
    assert results[1].run_ids == ["r2.0-0", "r2.0-1"] and results[1].mean("score") == 3.0
    assert ticks[-1] == ("ablation", 4, 4)
