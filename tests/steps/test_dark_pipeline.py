"""calwebb_dark parity: jwcal's NIRCam ``dark`` pipeline (group_scale, dq_init, saturation,
ipc, superbias, refpix, linearity) against jwst 3.0.0's DarkPipeline on the same simulated
raw exposure (jwcore.sim, SUB64P, NINTS 1 and 2) with the same simulated references.

The product is the 4-D ``_dark`` ramp (RampModel).  Tolerance: SCI and ERR within 1e-6
relative (elementwise, relative to max(|jwst|, median |jwst|)); PIXELDQ and GROUPDQ
identical; same S_* step statuses.
"""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.pipeline import DarkPipeline  # noqa: E402

from jwcal_nircam import plugin as nircam_plugin  # noqa: E402
from jwcore.datamodel import open_model  # noqa: E402
from jwcore.runner import Pipeline, RunContext  # noqa: E402
from jwcore.sim.detector import get_detector  # noqa: E402
from jwcore.sim.exposure import ExposureConfig, simulate_exposure  # noqa: E402

from .stepkit import max_rel, typical  # noqa: E402
from .test_detector1_pipeline import _references  # noqa: E402

pytestmark = pytest.mark.parity
RTOL = 1e-6
KEYS = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity")


@pytest.mark.parametrize("nints", [1, 2])
def test_dark_pipeline_nircam(jwcal_pm, tmp_path, nints):
    jwcal_pm.register_plugin(nircam_plugin.plugin, name="nircam", distribution="jwcal-nircam")
    spec = get_detector("NIRCAM", "NRCB1", pm=jwcal_pm)
    ngroups, subarray, readpatt = 5, "SUB64P", "RAPID"
    cfg = ExposureConfig(instrument="NIRCAM", detector="NRCB1", readpatt=readpatt, ngroups=ngroups, nints=nints,
                         subarray=subarray, seed=8, detector_seed=3)
    raw = simulate_exposure(spec, cfg, tmp_path / "raw").uncal
    refs = _references(tmp_path / "refs", spec, subarray, readpatt, ngroups)

    jw_out = tmp_path / "jwst"
    jw_out.mkdir()
    jw_steps = {name: {f"override_{r}": refs.get(r, "N/A") for r in cls.reference_file_types}
                for name, cls in DarkPipeline.step_defs.items()}
    # jwst's class alone names its product after itself (_darkpipeline); the documented
    # calwebb_dark product type is _dark, which jwcal writes by default
    DarkPipeline.call(str(raw), output_dir=str(jw_out), save_results=True, suffix="dark", steps=jw_steps)

    jc_out = tmp_path / "jwcal"
    pspec = jwcal_pm.registry.pipeline("calwebb_dark", "NIRCAM")
    assert pspec.name == "dark" and pspec.suffix == "dark"
    config = {"steps": {use.key: {f"override_{r}": refs.get(r, "N/A")
                                  for r in jwcal_pm.registry.step(use.step).reference_file_types}
                        for use in pspec.steps}}
    ctx = RunContext(pm=jwcal_pm, input_path=raw, output_dir=jc_out, protect=(raw,))
    Pipeline(pspec, jwcal_pm.registry, config).run(open_model(raw), ctx)

    base = raw.name.replace("_uncal.fits", "")
    assert sorted(p.name for p in jw_out.glob("*.fits")) == [f"{base}_dark.fits"]
    assert sorted(p.name for p in jc_out.glob("*.fits")) == [f"{base}_dark.fits"]
    mine = open_model(jc_out / f"{base}_dark.fits")
    theirs = open_model(jw_out / f"{base}_dark.fits")
    assert mine.model_type == theirs.meta.model_type == "RampModel"
    assert mine.data.shape == theirs.data.shape == (nints, ngroups, 64, 64)
    for name in ("data", "err"):
        a, b = getattr(mine, name), getattr(theirs, name)
        d = max_rel(a, b, typical(b))
        assert d <= RTOL, f"{name}: max relative difference {d:g}"
    np.testing.assert_array_equal(mine.pixeldq, theirs.pixeldq)
    np.testing.assert_array_equal(mine.groupdq, theirs.groupdq)
    for key in KEYS:
        assert getattr(mine.meta.cal_step, key) == getattr(theirs.meta.cal_step, key), key
    assert mine.meta.cal_step.linearity == "COMPLETE"
