"""Ablation variants map onto configuration switches and are named by the model they train;
two switches that make the same model are refused."""

from __future__ import annotations

import pytest

from stvg.heads.csdvl.ablate import selected_variants, table3_variants, variant_configs
from stvg.heads.csdvl.config import CSDVLConfig
from stvg.stvgdata.errors import BadInputError


def test_no_flags_give_table3_in_paper_order_named_by_the_model():
    variants = selected_variants()
    assert [v.apply(CSDVLConfig()).variant_name() for v in variants] == [
        "none",
        "d2s",
        "s2d",
        "s2d+d2s",
    ]
    assert variants == table3_variants()


def test_flags_run_the_full_model_against_the_model_each_switch_makes():
    variants = selected_variants(
        no_s2d=True, no_d2s=True, fusions=["sum", "concat-fc"], no_spatial=True, no_mean_pool=True
    )
    configs = variant_configs(variants, CSDVLConfig())
    assert list(configs) == [
        "s2d+d2s",
        "d2s",  # --no-s2d trains the d2s model: the name Table 3 and SQL use
        "s2d",
        "fusion=sum",
        "fusion=concat-fc",
        "s2d+d2s+no-spatial",
        "s2d+d2s+no-mean-pool",
    ]
    assert not configs["d2s"].uses_s2d and configs["d2s"].uses_d2s
    assert configs["s2d"].uses_s2d and not configs["s2d"].uses_d2s
    assert configs["fusion=sum"].fusion == "sum" and not configs["fusion=sum"].uses_d2s
    assert not configs["s2d+d2s+no-spatial"].dynamic_spatial
    assert not configs["s2d+d2s+no-mean-pool"].dynamic_mean_pool
    assert configs["s2d+d2s"] == CSDVLConfig()


def test_names_carry_the_base_configs_anchor():
    base = CSDVLConfig(anchor="static+d2s")
    names = list(variant_configs(selected_variants(no_s2d=True, no_d2s=True), base))
    # without d2s the d2s anchor is the static one: "s2d" is the model of the default anchor
    assert names == ["s2d+d2s[anchor=static+d2s]", "d2s[anchor=static+d2s]", "s2d"]


@pytest.mark.parametrize(
    "base, switches, field",
    [
        (CSDVLConfig(), {"fusions": ["sum", "sum"]}, "fusion"),
        (CSDVLConfig(dynamic_spatial=False), {"no_spatial": True}, "dynamic_spatial"),
        (CSDVLConfig(dynamic_mean_pool=False), {"no_mean_pool": True}, "dynamic_mean_pool"),
    ],
)
def test_two_switches_that_make_the_same_model_are_refused(base, switches, field):
    with pytest.raises(BadInputError) as error:
        variant_configs(selected_variants(**switches), base)
    assert error.value.field == field and "same model" in error.value.reason
