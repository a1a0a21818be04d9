"""Step/pipeline runner: skip, status and reference keywords, hooks, naming, saving."""

import numpy as np
import pytest
from astropy.io import fits

from jwcore import hookimpl
from jwcore.datamodel import GainModel, open_model
from jwcore.errors import ParameterError, ReferenceFileError
from jwcore.runner import Pipeline, RunContext

from . import toy_plugin
from .helpers import toy_ramp


@pytest.fixture
def pm(jwcal_pm):
    jwcal_pm.register_plugin(toy_plugin, name="toy", distribution="jwcal-toy", version="9.9")
    return jwcal_pm


def _gain(path, value=2.0, useafter="2020-01-01T00:00:00", detector="TOY1"):
    g = GainModel(data=np.full((8, 10), value, np.float32))
    g.meta.reftype = "GAIN"
    g.meta.instrument.name = "TOYCAM"
    g.meta.instrument.detector = detector
    g.meta.useafter = useafter
    g.meta.pedigree = "DUMMY"
    return g.save(path)


def test_step_sets_status_and_reference_keywords(pm, tmp_path):
    gain = _gain(tmp_path / "gain.fits", 2.0)
    cls = pm.registry.step("toy_add")
    model = toy_ramp()
    before = model.data.copy()
    out = cls(value=1.5, use_gain=True, override_gain=str(gain)).run(model, RunContext(pm=pm)).model
    np.testing.assert_allclose(out.data, before + 3.5)
    assert out.meta.cal_step.toy_add == "COMPLETE"
    assert out.meta.ref_file.gain.name == str(gain.resolve())


def test_skip_and_na_reference(pm):
    cls = pm.registry.step("toy_add")
    model = toy_ramp()
    before = model.data.copy()
    out = cls(skip=True).run(model, RunContext(pm=pm)).model
    assert out.meta.cal_step.toy_add == "SKIPPED"
    np.testing.assert_array_equal(out.data, before)
    out = cls(use_gain=True, override_gain="N/A").run(toy_ramp(), RunContext(pm=pm)).model
    assert out.meta.cal_step.toy_add == "SKIPPED"


def test_missing_reference_is_a_clear_error(pm, tmp_path):
    cls = pm.registry.step("toy_add")
    ctx = RunContext(pm=pm, store=tmp_path / "empty-store")
    with pytest.raises(ReferenceFileError) as err:
        cls(use_gain=True).run(toy_ramp(), ctx)
    msg = str(err.value)
    assert "gain" in msg and "DETECTOR='TOY1'" in msg and "override_gain" in msg


def test_before_after_hooks_called(pm, jwcal_hook_calls):
    seen = []

    class Watcher:
        @hookimpl
        def jwcal_before_step(self, step, model):
            seen.append(("before", step.name, float(model.data[0, 0, 0, 1])))

        @hookimpl
        def jwcal_after_step(self, step, result):
            seen.append(("after", step.name, float(result.data[0, 0, 0, 1])))

    pm.register_plugin(Watcher(), name="watcher")
    pm.registry.step("toy_add")(value=1.0, override_gain="N/A").run(toy_ramp(), RunContext(pm=pm))
    assert seen == [("before", "toy_add", 1.0), ("after", "toy_add", 2.0)]
    assert [c[0] for c in jwcal_hook_calls if c[0].endswith("_step")] == ["jwcal_before_step", "jwcal_after_step"]


def test_pipeline_runs_in_declared_order_and_names_outputs(pm, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    path = src / "jw01234001001_01101_00001_toy1_uncal.fits"
    toy_ramp(path)
    spec = pm.registry.pipeline("calwebb_toy1", "TOYCAM")
    pipe = Pipeline(spec, pm.registry, {"steps": {"toy_add": {"value": "10", "override_gain": "N/A"}},
                                         "save_calibrated_ramp": "true"})
    assert [s.name for s in pipe.steps] == ["toy_add", "toy_collapse"]
    ctx = RunContext(pm=pm, input_path=path, output_dir=tmp_path / "out", protect=(path,))
    result = pipe.run(open_model(path), ctx)
    names = sorted(p.name for p in ctx.written)
    assert names == ["jw01234001001_01101_00001_toy1_ramp.fits", "jw01234001001_01101_00001_toy1_rate.fits",
                     "jw01234001001_01101_00001_toy1_rateints.fits"]
    rate = open_model(tmp_path / "out" / "jw01234001001_01101_00001_toy1_rate.fits")
    expect = toy_ramp().data.mean(axis=1).mean(axis=0) + 10
    np.testing.assert_allclose(rate.data, expect, rtol=1e-6)
    assert rate.meta.cal_step.toy_add == "COMPLETE" and rate.meta.cal_step.toy_collapse == "COMPLETE"
    assert result.extras["rateints"].data.shape == (2, 8, 10)
    h = fits.getheader(tmp_path / "out" / "jw01234001001_01101_00001_toy1_rate.fits")
    assert h["DATAMODL"] == "ImageModel" and h["INSTRUME"] == "TOYCAM"
    assert [s[0] for s in ctx.steps] == ["toy_add", "toy_collapse"]


def test_unknown_step_or_parameter_suggests(pm):
    spec = pm.registry.pipeline("toy1", "TOYCAM")
    with pytest.raises(ParameterError, match="did you mean toy_add"):
        Pipeline(spec, pm.registry, {"steps": {"toy_ad": {"value": 1}}})
    with pytest.raises(ParameterError, match="did you mean value"):
        Pipeline(spec, pm.registry, {"steps": {"toy_add": {"valeu": 1}}})
    with pytest.raises(ParameterError, match="not a valid float"):
        Pipeline(spec, pm.registry, {"steps": {"toy_add": {"value": "ten"}}})


def test_never_overwrites_input(pm, tmp_path):
    path = tmp_path / "x_rate.fits"
    toy_ramp(path)
    before = path.read_bytes()
    spec = pm.registry.pipeline("toy1", "TOYCAM")
    ctx = RunContext(pm=pm, input_path=path, output_dir=tmp_path, protect=(path,))
    with pytest.raises(Exception, match="refusing to overwrite input"):
        Pipeline(spec, pm.registry, {"steps": {"toy_add": {"override_gain": "N/A"}}}).run(open_model(path), ctx)
    assert path.read_bytes() == before


def test_local_store_selection_by_useafter(pm, tmp_path):
    from jwcore.refs.store import LocalStore

    store = LocalStore(tmp_path / "refs")
    keys = lambda inst, rt: pm.hook.jwcal_reference_match_keys(instrument=inst, reftype=rt)  # noqa: E731
    for name, ua, det in [("g_old.fits", "2020-01-01T00:00:00", "TOY1"), ("g_new.fits", "2023-06-01T00:00:00", "TOY1"),
                          ("g_future.fits", "2030-01-01T00:00:00", "TOY1"), ("g_other.fits", "2023-07-01T00:00:00", "TOY2")]:
        store.add(_gain(tmp_path / name, useafter=ua, detector=det), match_keys_for=keys)
    store.save_index()
    from jwcore.refs import select_reference

    early = toy_ramp(date="2021-01-01").meta
    late = toy_ramp(date="2024-01-01").meta
    assert select_reference(pm, "gain", early, store=store).path.endswith("g_old.fits")
    assert select_reference(pm, "gain", late, store=store).path.endswith("g_new.fits")
    other = toy_ramp(date="2024-01-01", detector="TOY2").meta
    assert select_reference(pm, "gain", other, store=store).path.endswith("g_other.fits")
    with pytest.raises(ReferenceFileError, match="DETECTOR='TOY3'"):
        select_reference(pm, "gain", toy_ramp(detector="TOY3").meta, store=store)
    # a corrupted file is refused
    (tmp_path / "refs" / "g_new.fits").write_bytes(b"garbage")
    with pytest.raises(ReferenceFileError, match="checksum"):
        select_reference(pm, "gain", late, store=LocalStore(tmp_path / "refs"))


def test_derived_pipeline_skips_steps_by_default(pm):
    from jwcore.errors import ParameterError
    from jwcore.runner import PipelineSpec

    base = pm.registry.pipeline("toy1", "TOYCAM")
    tso = base.derive("toy_tso", aliases=("calwebb_toytso",), skip=("toy_add",))
    assert tso.name == "toy_tso" and base.name == "toy1"
    pipe = Pipeline(tso, pm.registry, {"steps": {"toy_collapse": {"scale": 2}}})
    assert [s.skip for s in pipe.steps] == [True, False]
    assert Pipeline(tso, pm.registry, {"steps": {"toy_add": {"skip": False}}}).steps[0].skip is False
    with pytest.raises(ParameterError, match="unknown step"):
        base.derive("x", skip=("nope",))
    assert isinstance(tso, PipelineSpec)


def test_instrument_tso1_pipelines_skip_ipc():
    from jwcore.plugins import make_plugin_manager

    reg = make_plugin_manager().registry
    for inst in ("NIRCAM", "MIRI"):
        try:
            spec = reg.pipeline("calwebb_tso1", inst)
        except Exception:
            pytest.skip("instrument plugins not installed")
        skipped = {u.key for u in spec.steps if u.defaults.get("skip")}
        assert {"ipc", "persistence"} <= skipped
        assert ("lastframe" in skipped) == (inst == "MIRI")
        assert not any(u.defaults.get("skip") for u in reg.pipeline("detector1", inst).steps if u.key == "ipc")
