"""``run_demo``: the demo's data, the Table 3 grid on it scored on the held-out test split, and
the baselines, in one call; a schedule that cannot run is refused naming its field."""

from __future__ import annotations

import pytest

from stvg.heads.demo import DemoConfig, run_demo
from stvg.stvgdata.catalog import query
from stvg.stvgdata.demo import DemoDataConfig, demo_data_root
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace


@pytest.mark.slow
@pytest.mark.usefixtures("quiet_random_init")
def test_the_demo_prepares_data_ablates_and_adds_baselines(tmp_path):
    ws = Workspace(tmp_path / "ws")
    data = DemoDataConfig(videos=8, input_size=(64, 96), random_init=True)
    demo = run_demo(ws, DemoConfig(data, epochs=1, max_frames=2))

    assert demo.data.root == demo_data_root(ws) and demo.data.synth is not None
    ablation = demo.ablation
    assert (ablation.dataset, ablation.split) == ("vidstg", "test")
    assert [v.variant for v in ablation.variants] == ["none", "d2s", "s2d", "s2d+d2s"]
    assert ablation.baselines and ablation.baseline == "none"
    rows = query(ws, "SELECT DISTINCT variant, split FROM runs WHERE method = 'csdvl'")
    assert {(r["variant"], r["split"]) for r in rows.to_pylist()} == {
        (name, "test") for name in ("none", "d2s", "s2d", "s2d+d2s")
    }


@pytest.mark.parametrize("field", ["seeds", "epochs", "patience", "max_frames"])
def test_a_schedule_below_one_names_the_field(field):
    with pytest.raises(BadInputError) as error:
        DemoConfig(DemoDataConfig(random_init=True), **{field: 0})
    assert error.value.field == field
