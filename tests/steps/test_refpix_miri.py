"""MIRI reference-pixel correction: jwcore.steps.refpix.miri against jwst 3.0.0.

Parity tolerance: float32 within rtol 1e-6 (atol 1e-6 x max |value|); measured
bit-identical (set REFPIX_EXACT=1 to demand it).  DQ must be identical (untouched).
"""

import os

import numpy as np
import pytest

from jwcore import dq
from jwcore.steps.refpix.miri import correct_miri


def synthetic(nints, ngroups, ny=1024, nx=1032, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.normal(0, 3, size=(nints, ngroups, ny, nx)).astype(np.float32)
    data += np.float32(9000.0) + (np.arange(ngroups, dtype=np.float32) * 55.0)[None, :, None, None]
    # amplifier and row-parity drifts that the reference columns see too
    for amp in range(4):
        drift = rng.normal(0, 8, size=(nints, ngroups, 1, 1)).astype(np.float32)
        data[..., amp::4] += drift
        data[..., 1::2, amp::4] += np.float32(2.5 * amp)
    hits = rng.random(data.shape) < 0.002
    data[hits] += rng.uniform(100, 3000, size=hits.sum()).astype(np.float32)
    pdq = np.zeros((ny, nx), np.uint32)
    pdq[:, :4] = pdq[:, -4:] = dq.REFERENCE_PIXEL
    pdq[rng.random((ny, nx)) < 0.03] |= dq.DO_NOT_USE
    return data, pdq


def run_jwst(data, pdq, odd_even_rows=True, siglimit=3.0):
    pytest.importorskip("jwst")
    from stdatamodels.jwst.datamodels import RampModel

    from jwst.refpix import reference_pixels

    model = RampModel(data=data.copy(), pixeldq=pdq.copy(), groupdq=np.zeros(data.shape, np.uint8))
    ny, nx = data.shape[-2:]
    model.meta.instrument.name = "MIRI"
    model.meta.instrument.detector = "MIRIMAGE"
    model.meta.subarray.name = "FULL" if (ny, nx) == (1024, 1032) else "SUB64"
    model.meta.subarray.xstart = 1
    model.meta.subarray.ystart = 1
    model.meta.subarray.xsize = nx
    model.meta.subarray.ysize = ny
    model.meta.subarray.fastaxis = 1
    model.meta.subarray.slowaxis = 2
    model.meta.exposure.zero_frame = False
    conv = {"refpix_algorithm": "median", "sirs_kernel_model": None, "sigreject": 4.0,
            "gaussmooth": 1.0, "halfwidth": 30}
    status = reference_pixels.correct_model(model, True, True, 11, 1.0, odd_even_rows, conv,
                                            siglimit)
    status = "SKIPPED" if status == reference_pixels.SUBARRAY_SKIPPED else "COMPLETE"
    return model, status


def assert_parity(ours, theirs):
    scale = float(np.nanmax(np.abs(theirs)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6 * scale, equal_nan=True)
    if os.environ.get("REFPIX_EXACT"):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parity
@pytest.mark.parametrize("nints,ngroups", [(1, 3), (2, 2)])
@pytest.mark.parametrize("odd_even_rows", [True, False])
def test_full_frame_parity(nints, ngroups, odd_even_rows):
    data, pdq = synthetic(nints, ngroups, seed=nints * 10 + ngroups)
    model, jstatus = run_jwst(data, pdq, odd_even_rows)
    ours = data.copy()
    status = correct_miri(ours, pdq, odd_even_rows=odd_even_rows)
    assert status == jstatus == "COMPLETE"
    assert np.array_equal(model.pixeldq, pdq)
    assert not np.any(model.groupdq)
    assert_parity(ours, model.data)
    # the drifts are removed: amplifier means of later groups move
    assert not np.array_equal(ours[:, 1:], data[:, 1:])
    assert np.array_equal(ours[:, 0], data[:, 0])


@pytest.mark.parity
def test_siglimit_and_constant_reference():
    data, pdq = synthetic(1, 3, seed=5)
    data[..., :4] = np.float32(9000.0)  # left reference columns with zero spread
    model, _ = run_jwst(data, pdq, True, siglimit=2.0)
    ours = data.copy()
    correct_miri(ours, pdq, odd_even_rows=True, siglimit=2.0)
    assert_parity(ours, model.data)


@pytest.mark.parity
def test_no_usable_reference_column():
    """All odd-row pixels of amplifier C's right reference column DO_NOT_USE: jwst then
    corrects no group at all."""
    data, pdq = synthetic(2, 3, seed=6)
    pdq[0::2, 1030] |= dq.DO_NOT_USE
    model, _ = run_jwst(data, pdq, True)
    ours = data.copy()
    correct_miri(ours, pdq, odd_even_rows=True)
    assert_parity(ours, model.data)
    np.testing.assert_allclose(ours, data, rtol=1e-6)


@pytest.mark.parity
def test_subarray_skipped():
    data, pdq = synthetic(1, 3, ny=64, nx=72, seed=7)
    model, jstatus = run_jwst(data, pdq)
    ours = data.copy()
    assert correct_miri(ours, pdq) == jstatus == "SKIPPED"
    assert np.array_equal(ours, data)
    assert np.array_equal(model.data, data)
