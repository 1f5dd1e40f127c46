"""Train and ablation requests check option combinations before any work, naming fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from stvg.heads.jobs import AblationJob, EvalJob, TrainJob
from stvg.stvgdata.errors import BadInputError


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: AblationJob("stop", "d", seeds=0), "seeds"),
        (lambda: AblationJob("stop", "d", protocol="sampled-5fps"), "protocol"),
        (lambda: AblationJob("cospal", "d", switches={"s2d": False}), "s2d"),
        (lambda: AblationJob("e3m", "d", preset="paper"), "preset"),
        (lambda: TrainJob("csdvl", "d", eval_split="test"), "eval_split"),
        (lambda: TrainJob("stop", "d", resume="r1"), "resume"),
        (lambda: TrainJob("csdvl", "d", options={"lr": 0.1}, resume="r1"), "resume"),
    ],
)
def test_bad_combinations_name_the_field(make, field) -> None:
    with pytest.raises(BadInputError) as error:
        make()
    assert error.value.field == field


def test_a_request_builds_the_methods_config_with_its_settings() -> None:
    request = AblationJob("csdvl", "d", "paper", {"epochs": 2, "features.frame": "x"})
    config = request.config()
    assert (config.name, config.train.epochs, config.train.features.frame) == ("paper", 2, "x")
    switched = AblationJob("csdvl", "d", switches={"s2d": False, "fusion": None})
    model, variants = switched.config().model, switched.ablate_options()["variants"]
    assert [v.apply(model).variant_name() for v in variants] == ["s2d+d2s", "d2s"]
    assert TrainJob("csdvl", "d", options={"epochs": 3}, resume="r1").resume == "r1"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({}, "run"),  # neither a run nor a file (and no training-free method)
        ({"run": "r1", "predictions": Path("p.json")}, "run"),
        ({"run": "r1", "overrides": {"iterations": "1"}}, "set"),
    ],
)
def test_an_eval_job_scores_exactly_one_source(kwargs, field) -> None:
    with pytest.raises(BadInputError) as error:
        EvalJob("d", "test", "all-frames", **kwargs)
    assert error.value.field == field


def test_a_training_free_method_alone_grounds_the_split() -> None:
    assert EvalJob("d", "test", "all-frames", method="e3m", overrides={"iterations": "1"}).grounds
    assert not EvalJob("d", "test", "all-frames", run="r1", method="e3m").grounds
