"""ipc: parity with jwst 3.0.0 ``ipc_corr.ipc_correction`` (2-D and 4-D kernels, subarrays,
reference pixels, MIRI).

Tolerance: float32 SCI equal to 1e-6 relative (observed: bit-identical).
"""

import numpy as np
import pytest

from jwcore.steps._layout import readout_layout
from jwcore.steps.ipc import apply_ipc, ipc_kernel_slice, ipc_ref_pixels


def _layout(inst):
    """The readout layout the plugins declare for the instrument's test detector."""
    return readout_layout({"instrument.name": inst, "instrument.detector": "MIRIMAGE" if inst == "MIRI" else "NRCA1"})


def test_ref_pixels():
    assert ipc_ref_pixels(1, 1, 2048, 2048) == (4, 4, 4, 4)
    assert ipc_ref_pixels(1, 1, 32, 32) == (4, 0, 4, 0)
    assert ipc_ref_pixels(2017, 2017, 32, 32) == (0, 4, 0, 4)
    assert ipc_ref_pixels(100, 100, 64, 64) == (0, 0, 0, 0)
    assert ipc_ref_pixels(1, 1, 1032, 1024, layout=_layout("MIRI")) == (0, 0, 4, 4)
    assert ipc_ref_pixels(1, 1, 2048, 2048, layout=_layout("NIRCAM")) == (4, 4, 4, 4)


def test_delta_kernel_is_identity_and_shift():
    rng = np.random.default_rng(0)
    img = rng.normal(size=(1, 8, 9)).astype(np.float32)
    k = np.zeros((3, 3), np.float32)
    k[1, 1] = 1
    out = img.copy()
    apply_ipc(out, k, (1, 0, 0, 0))
    np.testing.assert_array_equal(out, img)
    # K[1, 2] = 1 moves the image one pixel to the right (x+1), zero entering on the left
    k[1, 1], k[1, 2] = 0, 1
    out = img.copy()
    apply_ipc(out, k)
    np.testing.assert_array_equal(out[0, :, 1:], img[0, :, :-1])
    assert np.all(out[0, :, 0] == 0)


def test_normal_rows_leave_reference_rows():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(2, 20, 12)).astype(np.float32)
    rows = np.ones(20, bool)
    rows[[3, 4, 11, 12]] = False
    k = rng.normal(0, 0.01, (3, 3)).astype(np.float32)
    k[1, 1] = 1
    out = data.copy()
    apply_ipc(out, k, (1, 1, 0, 0), normal_rows=rows)
    np.testing.assert_array_equal(out[:, ~rows], data[:, ~rows])
    expected = np.ascontiguousarray(data[:, rows])
    apply_ipc(expected, k, (1, 1, 0, 0))
    np.testing.assert_array_equal(out[:, rows], expected)


def _kernel(rng, kshape, pix_shape=None):
    if pix_shape is None:
        k = rng.normal(-0.01, 0.004, kshape)
        k[kshape[0] // 2, kshape[1] // 2] = 1.05
    else:
        k = rng.normal(-0.01, 0.004, kshape + pix_shape)
        k[kshape[0] // 2, kshape[1] // 2] = rng.normal(1.05, 0.01, pix_shape)
    return k.astype(np.float32)


CASES = [
    # instrument, xstart, ystart, kernel shape, 4-D kernel size (None: 2-D)
    ("NIRCAM", 1, 1, (3, 3), None),
    ("NIRCAM", 2017, 2017, (3, 3), None),
    ("NIRCAM", 300, 500, (4, 4), None),
    ("NIRCAM", 17, 9, (3, 3), (64, 64)),
    ("NIRCAM", 1, 1, (5, 5), (32, 32)),
    ("MIRI", 1, 1, (3, 3), None),
    ("MIRI", 997, 5, (3, 3), None),
]


@pytest.mark.parity
@pytest.mark.parametrize("inst, xstart, ystart, kshape, ksize", CASES)
def test_parity_with_jwst(inst, xstart, ystart, kshape, ksize):
    pytest.importorskip("jwst")
    from jwst.ipc.ipc_corr import ipc_correction
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(xstart + ystart + sum(kshape))
    shape = (2, 5, 32, 32)
    data0 = rng.normal(3000, 800, shape).astype(np.float32)
    kernel = _kernel(rng, kshape, ksize)

    model = datamodels.RampModel(data=data0.copy())
    model.meta.instrument.name = inst
    model.meta.instrument.detector = "MIRIMAGE" if inst == "MIRI" else "NRCA1"
    model.meta.exposure.nints, model.meta.exposure.ngroups = shape[:2]
    for k, v in dict(xstart=xstart, ystart=ystart, xsize=32, ysize=32).items():
        setattr(model.meta.subarray, k, v)
    out = ipc_correction(model, datamodels.IPCModel(data=kernel.copy()))

    layout = _layout(inst)
    data = data0.copy()
    apply_ipc(data, ipc_kernel_slice(kernel, xstart, ystart, 32, 32, layout=layout),
              ipc_ref_pixels(xstart, ystart, 32, 32, layout=layout))
    # tolerance: 1e-6 relative
    np.testing.assert_allclose(data, out.data, rtol=1e-6, atol=0)
    assert not np.array_equal(data, data0)


@pytest.mark.parity
def test_irs2_parity_with_jwst():
    pytest.importorskip("jwst")
    from jwst.ipc.ipc_corr import ipc_correction
    from stdatamodels.jwst import datamodels

    from jwcore.steps._irs2 import irs2_normal_rows

    rng = np.random.default_rng(21)
    data0 = rng.normal(3000, 800, (1, 2, 3200, 2048)).astype(np.float32)
    kernel = _kernel(rng, (3, 3))
    model = datamodels.RampModel(data=data0.copy())
    model.meta.instrument.name = "NIRSPEC"
    model.meta.instrument.detector = "NRS2"
    model.meta.exposure.readpatt = "NRSIRS2"
    model.meta.exposure.nrs_normal = 16
    model.meta.exposure.nrs_reference = 4
    model.meta.exposure.nints, model.meta.exposure.ngroups = 1, 2
    for k, v in dict(xstart=1, ystart=1, xsize=2048, ysize=2048).items():
        setattr(model.meta.subarray, k, v)
    out = ipc_correction(model, datamodels.IPCModel(data=kernel.copy()))

    data = data0.copy()
    rows = irs2_normal_rows(3200, 16, 4, fastaxis=-2)   # NRS2: FASTAXIS = -2
    apply_ipc(data, kernel, ipc_ref_pixels(1, 1, 2048, 2048), normal_rows=rows)
    # tolerance: 1e-6 relative
    np.testing.assert_allclose(data, out.data, rtol=1e-6, atol=0)
    np.testing.assert_array_equal(data[:, :, ~rows], data0[:, :, ~rows])
