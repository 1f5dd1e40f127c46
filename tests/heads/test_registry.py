"""The method registry: every method offers the same roles, names load lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stvg.heads.registry import METHODS, get_method, require
from stvg.stvgdata.errors import BadInputError


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_has_a_config_an_ablation_and_a_way_to_predict(name):
    method = get_method(name)
    assert method.name == name and method.variants
    assert callable(method.ablate) and method.default_config() is not None
    assert (method.train is not None) or (method.ground is not None)


def test_unknown_methods_and_missing_roles_are_one_line_errors():
    with pytest.raises(BadInputError, match="method: nope: unknown; choose from csdvl"):
        get_method("nope")
    with pytest.raises(BadInputError, match="e3m: has no train step"):
        require(get_method("e3m"), "train")


def test_listing_methods_imports_no_torch():
    code = "import sys, stvg.heads.registry as r; r.method_names(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
