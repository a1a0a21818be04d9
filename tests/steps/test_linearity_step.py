"""linearity step: parity with jwst 3.0.0 LinearityStep: coefficients cut to the subarray
(NaN, zero linear term, NO_LIN_CORR), SATURATED groups left alone, read-level correction
with inverse coefficients (NFRAMES > 1), ZEROFRAME.  SCI within 1e-6 relative, DQ identical."""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.linearity import LinearityStep  # noqa: E402

from jwcore import dq  # noqa: E402

from .stepkit import (  # noqa: E402
    assert_keywords, assert_ramp_parity, file_dq, reference, run_jwcal, run_jwst, science,
)

pytestmark = pytest.mark.parity


def _coeffs(rng, shape):
    c = np.zeros((4,) + shape, np.float32)
    c[1] = rng.uniform(0.98, 1.02, shape)
    c[2] = rng.uniform(1e-7, 3e-6, shape)
    c[3] = rng.uniform(-1e-11, 1e-11, shape)
    c[0] = rng.uniform(-5, 5, shape)
    return c


def _inverse(rng, shape):
    c = np.zeros((4,) + shape, np.float32)
    c[1] = rng.uniform(0.98, 1.02, shape)
    c[2] = -rng.uniform(1e-7, 3e-6, shape)
    return c


def _ramp(tmp_path, rng, nints, nframes, zeroframe=False):
    shape = (24, 40)
    full = (nints, 5) + shape
    data = np.cumsum(rng.uniform(100, 6000, full), axis=1).astype(np.float32)
    gdq = np.zeros(full, np.uint8)
    gdq[data > 25000] |= dq.SATURATED
    zf = rng.uniform(50, 3000, (nints,) + shape).astype(np.float32) if zeroframe else None
    if zf is not None:
        zf[:, 1, 1] = 0
    return science(tmp_path / "x_ramp.fits", kind="ramp", nints=nints, ngroups=5, shape=shape, xstart=9,
                   ystart=5, nframes=nframes, data=data, groupdq=gdq, zeroframe=zf,
                   readpatt="MEDIUM8" if nframes > 1 else None)


@pytest.mark.parametrize("nints,nframes,inverse", [(1, 1, False), (2, 1, True), (2, 4, True)])
def test_corrects_like_jwst(jwcal_pm, tmp_path, nints, nframes, inverse):
    rng = np.random.default_rng(6)
    ref_shape = (64, 64)
    coeffs = _coeffs(rng, ref_shape)
    coeffs[:, 10, 20] = np.nan
    coeffs[1, 12, 22] = 0.0
    arrays = dict(coeffs=coeffs, dq=file_dq(rng, ref_shape, ["NO_LIN_CORR", "DO_NOT_USE"]))
    if inverse:
        arrays["inv_coeffs"] = _inverse(rng, ref_shape)
    lin = reference(tmp_path / "lin.fits", "LinearityModel", **arrays)
    path = _ramp(tmp_path, rng, nints, nframes, zeroframe=nints == 2)
    theirs = run_jwst(LinearityStep, path, override_linearity=lin)
    mine = run_jwcal(jwcal_pm, "linearity", path, override_linearity=lin)
    assert_ramp_parity(mine, theirs, rtol=1e-6)
    assert_keywords(mine, theirs, "linearity", ["linearity"])
    assert mine.pixeldq[10 - 4, 20 - 8] & dq.NO_LIN_CORR
    if nints == 2:
        assert_ramp_parity(mine, theirs, rtol=1e-6, arrays=("zeroframe",))


def test_na_skips(jwcal_pm, tmp_path):
    path = _ramp(tmp_path, np.random.default_rng(1), 1, 1)
    theirs = run_jwst(LinearityStep, path, override_linearity="N/A")
    mine = run_jwcal(jwcal_pm, "linearity", path, override_linearity="N/A")
    assert mine.meta.cal_step.linearity == theirs.meta.cal_step.linearity == "SKIPPED"
