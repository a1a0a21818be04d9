"""Parameter precedence: defaults < parameter file (TOML / stpipe ASDF) < command line."""

import asdf
import pytest

from jwcore.errors import ParameterError
from jwcore.runner import Param, Pipeline
from jwcore.runner.config import load_param_file, merge, parse_cli_overrides

from . import toy_plugin


@pytest.fixture
def reg(jwcal_pm):
    jwcal_pm.register_plugin(toy_plugin, name="toy")
    return jwcal_pm.registry


def _build(reg, *layers):
    return Pipeline(reg.pipeline("toy1", "TOYCAM"), reg, merge(*layers))


def test_precedence(reg, tmp_path):
    toml = tmp_path / "p.toml"
    toml.write_text('save_results = false\n[steps.toy_add]\nvalue = 5.0\nuse_gain = true\n[steps.toy_collapse]\nscale = 3\n')
    cli = parse_cli_overrides(["--steps.toy_add.value=7", "--steps.toy_collapse.skip", "true"])
    p = _build(reg, load_param_file(toml), cli)
    add, collapse = p.steps
    assert add.value == 7.0            # CLI beats file
    assert add.use_gain is True        # file beats default
    assert collapse.scale == 3.0 and collapse.skip is True
    assert p.save_results is False
    d = _build(reg)
    assert d.steps[0].value == 1.0 and d.steps[0].use_gain is False and d.save_results is True


def test_stpipe_asdf_parameter_file(reg, tmp_path):
    tree = {"class": "jwst.pipeline.Toy1Pipeline", "name": "Toy1Pipeline",
            "parameters": {"save_results": False},
            "steps": [{"class": "jwcal.ToyAddStep", "name": "toy_add", "parameters": {"value": 4.0, "pre_hooks": []}}]}
    asdf.AsdfFile(tree).write_to(tmp_path / "p.asdf")
    p = _build(reg, load_param_file(tmp_path / "p.asdf"))
    assert p.steps[0].value == 4.0 and p.save_results is False


def test_bad_parameter_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[steps.toy_add\nvalue=")
    with pytest.raises(ParameterError, match="not valid TOML"):
        load_param_file(bad)
    with pytest.raises(ParameterError, match="does not exist"):
        load_param_file(tmp_path / "missing.toml")


@pytest.mark.parametrize("ptype,raw,expect", [
    (float, "2.5", 2.5), (int, "3", 3), (bool, "yes", True), (bool, "F", False), (str, "x", "x"),
    (list, "a, b", ["a", "b"]),
])
def test_param_conversion(ptype, raw, expect):
    assert Param("p", ptype, None, nullable=True).convert(raw) == expect


def test_param_rejects_bad_values():
    with pytest.raises(ParameterError):
        Param("p", int, 1).convert("1.5")
    with pytest.raises(ParameterError):
        Param("p", bool, True).convert("maybe")
    with pytest.raises(ParameterError, match="not one of"):
        Param("p", str, "a", choices=("a", "b")).convert("c")
