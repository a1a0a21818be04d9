"""superbias: bias subtraction + DQ propagation, parity with jwst 3.0.0 ``bias_sub``.

Tolerance: float32 SCI and ZEROFRAME bit-identical, DQ identical.
"""

import numpy as np
import pytest

from jwcore import dq
from jwcore.steps._subarray import extract
from jwcore.steps.superbias import apply_superbias


def test_nan_bias_subtracts_nothing():
    data = np.full((1, 2, 2, 2), 10.0, np.float32)
    pix = np.zeros((2, 2), np.uint32)
    bias = np.array([[1.0, np.nan], [2.0, 3.0]], np.float32)
    bdq = np.array([[0, dq.UNRELIABLE_BIAS], [0, 0]], np.uint32)
    apply_superbias(data, pix, bias, bdq)
    np.testing.assert_array_equal(data[0, 1], [[9.0, 10.0], [8.0, 7.0]])
    assert pix[0, 1] == dq.UNRELIABLE_BIAS and np.isnan(bias[0, 1])  # input bias untouched


@pytest.mark.parity
@pytest.mark.parametrize("sub", [False, True])
def test_parity_with_jwst(sub):
    pytest.importorskip("jwst")
    from jwst.superbias.bias_sub import do_correction
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(6)
    shape = (2, 5, 32, 32)
    full = (2048, 2048) if sub else (32, 32)
    xstart, ystart = (1017, 5) if sub else (1, 1)
    data0 = rng.normal(12000, 500, shape).astype(np.float32)
    zf0 = rng.normal(12000, 500, (2, 32, 32)).astype(np.float32)
    zf0[0, 3, 4] = 0.0
    zf0[1, 10, 11] = 0.0
    pix0 = (rng.integers(0, 2, shape[2:]) * dq.HOT).astype(np.uint32)
    bias_full = rng.normal(11000, 300, full).astype(np.float32)
    bdq_full = (rng.integers(0, 2, full) * dq.UNRELIABLE_BIAS).astype(np.uint32)
    bdq_full[rng.random(full) < 0.1] |= dq.DO_NOT_USE
    sl = (slice(ystart - 1, ystart + 31), slice(xstart - 1, xstart + 31))
    bias_full[sl][rng.random((32, 32)) < 0.05] = np.nan

    model = datamodels.RampModel(data=data0.copy(), pixeldq=pix0.copy(), zeroframe=zf0.copy())
    model.meta.instrument.name = "NIRCAM"
    model.meta.exposure.zero_frame = True
    for k, v in dict(xstart=xstart, ystart=ystart, xsize=32, ysize=32).items():
        setattr(model.meta.subarray, k, v)
    bias_model = datamodels.SuperBiasModel(data=bias_full.copy(), dq=bdq_full.copy())
    bias_model.meta.instrument.name = "NIRCAM"
    for k, v in dict(xstart=1, ystart=1, xsize=full[1], ysize=full[0]).items():
        setattr(bias_model.meta.subarray, k, v)
    out = do_correction(model, bias_model)

    data, pix, zf = data0.copy(), pix0.copy(), zf0.copy()
    bias = extract(bias_full, xstart, ystart, 32, 32)
    bdq = extract(bdq_full, xstart, ystart, 32, 32)
    assert np.isnan(bias).any()
    apply_superbias(data, pix, bias, bdq, zeroframe=zf)
    # tolerance: bit-identical float32, DQ identical
    np.testing.assert_array_equal(data, out.data)
    np.testing.assert_array_equal(zf, out.zeroframe)
    np.testing.assert_array_equal(pix, out.pixeldq)
    assert zf[0, 3, 4] == 0.0 and (pix & dq.UNRELIABLE_BIAS).any()
