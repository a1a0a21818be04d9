"""linearity: parity with jwst 3.0.0 ``linearity.do_correction`` (stcal 1.20 ``linearity_correction``),
group-by-group and read-level (inverse coefficients, NFRAMES > 1) modes.

Tolerance: float32 SCI/ZEROFRAME equal to 1e-6 relative (observed: bit-identical);
PIXELDQ identical.
"""

import numpy as np
import pytest

from jwcore import dq
from jwcore.steps._ramp_util import frame_read_pattern
from jwcore.steps._subarray import extract
from jwcore.steps.linearity import apply_linearity, evaluate_polynomial, prepare_coefficients

COEFFS = np.array([0.0, 0.85, 4.62e-06, -6.16e-11, 7.23e-16])
INV_COEFFS = np.array([5.70843e01, 1.14856e00, -4.14988e-06, 2.89205e-11, -2.32875e-16])


def test_polynomial():
    x = np.array([0.0, 1.0, 2.0])
    c = np.array([1.0, 2.0, 3.0])[:, None]
    np.testing.assert_allclose(evaluate_polynomial(x, c), 1 + 2 * x + 3 * x**2)


def test_bad_coefficients_become_identity():
    c = np.tile(COEFFS.astype(np.float32)[:, None, None], (1, 2, 2))
    c[2, 0, 0] = np.nan
    c[1, 0, 1] = 0.0
    lin_dq = np.array([[0, 0], [dq.NO_LIN_CORR, dq.HOT]], np.uint32)
    fixed, pdq = prepare_coefficients(c, lin_dq, np.zeros((2, 2), np.uint32))
    for y, x in [(0, 0), (0, 1), (1, 0)]:
        np.testing.assert_array_equal(fixed[:, y, x], [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(pdq, [[dq.NO_LIN_CORR, dq.NO_LIN_CORR], [dq.NO_LIN_CORR, dq.HOT]])
    assert np.isnan(c[2, 0, 0])  # input untouched


def test_saturated_groups_untouched():
    data = np.full((1, 3, 2, 2), 30000.0, np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 2, 1, 1] = dq.SATURATED
    c = np.tile(COEFFS.astype(np.float32)[:, None, None], (1, 2, 2))
    apply_linearity(data, gdq, np.zeros((2, 2), np.uint32), c, np.zeros((2, 2), np.uint32))
    assert data[0, 2, 1, 1] == 30000.0
    assert data[0, 2, 0, 0] != 30000.0


def _make(rng, shape, full, xstart, ystart):
    nints, ngroups, ny, nx = shape
    sl = (slice(ystart - 1, ystart - 1 + ny), slice(xstart - 1, xstart - 1 + nx))
    coeffs = np.tile(COEFFS[:, None, None], (1,) + full) * rng.normal(1, 0.02, (5,) + full)
    inv = np.tile(INV_COEFFS[:, None, None], (1,) + full) * rng.normal(1, 0.02, (5,) + full)
    coeffs, inv = coeffs.astype(np.float32), inv.astype(np.float32)
    lin_dq = np.zeros(full, np.uint32)
    c, i, d = coeffs[(slice(None),) + sl], inv[(slice(None),) + sl], lin_dq[sl]
    c[2][rng.random((ny, nx)) < 0.03] = np.nan
    c[1][rng.random((ny, nx)) < 0.03] = 0.0
    i[3][rng.random((ny, nx)) < 0.03] = np.nan
    i[1][rng.random((ny, nx)) < 0.03] = 0.0
    d[rng.random((ny, nx)) < 0.03] = dq.NO_LIN_CORR
    d[rng.random((ny, nx)) < 0.03] |= dq.DO_NOT_USE

    rate = rng.lognormal(7.5, 0.8, (nints, 1, ny, nx))
    data = (rate * np.arange(1, ngroups + 1)[None, :, None, None] + rng.normal(0, 10, shape)).astype(np.float32)
    gdq = np.zeros(shape, np.uint8)
    sat = data > 45000
    gdq[np.logical_or.accumulate(sat, axis=1)] = dq.SATURATED
    gdq[rng.random(shape) < 0.02] |= dq.JUMP_DET
    pix = ((rng.random((ny, nx)) < 0.05) * dq.HOT).astype(np.uint32)
    zf = (rate[:, 0] * 0.3).astype(np.float32)
    zf[rng.random(zf.shape) < 0.05] = 0.0
    return data, gdq, pix, coeffs, inv, lin_dq, zf


@pytest.mark.parity
@pytest.mark.parametrize("nframes, with_inv, sub", [(1, False, False), (1, True, False), (4, True, False), (4, False, True), (3, True, True)])
def test_parity_with_jwst(nframes, with_inv, sub):
    pytest.importorskip("jwst")
    from jwst.linearity.linearity import do_correction
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(7 + nframes)
    shape = (2, 5, 32, 32)
    full = (2048, 2048) if sub else (32, 32)
    xstart, ystart = (1, 1017) if sub else (1, 1)
    data, gdq, pix, coeffs, inv, lin_dq, zf = _make(rng, shape, full, xstart, ystart)

    model = datamodels.RampModel(data=data.copy(), groupdq=gdq.copy(), pixeldq=pix.copy(), zeroframe=zf.copy())
    model.meta.instrument.name = "NIRCAM"
    model.meta.exposure.ngroups = shape[1]
    model.meta.exposure.nframes = nframes
    model.meta.exposure.zero_frame = True
    for k, v in dict(xstart=xstart, ystart=ystart, xsize=32, ysize=32).items():
        setattr(model.meta.subarray, k, v)
    ref = datamodels.LinearityModel(coeffs=coeffs.copy(), dq=lin_dq.copy())
    if with_inv:
        ref.inv_coeffs = inv.copy()
    ref.meta.instrument.name = "NIRCAM"
    for k, v in dict(xstart=1, ystart=1, xsize=full[1], ysize=full[0]).items():
        setattr(ref.meta.subarray, k, v)
    out = do_correction(model, ref)

    # jwst's rule for the read-level mode
    read_level = with_inv and nframes > 1
    d, z = data.copy(), zf.copy()
    new_pix = apply_linearity(
        d,
        gdq,
        pix,
        extract(coeffs, xstart, ystart, 32, 32),
        extract(lin_dq, xstart, ystart, 32, 32),
        inv_coeffs=extract(inv, xstart, ystart, 32, 32) if read_level else None,
        read_pattern=frame_read_pattern(shape[1], nframes) if read_level else None,
        zeroframe=z,
    )
    # tolerance: 1e-6 relative for float32, DQ identical
    np.testing.assert_allclose(d, out.data, rtol=1e-6, atol=0)
    np.testing.assert_allclose(z, out.zeroframe, rtol=1e-6, atol=0)
    np.testing.assert_array_equal(new_pix, out.pixeldq)
    assert (new_pix & dq.NO_LIN_CORR).any() and not np.array_equal(d, data)
    assert np.all(z[zf == 0] == 0)
