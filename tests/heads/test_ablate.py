"""Ablation variants map onto configuration switches; results aggregate over seeds."""

from __future__ import annotations

import pytest

from heads.ablate import VariantResult, selected_variants, table3_variants
from heads.config import CSDVLConfig
from heads.metrics import Summary


def test_no_flags_give_table3_in_paper_order_and_names_match_the_config():
    variants = selected_variants()
    assert [v.name for v in variants] == ["none", "d2s", "s2d", "s2d+d2s"]
    assert [v.apply(CSDVLConfig()).variant_name() for v in variants] == [
        "none",
        "d2s",
        "s2d",
        "s2d+d2s",
    ]
    assert variants == table3_variants()


def test_flags_run_the_full_model_against_each_named_variant():
    variants = selected_variants(
        no_s2d=True, fusions=["sum", "concat-fc"], no_spatial=True, no_mean_pool=True
    )
    assert [v.name for v in variants] == [
        "s2d+d2s",
        "no-s2d",
        "fusion=sum",
        "fusion=concat-fc",
        "no-spatial",
        "no-mean-pool",
    ]
    configs = {v.name: v.apply(CSDVLConfig()) for v in variants}
    assert not configs["no-s2d"].uses_s2d and configs["no-s2d"].uses_d2s
    assert configs["fusion=sum"].fusion == "sum" and not configs["fusion=sum"].uses_d2s
    assert not configs["no-spatial"].dynamic_spatial
    assert not configs["no-mean-pool"].dynamic_mean_pool
    assert configs["s2d+d2s"] == CSDVLConfig()


def _summary(m_viou: float) -> Summary:
    return Summary(10, 0, m_viou, 0.5, 0.2, 0.4, 0.6)


def test_variant_result_reports_mean_and_population_std_over_seeds():
    result = VariantResult("none", [0, 1], ["r0", "r1"], [_summary(0.2), _summary(0.4)])
    assert result.mean("m_viou") == pytest.approx(0.3)
    assert result.std("m_viou") == pytest.approx(0.1)
    record = result.to_dict()
    assert record["m_viou_mean"] == pytest.approx(0.3) and record["viou_03_std"] == 0
    assert len(record["per_seed"]) == 2
