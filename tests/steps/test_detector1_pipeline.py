"""Whole calwebb_detector1 parity: jwcal's NIRCam ``detector1`` (jwcore.runner.Pipeline with the
registry) against jwst 3.0.0's Detector1Pipeline on the same simulated raw exposure (jwcore.sim)
with the same simulated reference files (jump/ramp_fit ``maximum_cores='1'``,
``expand_large_events`` False: jwst's code defaults).

Tolerance: rate and rateints SCI, ERR, VAR_POISSON, VAR_RNOISE within 1e-5 relative, elementwise,
relative to max(|jwst value|, median |jwst value| of the array) so that values that are zero up to
rounding (jwst -1.4e-13 vs jwcal 0.0 in a MIRI full frame) do not count as 100 % differences;
same NaN pattern; DQ identical; same S_* step statuses.  Measured: the ramp-level products are
bit-identical up to ramp_fit; rates agree to a few float32 ulps (absolute <= 2.4e-7 DN/s).
"""

import numpy as np
import pytest
from astropy.io import fits

pytest.importorskip("jwst")
from jwst.pipeline import Detector1Pipeline  # noqa: E402

from jwcal_nircam import plugin as nircam_plugin  # noqa: E402
from jwcore.datamodel import open_model  # noqa: E402
from jwcore.runner import Pipeline, RunContext  # noqa: E402
from jwcore.sim.detector import get_detector  # noqa: E402
from jwcore.sim.exposure import ExposureConfig, simulate_exposure  # noqa: E402
from jwcore.sim.references import write_reference_set  # noqa: E402

from .stepkit import max_rel, typical  # noqa: E402

pytestmark = pytest.mark.parity
RTOL = 1e-5
STEP_KEYS = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity", "dark_sub",
             "jump", "persistence", "ramp_fit", "gain_scale")


def _references(folder, spec, subarray, readpatt, ngroups):
    paths = write_reference_set(spec, folder, window=subarray, readpatt=readpatt, ngroups=ngroups, seed=3)
    found = {}
    for p in paths:
        if str(p).endswith(".fits"):
            reftype = str(fits.getheader(p).get("REFTYPE", "")).lower()
            found.setdefault(reftype, str(p))
    return found


def _jwst_steps(refs):
    steps = {}
    for name, cls in Detector1Pipeline.step_defs.items():
        steps[name] = {f"override_{r}": refs.get(r, "N/A") for r in cls.reference_file_types}
    steps["jump"]["maximum_cores"] = "1"
    steps["ramp_fit"]["maximum_cores"] = "1"
    return steps


@pytest.mark.parametrize("nints,readpatt,subarray", [
    (1, "RAPID", "SUB64P"),
    pytest.param(2, "BRIGHT2", "SUB64P", marks=pytest.mark.slow),
    pytest.param(2, "RAPID", "SUBGRISM64", marks=pytest.mark.slow),   # 4 outputs: amplifier refpix
])
def test_detector1_nircam_subarray(jwcal_pm, tmp_path, nints, readpatt, subarray):
    jwcal_pm.register_plugin(nircam_plugin.plugin, name="nircam", distribution="jwcal-nircam")
    spec = get_detector("NIRCAM", "NRCB1", pm=jwcal_pm)
    ngroups = 6
    cfg = ExposureConfig(instrument="NIRCAM", detector="NRCB1", readpatt=readpatt, ngroups=ngroups, nints=nints,
                         subarray=subarray, seed=5, detector_seed=3)
    raw = simulate_exposure(spec, cfg, tmp_path / "raw").uncal
    refs = _references(tmp_path / "refs", spec, subarray, readpatt, ngroups)
    for needed in ("mask", "saturation", "superbias", "linearity", "dark", "gain", "readnoise"):
        assert needed in refs, needed

    jw_out = tmp_path / "jwst"
    jw_out.mkdir()
    Detector1Pipeline.call(str(raw), output_dir=str(jw_out), save_results=True, steps=_jwst_steps(refs))

    jc_out = tmp_path / "jwcal"
    spec1 = jwcal_pm.registry.pipeline("detector1", "NIRCAM")
    config = {"steps": {use.key: {f"override_{r}": refs.get(r, "N/A")
                                  for r in jwcal_pm.registry.step(use.step).reference_file_types}
                        for use in spec1.steps}}
    pipe = Pipeline(spec1, jwcal_pm.registry, config)
    ctx = RunContext(pm=jwcal_pm, input_path=raw, output_dir=jc_out, protect=(raw,))
    pipe.run(open_model(raw), ctx)

    base = raw.name.replace("_uncal.fits", "")
    for suffix in ("rate", "rateints"):
        mine = open_model(jc_out / f"{base}_{suffix}.fits")
        theirs = open_model(jw_out / f"{base}_{suffix}.fits")
        for name in ("data", "err", "var_poisson", "var_rnoise"):
            d = max_rel(getattr(mine, name), getattr(theirs, name), typical(getattr(theirs, name)))
            assert d <= RTOL, f"{suffix} {name}: max relative difference {d:g}"
        np.testing.assert_array_equal(mine.dq, theirs.dq)
        for key in STEP_KEYS:
            assert getattr(mine.meta.cal_step, key) == getattr(theirs.meta.cal_step, key), (suffix, key)
    rate = open_model(jc_out / f"{base}_rate.fits")
    assert np.isfinite(rate.data).mean() > 0.9


@pytest.mark.parametrize("subarray", ["SUB64", pytest.param("FULL", marks=pytest.mark.slow)])
def test_detector1_miri(jwcal_pm, tmp_path, subarray):
    """MIRI order and steps (lastframe, reset, linearity, rscd, 4-D dark, refpix by the MIRI
    layout: full frame corrected, subarray skipped), NINTS 2."""
    from jwcal_miri import plugin as miri_plugin

    jwcal_pm.register_plugin(miri_plugin.plugin, name="miri", distribution="jwcal-miri")
    spec = get_detector("MIRI", "MIRIMAGE", pm=jwcal_pm)
    ngroups, nints = 6, 2
    readpatt = spec.default_readpatt
    cfg = ExposureConfig(instrument="MIRI", detector="MIRIMAGE", readpatt=readpatt, ngroups=ngroups, nints=nints,
                         subarray=subarray, seed=6, detector_seed=4)
    raw = simulate_exposure(spec, cfg, tmp_path / "raw").uncal
    refs = {}
    for p in write_reference_set(spec, tmp_path / "refs", window=subarray, readpatt=readpatt, ngroups=ngroups,
                                 nints=nints, seed=4):
        if str(p).endswith(".fits"):
            refs.setdefault(str(fits.getheader(p).get("REFTYPE", "")).lower(), str(p))
    for needed in ("mask", "saturation", "linearity", "dark", "gain", "readnoise", "reset", "rscd"):
        assert needed in refs, needed

    jw_out = tmp_path / "jwst"
    jw_out.mkdir()
    Detector1Pipeline.call(str(raw), output_dir=str(jw_out), save_results=True, steps=_jwst_steps(refs))
    jc_out = tmp_path / "jwcal"
    spec1 = jwcal_pm.registry.pipeline("detector1", "MIRI")
    config = {"steps": {use.key: {f"override_{r}": refs.get(r, "N/A")
                                  for r in jwcal_pm.registry.step(use.step).reference_file_types}
                        for use in spec1.steps}}
    ctx = RunContext(pm=jwcal_pm, input_path=raw, output_dir=jc_out, protect=(raw,))
    Pipeline(spec1, jwcal_pm.registry, config).run(open_model(raw), ctx)

    base = raw.name.replace("_uncal.fits", "")
    keys = ("dq_init", "saturation", "ipc", "firstframe", "lastframe", "reset", "linearity", "rscd", "dark_sub",
            "refpix", "jump", "ramp_fit")
    for suffix in ("rate", "rateints"):
        mine = open_model(jc_out / f"{base}_{suffix}.fits")
        theirs = open_model(jw_out / f"{base}_{suffix}.fits")
        for name in ("data", "err", "var_poisson", "var_rnoise"):
            d = max_rel(getattr(mine, name), getattr(theirs, name), typical(getattr(theirs, name)))
            assert d <= RTOL, f"{suffix} {name}: max relative difference {d:g}"
        np.testing.assert_array_equal(mine.dq, theirs.dq)
        for key in keys:
            assert getattr(mine.meta.cal_step, key) == getattr(theirs.meta.cal_step, key), (suffix, key)
    assert open_model(jc_out / f"{base}_rate.fits").meta.cal_step.refpix == (
        "COMPLETE" if subarray == "FULL" else "SKIPPED")
