"""gain_scale step: parity with jwst 3.0.0 GainScaleStep on rate (ImageModel) and rateints
(CubeModel) products: GAINFACT from the gain reference or from the product, none (SKIPPED).
SCI/ERR/VAR_* within 1e-6 relative (measured: identical)."""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.gain_scale import GainScaleStep  # noqa: E402
from stdatamodels.jwst import datamodels as dm  # noqa: E402

from .stepkit import NIRCAM, assert_keywords, assert_ramp_parity, reference, run_jwcal, run_jwst  # noqa: E402

pytestmark = pytest.mark.parity
ARRAYS = ("data", "err", "var_poisson", "var_rnoise", "dq")


def _rate(path, cube=False, gain_factor=None):
    rng = np.random.default_rng(14)
    shape = (2, 16, 20) if cube else (16, 20)
    m = (dm.CubeModel if cube else dm.ImageModel)(data=rng.uniform(0, 10, shape).astype(np.float32))
    m.err = rng.uniform(0.1, 1, shape).astype(np.float32)
    m.var_poisson = rng.uniform(0.01, 1, shape).astype(np.float32)
    m.var_rnoise = rng.uniform(0.01, 1, shape).astype(np.float32)
    m.dq = np.zeros(shape, np.uint32)
    m.meta.instrument.name = "NIRCAM"
    m.meta.instrument.detector = "NRCA1"
    m.meta.exposure.type = "NRC_IMAGE"
    m.meta.observation.date = "2024-01-01"
    m.meta.observation.time = "12:00:00"
    m.meta.subarray.name = "SUB64P"
    m.meta.subarray.xstart = 1
    m.meta.subarray.ystart = 1
    m.meta.subarray.xsize = 20
    m.meta.subarray.ysize = 16
    if gain_factor is not None:
        m.meta.exposure.gain_factor = gain_factor
    m.save(str(path))
    return path


@pytest.mark.parametrize("cube,in_model", [(False, False), (True, True)])
def test_scales_like_jwst(jwcal_pm, tmp_path, cube, in_model):
    gain = reference(tmp_path / "gain.fits", "GainModel", data=np.full((16, 20), 2.0, np.float32), inst=NIRCAM,
                     meta={"exposure.gain_factor": 1.9})
    path = _rate(tmp_path / "x_rate.fits", cube=cube, gain_factor=2.1 if in_model else None)
    theirs = run_jwst(GainScaleStep, path, override_gain=gain)
    mine = run_jwcal(jwcal_pm, "gain_scale", path, override_gain=gain)
    assert_ramp_parity(mine, theirs, rtol=1e-6, arrays=ARRAYS)
    assert mine.meta.cal_step.gain_scale == theirs.meta.cal_step.gain_scale == "COMPLETE"
    assert mine.meta.exposure.gain_factor == theirs.meta.exposure.gain_factor == (2.1 if in_model else 1.9)


def test_no_gainfact_skips(jwcal_pm, tmp_path):
    gain = reference(tmp_path / "gain.fits", "GainModel", data=np.full((16, 20), 2.0, np.float32), inst=NIRCAM)
    path = _rate(tmp_path / "x_rate.fits")
    theirs = run_jwst(GainScaleStep, path, override_gain=gain)
    mine = run_jwcal(jwcal_pm, "gain_scale", path, override_gain=gain)
    assert_keywords(mine, theirs, "gain_scale")
    assert mine.meta.cal_step.gain_scale == "SKIPPED"
    assert_ramp_parity(mine, theirs, rtol=0, arrays=ARRAYS)
