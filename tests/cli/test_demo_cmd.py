"""``stvg demo``: its options build the demo's config, and a library error names the flag."""

from __future__ import annotations

import pytest

from stvg.heads.demo import DemoConfig
from stvg.stvgdata.demo import DemoDataConfig
from stvg.stvgdata.errors import BadInputError


@pytest.fixture
def configs(monkeypatch) -> list[DemoConfig]:
    """The configs ``stvg demo`` runs, in place of the demo, which refuses the epochs."""
    from stvg.cli import demo_cmd

    seen = []

    def refuse(ws, config, progress):
        seen.append(config)
        raise BadInputError.for_field("epochs", config.epochs, "too many for this test")

    monkeypatch.setattr(demo_cmd, "run_demo", refuse)
    return seen


def test_the_options_reach_the_config_and_errors_name_flags(run_cli, configs):
    args = ["--videos", "12", "--seed", "3", "--seeds", "2", "--epochs", "4", "--full-backbones"]
    result = run_cli("demo", *args, "--pretrained", "--weights", "resnet101=r101.pth")

    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --epochs: 4: too many for this test"
    config = configs[0]
    assert (config.seeds, config.epochs, config.patience, config.max_frames) == (2, 4, 2, 8)
    data = config.data
    assert (data.videos, data.seed, data.tiny_backbones, data.random_init) == (12, 3, False, False)
    assert data.weights == {"resnet101": "r101.pth"}  # passed on to the extraction


def test_with_random_init_the_demo_runs_its_defaults(run_cli, configs):
    assert run_cli("demo", "--random-init").exit_code == 2
    assert configs == [DemoConfig(DemoDataConfig(random_init=True))]


def test_random_init_is_never_implicit(run_cli, configs):
    result = run_cli("demo")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --random-init: False: the demo's tiny backbones")
    assert configs == []
