"""refpix step: parity with jwst 3.0.0 RefPixStep.

Near-IR (NIRCam geometry FASTAXIS=-1/SLOWAXIS=2, NIRSpec NRS1 2/1): a 4-output subarray
(amplifier scheme with top/bottom and side reference pixels), 1-output subarrays (REFERENCE_PIXEL
flags; an "edgeless" SUB32), a subarray outside the frame (SKIPPED); MIRI (its layout registered by
the MIRI plugin): full frame with odd/even rows, subarray SKIPPED.  SCI within 1e-6 relative
(measured: identical), DQ untouched.
"""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.refpix import RefPixStep  # noqa: E402

from jwcal_miri import plugin as miri_plugin  # noqa: E402
from jwcore import dq  # noqa: E402

from .stepkit import MIRI, NIRCAM, assert_keywords, assert_ramp_parity, run_jwcal, run_jwst, science  # noqa: E402

pytestmark = pytest.mark.parity

NRS1 = dict(NIRCAM, instrument="NIRSPEC", detector="NRS1", exp_type="NRS_IMAGE", fastaxis=2, slowaxis=1,
            filter="CLEAR", pupil=None, readpatt="NRSRAPID")


def _ramp(tmp_path, rng, *, shape, nints, ngroups=3, pixeldq=None, **kw):
    full = (nints, ngroups) + shape
    data = rng.normal(1000, 10, full).astype(np.float32)
    data += np.arange(ngroups, dtype=np.float32)[None, :, None, None] * 50
    data += rng.normal(0, 30, (nints, ngroups, 1, 1)).astype(np.float32)   # group-to-group drifts
    data += rng.normal(0, 5, (1, 1) + shape[:-1] + (1,)).astype(np.float32)  # row noise
    return science(tmp_path / "x_ramp.fits", kind="ramp", nints=nints, ngroups=ngroups, shape=shape,
                   data=data, pixeldq=pixeldq, **kw)


def _run(jwcal_pm, path, **params):
    theirs = run_jwst(RefPixStep, path, **params)
    mine = run_jwcal(jwcal_pm, "refpix", path, **params)
    return mine, theirs


@pytest.mark.parametrize("nints,odd_even,side", [(1, True, True), (2, False, True), (2, True, False)])
def test_four_output_subarray(jwcal_pm, tmp_path, nints, odd_even, side):
    rng = np.random.default_rng(10)
    pdq = np.zeros((16, 2048), np.uint32)
    pdq[:4] |= dq.REFERENCE_PIXEL
    pdq[:, :4] |= dq.REFERENCE_PIXEL
    pdq[:, -4:] |= dq.REFERENCE_PIXEL
    pdq[1, 100:140] |= dq.DO_NOT_USE
    zf = None
    if nints == 2:
        zf = rng.normal(900, 10, (nints, 16, 2048)).astype(np.float32)
        zf[:, 8, 8] = 0.0
    path = _ramp(tmp_path, rng, shape=(16, 2048), nints=nints, subarray="SUBGRISM64", noutputs=4,
                 xstart=1, ystart=1, pixeldq=pdq, zeroframe=zf)
    mine, theirs = _run(jwcal_pm, path, odd_even_columns=odd_even, use_side_ref_pixels=side)
    assert_ramp_parity(mine, theirs, rtol=1e-6)
    if zf is not None:
        assert_ramp_parity(mine, theirs, rtol=1e-6, arrays=("zeroframe",))
        assert mine.zeroframe[0, 8, 8] == 0.0 and not np.array_equal(mine.zeroframe, zf)
    assert_keywords(mine, theirs, "refpix")
    assert mine.meta.cal_step.refpix == "COMPLETE"


@pytest.mark.parametrize("inst,subarray,xstart,ystart", [(NIRCAM, "SUB64P", 1, 1), (NRS1, "SUB32", 500, 900)])
def test_one_output_subarray(jwcal_pm, tmp_path, inst, subarray, xstart, ystart):
    rng = np.random.default_rng(11)
    pdq = np.zeros((32, 32), np.uint32)
    if xstart == 1:
        pdq[:4] |= dq.REFERENCE_PIXEL
        pdq[:, :4] |= dq.REFERENCE_PIXEL
        pdq[2, 2] |= dq.DO_NOT_USE
    path = _ramp(tmp_path, rng, shape=(32, 32), nints=2, subarray=subarray, noutputs=1, xstart=xstart,
                 ystart=ystart, pixeldq=pdq, inst=inst)
    mine, theirs = _run(jwcal_pm, path)
    assert_ramp_parity(mine, theirs, rtol=1e-6)
    assert mine.meta.cal_step.refpix == theirs.meta.cal_step.refpix == "COMPLETE"


def test_subarray_outside_frame_skips(jwcal_pm, tmp_path):
    path = _ramp(tmp_path, np.random.default_rng(12), shape=(32, 32), nints=1, xstart=2030, ystart=1)
    mine, theirs = _run(jwcal_pm, path)
    assert mine.meta.cal_step.refpix == theirs.meta.cal_step.refpix == "SKIPPED"
    assert_ramp_parity(mine, theirs, rtol=0)


def test_miri_full_frame_and_subarray(jwcal_pm, tmp_path):
    jwcal_pm.register_plugin(miri_plugin.plugin, name="miri", distribution="jwcal-miri")
    rng = np.random.default_rng(13)
    pdq = np.zeros((1024, 1032), np.uint32)
    pdq[::7, 1] |= dq.DO_NOT_USE
    path = _ramp(tmp_path, rng, shape=(1024, 1032), nints=1, ngroups=3, inst=MIRI, subarray="FULL", pixeldq=pdq)
    mine, theirs = _run(jwcal_pm, path)
    assert_ramp_parity(mine, theirs, rtol=1e-6)
    assert mine.meta.cal_step.refpix == theirs.meta.cal_step.refpix == "COMPLETE"
    sub = _ramp(tmp_path, rng, shape=(64, 72), nints=1, inst=MIRI, subarray="SUB64", xstart=1, ystart=1)
    mine, theirs = _run(jwcal_pm, sub)
    assert mine.meta.cal_step.refpix == theirs.meta.cal_step.refpix == "SKIPPED"
    assert_ramp_parity(mine, theirs, rtol=0)
