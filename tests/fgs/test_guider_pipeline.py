"""calwebb_guider parity: jwcal's FGS ``guider`` pipeline (dq_init, guider_cds, flat_field)
against jwst 3.0.0's GuiderPipeline, on the REAL FGS ACQ1 exposure
``jw01019001001_gs-acq1_2022117003102_uncal.fits`` (GUIDER2, 6 x 2 x 128 x 128) and on
synthetic ID / FineGuide / TRACK ramps, with the same small 128x128 MASK, FLAT, GAIN and
READNOISE references (written here, placed at the exposure's window).

Tolerance: SCI and ERR within 1e-6 relative (elementwise, relative to max(|jwst|, median
|jwst|)), same NaN pattern; DQ identical.  Measured: bit-identical on the real file.
"""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.guider_cds import guider_cds as jw_guider_cds  # noqa: E402
from jwst.pipeline import GuiderPipeline  # noqa: E402
from stdatamodels.jwst import datamodels as dm  # noqa: E402

from jwcal_fgs import plugin as fgs_plugin  # noqa: E402
from jwcal_fgs.steps.guider_cds import guider_cds  # noqa: E402
from jwcore.datamodel import open_model  # noqa: E402
from jwcore.runner import Pipeline, RunContext  # noqa: E402

from ..steps.stepkit import file_dq, max_rel, reference, typical  # noqa: E402

pytestmark = pytest.mark.parity
RTOL = 1e-6
ACQ1 = "fgs/jw01019001001_gs-acq1_2022117003102_uncal.fits"
FGS2 = dict(instrument="FGS", detector="GUIDER2")


def _refs(folder, xstart, ystart, shape=(128, 128), seed=2):
    rng = np.random.default_rng(seed)
    kw = dict(inst=FGS2, xstart=xstart, ystart=ystart, subarray="GENERIC")
    dqm = file_dq(rng, shape, ("DO_NOT_USE", "DEAD", "HOT"), p=0.03)
    flat = (1 + 0.05 * rng.standard_normal(shape)).astype(np.float32)
    flat[rng.random(shape) < 0.01] = 0.0       # flat zeros -> NO_FLAT_FIELD
    flat_dq = file_dq(rng, shape, ("DO_NOT_USE",), p=0.01)
    return {
        "mask": reference(folder / "mask.fits", "MaskModel", dq=dqm, **kw),
        "flat": reference(folder / "flat.fits", "FlatModel", data=flat, dq=flat_dq,
                          err=np.full(shape, 0.01, np.float32), **kw),
        "gain": reference(folder / "gain.fits", "GainModel",
                          data=(2.0 + 0.1 * rng.random(shape)).astype(np.float32), **kw),
        "readnoise": reference(folder / "readnoise.fits", "ReadnoiseModel",
                               data=(10 + rng.random(shape)).astype(np.float32), **kw),
    }


def _compare(mine, theirs):
    assert mine.model_type == "GuiderCalModel"
    assert mine.data.shape == theirs.data.shape
    for name in ("data", "err"):
        a, b = getattr(mine, name), getattr(theirs, name)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        d = max_rel(a, b, typical(b))
        assert d <= RTOL, f"{name}: max relative difference {d:g}"
    np.testing.assert_array_equal(mine.dq, theirs.dq)
    assert mine.dq.any()


def _run_both(jwcal_pm, raw, refs, tmp_path):
    jwcal_pm.register_plugin(fgs_plugin.plugin, name="fgs", distribution="jwcal-fgs")
    steps = {"dq_init": {"override_mask": refs["mask"]}, "flat_field": {"override_flat": refs["flat"]},
             "guider_cds": {"override_gain": refs["gain"], "override_readnoise": refs["readnoise"]}}
    jw_steps = {name: {f"override_{r}": refs.get(r, "N/A") for r in cls.reference_file_types}
                for name, cls in GuiderPipeline.step_defs.items()}
    jw_out = tmp_path / "jwst"
    jw_out.mkdir()
    theirs = GuiderPipeline.call(str(raw), output_dir=str(jw_out), save_results=False, steps=jw_steps)
    spec = jwcal_pm.registry.pipeline("guider", "FGS")
    assert spec.step_names == ("dq_init", "guider_cds", "flat_field")
    jc_out = tmp_path / "jwcal"
    ctx = RunContext(pm=jwcal_pm, input_path=raw, output_dir=jc_out, protect=(raw,))
    model = open_model(raw)
    assert model.model_type == "GuiderRawModel"
    Pipeline(spec, jwcal_pm.registry, {"steps": steps}).run(model, ctx)
    base = raw.name.replace("_uncal.fits", "")
    mine = open_model(jc_out / f"{base}_cal.fits")
    for key in ("dq_init", "guider_cds", "flat_field"):
        assert getattr(mine.meta.cal_step, key) == getattr(theirs.meta.cal_step, key) == "COMPLETE", key
    return mine, theirs


def test_guider_pipeline_real_acq1(jwcal_pm, tmp_path, real_data):
    raw = real_data / ACQ1
    if not raw.exists():
        pytest.skip(f"{ACQ1} not present")
    refs = _refs(tmp_path, 887, 1022)
    mine, theirs = _run_both(jwcal_pm, raw, refs, tmp_path)
    assert mine.data.shape == (6, 128, 128)
    _compare(mine, theirs)
    assert mine.meta.bunit_data == "DN/s"


def _synthetic(path, exp_type, nints, ngroups, seed=4):
    rng = np.random.default_rng(seed)
    m = dm.GuiderRawModel()
    ramp = rng.integers(1000, 3000, (nints, 1, 32, 32)) + np.cumsum(
        rng.integers(0, 400, (nints, ngroups, 32, 32)), axis=1)
    m.data = ramp.astype(np.float32)
    m.meta.instrument.name = "FGS"
    m.meta.instrument.detector = "GUIDER2"
    m.meta.exposure.type = exp_type
    m.meta.exposure.group_time = 0.0522
    m.meta.exposure.ngroups = ngroups
    m.meta.exposure.nints = nints
    m.meta.exposure.readpatt = {"FGS_ID-IMAGE": "ID"}.get(exp_type, exp_type.replace("FGS_", ""))
    m.meta.observation.date = "2023-01-01"
    m.meta.observation.time = "00:00:00"
    m.meta.subarray.name = "32X32"
    m.meta.subarray.xstart, m.meta.subarray.ystart = 101, 201
    m.meta.subarray.xsize = m.meta.subarray.ysize = 32
    m.meta.subarray.fastaxis, m.meta.subarray.slowaxis = 2, -1
    m.meta.filename = path.name
    m.save(str(path))
    return path


@pytest.mark.parametrize("exp_type,nints,ngroups", [
    ("FGS_ID-IMAGE", 2, 2), ("FGS_FINEGUIDE", 3, 8), ("FGS_TRACK", 2, 2)])
def test_guider_pipeline_synthetic_modes(jwcal_pm, tmp_path, exp_type, nints, ngroups):
    raw = _synthetic(tmp_path / "jw00001001001_gs-x_2023001000000_uncal.fits", exp_type, nints, ngroups)
    refs = _refs(tmp_path, 101, 201, shape=(32, 32))
    mine, theirs = _run_both(jwcal_pm, raw, refs, tmp_path)
    assert mine.data.shape[0] == (1 if exp_type.startswith("FGS_ID") else nints)
    _compare(mine, theirs)


def test_pure_guider_cds_modes_against_jwst():
    """The pure function on bare arrays against jwst's guider_cds on a GuiderRawModel."""
    rng = np.random.default_rng(7)
    gain = (1.5 + rng.random((8, 9))).astype(np.float32)
    gain[0, 0] = 0.0   # zero gain: jwst gives inf/NaN errors there
    rn = (5 + rng.random((8, 9))).astype(np.float32)
    for exp_type, nints, ngroups in (("FGS_ID-STACK", 2, 2), ("FGS_ACQ2", 3, 2), ("FGS_FINEGUIDE", 2, 10)):
        data = rng.normal(100, 50, (nints, ngroups, 8, 9)).astype(np.float32)
        m = dm.GuiderRawModel(data=data)
        m.meta.exposure.type = exp_type
        m.meta.exposure.group_time = 0.3
        g, r = dm.GainModel(data=gain), dm.ReadnoiseModel(data=rn)
        for ref in (m, g, r):
            ref.meta.subarray.xstart = ref.meta.subarray.ystart = 1
            ref.meta.subarray.xsize, ref.meta.subarray.ysize = 9, 8
        theirs = jw_guider_cds.guider_cds(m, g, r)
        rate, err = guider_cds(data, 0.3, exp_type, gain, rn)
        np.testing.assert_allclose(rate, theirs.data, rtol=1e-6, atol=0, err_msg=exp_type)
        np.testing.assert_allclose(err, theirs.err, rtol=1e-6, atol=0, equal_nan=True, err_msg=exp_type)


def test_jwcal_run_real_acq1_gives_cal(tmp_path, real_data, capsys):
    """``jwcal run`` routes the FGS_ACQ1 exposure to the guider pipeline and writes ``_cal``."""
    from jwcore.cli.main import main
    from jwcore.refs.store import LocalStore

    raw = real_data / ACQ1
    if not raw.exists():
        pytest.skip(f"{ACQ1} not present")
    (tmp_path / "made").mkdir()
    refs = _refs(tmp_path / "made", 887, 1022)
    store = LocalStore(tmp_path / "refs")
    for path in refs.values():
        store.add(path)
    store.save_index()
    try:
        code = main([str(a) for a in ("run", raw, "-o", tmp_path / "out", "--refs", tmp_path / "refs")])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code in (0, None), err
    cal = list((tmp_path / "out").rglob("*_cal.fits"))
    assert [p.name for p in cal] == ["jw01019001001_gs-acq1_2022117003102_cal.fits"], err
    model = open_model(cal[0])
    assert model.model_type == "GuiderCalModel"
    assert model.data.shape == (6, 128, 128)
    assert model.meta.cal_step.guider_cds == "COMPLETE"
    assert model.meta.cal_step.flat_field == "COMPLETE"
