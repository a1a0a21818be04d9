"""Inserting a registered step into a pipeline from the parameter file ([steps.X] insert_after).

Uses the toy plugin of the core tests (toy1: toy_add, toy_collapse; toy2: toy_scale).
"""

import numpy as np
import pytest

from jwcore.datamodel import open_model
from jwcore.errors import ParameterError
from jwcore.runner import Pipeline, RunContext
from jwcore.runner.config import apply_insertions, insertions, validate_for

from ..core import toy_plugin
from ..core.helpers import toy_ramp


@pytest.fixture
def reg(jwcal_pm):
    jwcal_pm.register_plugin(toy_plugin, name="toy", distribution="jwcal-toy", version="9.9")
    return jwcal_pm.registry


def cfg(**steps):
    return {"steps": steps}


def test_insert_after_and_before_make_a_new_spec(reg):
    spec = reg.pipeline("toy1", "TOYCAM")
    new = apply_insertions(spec, cfg(toy_scale={"insert_after": "toy_add", "factor": 3}), reg)
    assert new.step_keys == ("toy_add", "toy_scale", "toy_collapse")
    assert spec.step_keys == ("toy_add", "toy_collapse")          # the registered spec is untouched
    assert reg.pipeline("toy1", "TOYCAM") is spec
    new = apply_insertions(spec, cfg(toy_scale={"insert_before": "toy_add"}), reg)
    assert new.step_keys == ("toy_scale", "toy_add", "toy_collapse")


def test_several_after_one_anchor_keep_file_order_and_copies_get_their_own_name(reg):
    spec = reg.pipeline("toy2", "TOYCAM")
    na = {"override_gain": "N/A"}
    c = cfg(first={"step": "toy_add", "insert_after": "toy_scale", "value": 1, **na},
            second={"step": "toy_add", "insert_after": "toy_scale", "value": 10, **na},
            again={"step": "toy_scale", "insert_after": "second", "factor": 3})
    new = apply_insertions(spec, c, reg)
    assert new.step_keys == ("toy_scale", "first", "second", "again")
    assert new.step_names == ("toy_scale", "toy_add", "toy_add", "toy_scale")
    p = Pipeline(spec, reg, {**c, "save_results": False})
    assert p.spec.step_keys == new.step_keys
    assert [s.name for s in p.steps] == ["toy_scale", "toy_add", "toy_add", "toy_scale"]
    assert (p.steps[1].value, p.steps[2].value, p.steps[3].factor) == (1.0, 10.0, 3.0)
    from jwcore.datamodel import ImageModel
    from jwcore.plugins import get_plugin_manager

    m = ImageModel(data=np.full((2, 3), 2.0, np.float32))
    m.meta.instrument.name = "TOYCAM"
    out = p.run(m, RunContext(pm=get_plugin_manager())).model
    np.testing.assert_allclose(out.data, (2.0 * 2 + 1 + 10) * 3)


@pytest.mark.parametrize("steps, message", [
    ({"toy_sclae": {"insert_after": "toy_add"}}, "unknown step 'toy_sclae'; did you mean 'toy_scale'"),
    ({"toy_scale": {"insert_after": "toy_ad"}}, "has no step 'toy_ad'; did you mean toy_add"),
    ({"toy_scale": {"insert_after": "toy_add", "insert_before": "toy_collapse"}}, "not both"),
    ({"toy_add": {"insert_after": "toy_collapse"}}, "already has a step 'toy_add'"),
    ({"toy_scale": {"insert_in": "toy1"}}, "neither insert_after nor insert_before"),
    ({"toy_scale": {"insert_after": 3}}, "must name a step"),
])
def test_bad_insertions_are_errors(reg, steps, message):
    spec = reg.pipeline("toy1", "TOYCAM")
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace("[", r"\[")):
        Pipeline(spec, reg, {"steps": steps})


def test_run_wide_validation(reg):
    specs = [reg.pipeline("toy1", "TOYCAM"), reg.pipeline("toy2", "TOYCAM")]
    # toy_scale's anchor is in toy2 only: fine for a run over both stages
    validate_for(cfg(toy_add2={"step": "toy_add", "insert_after": "toy_scale", "value": 2}), specs, reg)
    with pytest.raises(ParameterError, match="no pipeline of this run .* has a step 'flat_field'"):
        validate_for(cfg(toy_scale={"insert_after": "flat_field"}), specs, reg)
    # insert_in names a pipeline that lacks the anchor
    with pytest.raises(ParameterError, match="pipeline toy1 has no step 'toy_scale'"):
        validate_for(cfg(x={"step": "toy_add", "insert_after": "toy_scale", "insert_in": "toy1"}), specs, reg)
    with pytest.raises(ParameterError, match="unknown step 'nope'"):
        validate_for(cfg(x={"step": "nope", "insert_after": "toy_scale"}), specs, reg)
    # restricted to toy2: toy1 is left alone even though it has the anchor
    c = cfg(toy_scale={"insert_after": "toy_add", "insert_in": ["toy2"]})
    assert apply_insertions(specs[0], c, reg, strict=False).step_keys == ("toy_add", "toy_collapse")
    assert [i.key for i in insertions(c)] == ["toy_scale"]


def test_cli_run_with_inserted_step(reg, tmp_path, capsys):
    from jwcore.cli.main import main

    raw = tmp_path / "raw"
    raw.mkdir()
    toy_ramp(raw / "jw01234001001_01101_00001_toy1_uncal.fits")
    params = tmp_path / "params.toml"
    params.write_text('[steps.toy_add]\noverride_gain = "N/A"\n\n'
                      '[steps.plus_five]\nstep = "toy_add"\ninsert_after = "toy_scale"\nvalue = 5\n'
                      'override_gain = "N/A"\n')

    def run(*extra):
        try:
            return main(["run", str(raw), "-o", str(tmp_path / "out"), "-c", str(params), "--to-stage", "2",
                         "--executor", "serial", *extra])
        except SystemExit as exc:
            return exc.code

    assert run() == 0, capsys.readouterr().err
    cal = open_model(tmp_path / "out" / "jw01234001001_01101_00001_toy1_cal.fits")
    rate = toy_ramp().data.mean(axis=(0, 1)) + 1.0
    np.testing.assert_allclose(cal.data, rate * 2 + 5, rtol=1e-6)
    assert cal.meta.cal_step.toy_add == "COMPLETE"
    # a changed parameter of the inserted step makes the product out of date
    assert run("--steps.plus_five.value=7") == 0
    err = capsys.readouterr().err
    assert "up-to-date" in err and "ok" in err
    cal = open_model(tmp_path / "out" / "jw01234001001_01101_00001_toy1_cal.fits")
    np.testing.assert_allclose(cal.data, rate * 2 + 7, rtol=1e-6)
    # a misspelt anchor stops the run before anything runs
    params.write_text('[steps.plus_five]\nstep = "toy_add"\ninsert_after = "toy_scal"\n')
    assert run() == 2
    assert "did you mean toy_scale" in capsys.readouterr().err
