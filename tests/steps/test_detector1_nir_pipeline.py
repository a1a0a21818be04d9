"""Whole calwebb_detector1 parity for NIRISS and FGS science imaging: jwcal's ``detector1``
of each plugin against jwst 3.0.0's Detector1Pipeline on the same simulated raw exposure
(jwcore.sim, small subarrays, NINTS 1 and 2) with the same simulated reference files (cut to
the subarray window; jump/ramp_fit ``maximum_cores='1'``).

Tolerance (as for NIRCam/MIRI in test_detector1_pipeline.py): rate and rateints SCI, ERR,
VAR_POISSON, VAR_RNOISE within 1e-5 relative, elementwise, relative to max(|jwst|, median
|jwst| of the array); DQ identical; same S_* step statuses.
"""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.pipeline import Detector1Pipeline  # noqa: E402

from jwcore.datamodel import open_model  # noqa: E402
from jwcore.runner import Pipeline, RunContext  # noqa: E402
from jwcore.sim.detector import get_detector  # noqa: E402
from jwcore.sim.exposure import ExposureConfig, simulate_exposure  # noqa: E402

from .stepkit import max_rel, typical  # noqa: E402
from .test_detector1_pipeline import STEP_KEYS, _jwst_steps, _references  # noqa: E402

pytestmark = pytest.mark.parity
RTOL = 1e-5


def _plugin(inst):
    if inst == "NIRISS":
        from jwcal_niriss import plugin as mod

        return mod.plugin, "niriss", "jwcal-niriss"
    from jwcal_fgs import plugin as mod

    return mod.plugin, "fgs", "jwcal-fgs"


@pytest.mark.parametrize("inst,detector,subarray,nints", [
    ("NIRISS", "NIS", "SUB64", 1),
    ("NIRISS", "NIS", "SUB64", 2),
    ("FGS", "GUIDER1", "SUB32CNTR", 1),
    ("FGS", "GUIDER2", "SUB32CNTR", 2),
])
def test_detector1_nir(jwcal_pm, tmp_path, inst, detector, subarray, nints):
    plugin, name, dist = _plugin(inst)
    jwcal_pm.register_plugin(plugin, name=name, distribution=dist)
    spec = get_detector(inst, detector, pm=jwcal_pm)
    readpatt = spec.default_readpatt
    ngroups = 6
    cfg = ExposureConfig(instrument=inst, detector=detector, readpatt=readpatt, ngroups=ngroups, nints=nints,
                         subarray=subarray, seed=7, detector_seed=3)
    raw = simulate_exposure(spec, cfg, tmp_path / "raw").uncal
    refs = _references(tmp_path / "refs", spec, subarray, readpatt, ngroups)
    for needed in ("mask", "saturation", "superbias", "linearity", "dark", "gain", "readnoise"):
        assert needed in refs, needed

    jw_out = tmp_path / "jwst"
    jw_out.mkdir()
    Detector1Pipeline.call(str(raw), output_dir=str(jw_out), save_results=True, steps=_jwst_steps(refs))

    jc_out = tmp_path / "jwcal"
    spec1 = jwcal_pm.registry.pipeline("detector1", inst)
    config = {"steps": {use.key: {f"override_{r}": refs.get(r, "N/A")
                                  for r in jwcal_pm.registry.step(use.step).reference_file_types}
                        for use in spec1.steps}}
    ctx = RunContext(pm=jwcal_pm, input_path=raw, output_dir=jc_out, protect=(raw,))
    Pipeline(spec1, jwcal_pm.registry, config).run(open_model(raw), ctx)

    base = raw.name.replace("_uncal.fits", "")
    for suffix in ("rate", "rateints"):
        mine = open_model(jc_out / f"{base}_{suffix}.fits")
        theirs = open_model(jw_out / f"{base}_{suffix}.fits")
        assert mine.data.shape == theirs.data.shape
        for arr in ("data", "err", "var_poisson", "var_rnoise"):
            a, b = getattr(mine, arr), getattr(theirs, arr)
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{suffix} {arr}")
            d = max_rel(a, b, typical(b))
            assert d <= RTOL, f"{suffix} {arr}: max relative difference {d:g}"
        np.testing.assert_array_equal(mine.dq, theirs.dq)
        for key in STEP_KEYS:
            assert getattr(mine.meta.cal_step, key) == getattr(theirs.meta.cal_step, key), (suffix, key)
    rate = open_model(jc_out / f"{base}_rate.fits")
    assert rate.meta.cal_step.ramp_fit == "COMPLETE"
    assert np.isfinite(rate.data).mean() > 0.9
