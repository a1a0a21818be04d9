"""dark_current: parity with stcal 1.20 ``dark_sub.do_correction`` as called by jwst 3.0.0.

Tolerance: float32 SCI equal to 1e-6 relative (observed: bit-identical); PIXELDQ identical.
"""

import numpy as np
import pytest

from jwcore import dq
from jwcore.steps.dark_current import apply_dark, averaged_dark, extrapolated_groups


def test_frame_averaging_by_hand():
    # dark plane k has value k; science NFRAMES=2, GROUPGAP=1 -> groups use planes
    # (0,1), (3,4), (6,7): means 0.5, 3.5, 6.5
    dark = np.broadcast_to(np.arange(10, dtype=np.float32)[:, None, None], (10, 2, 2)).copy()
    data = np.full((1, 3, 2, 2), 100.0, np.float32)
    pix = np.zeros((2, 2), np.uint32)
    ddq = np.array([[0, dq.HOT], [0, 0]], np.uint32)
    assert apply_dark(data, pix, dark, ddq, nframes=2, groupgap=1, dark_nframes=1, dark_groupgap=0)
    np.testing.assert_array_equal(data[0, :, 0, 0], [99.5, 96.5, 93.5])
    assert pix[0, 1] == dq.HOT
    np.testing.assert_array_equal(averaged_dark(dark, 3, 2, 1)[:, 1, 1], [0.5, 3.5, 6.5])


def test_skip_when_dark_has_more_frames():
    data = np.ones((1, 2, 2, 2), np.float32)
    assert not apply_dark(data, np.zeros((2, 2), np.uint32), np.ones((4, 2, 2), np.float32), np.zeros((2, 2), np.uint32),
                          nframes=1, groupgap=0, dark_nframes=2, dark_groupgap=0)
    assert np.all(data == 1)


def test_extrapolation_count():
    assert extrapolated_groups(5, 1, 0, 10, 1, 0) == 0
    assert extrapolated_groups(12, 1, 0, 10, 1, 0) == 2
    assert extrapolated_groups(5, 4, 1, 10, 1, 0) == 14  # 24 frames needed


CASES = [
    # nints, ngroups, nframes, groupgap, dark_nints (0 = 3-D), dark_ngroups, int_start
    (2, 5, 1, 0, 0, 10, 1),
    (2, 5, 4, 1, 0, 40, 1),
    (2, 5, 1, 0, 0, 3, 1),  # extrapolated, matched
    (2, 5, 2, 0, 0, 6, 1),  # extrapolated, averaged
    (2, 5, 2, 0, 0, 30, 1),
    (3, 5, 1, 0, 2, 8, 1),  # MIRI 4-D, last dark integration reused
    (2, 5, 1, 0, 2, 8, 4),  # MIRI segment
    (1, 4, 2, 0, 3, 10, 5),  # MIRI 4-D averaged, segment: jwst subtracts zeros
    (2, 4, 2, 1, 2, 4, 1),  # MIRI 4-D extrapolated + averaged
]


@pytest.mark.parity
@pytest.mark.parametrize("nints, ngroups, nframes, groupgap, dnints, dngroups, int_start", CASES)
def test_parity_with_stcal(nints, ngroups, nframes, groupgap, dnints, dngroups, int_start):
    pytest.importorskip("jwst")
    from stcal.dark_current.dark_sub import do_correction
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(nints * 100 + ngroups * 10 + nframes + dnints + dngroups)
    shape = (nints, ngroups, 32, 32)
    data0 = rng.normal(5000, 200, shape).astype(np.float32)
    pix0 = ((rng.random(shape[2:]) < 0.05) * dq.WARM).astype(np.uint32)
    dshape = (dngroups, 32, 32) if not dnints else (dnints, dngroups, 32, 32)
    ramp = np.cumsum(rng.gamma(2.0, 3.0, dshape), axis=-3).astype(np.float32)
    ramp[rng.random(dshape) < 0.01] = np.nan
    if dnints:
        ddq = np.zeros(dshape, np.uint32)
        ddq[:, 0][rng.random((dnints, 32, 32)) < 0.05] = dq.UNRELIABLE_DARK
        dm = datamodels.DarkMIRIModel(data=ramp.copy(), dq=ddq.copy())
        inst = "MIRI"
    else:
        ddq = ((rng.random((32, 32)) < 0.05) * dq.UNRELIABLE_DARK).astype(np.uint32)
        dm = datamodels.DarkModel(data=ramp.copy(), dq=ddq.copy())
        inst = "NIRCAM"
    dm.meta.exposure.nframes = 1
    dm.meta.exposure.groupgap = 0
    dm.meta.exposure.ngroups = dngroups

    model = datamodels.RampModel(data=data0.copy(), pixeldq=pix0.copy(), groupdq=np.zeros(shape, np.uint8))
    model.meta.instrument.name = inst
    model.meta.exposure.nframes = nframes
    model.meta.exposure.groupgap = groupgap
    model.meta.exposure.ngroups = ngroups
    model.meta.exposure.integration_start = int_start
    out, _ = do_correction(model, dm)

    data, pix = data0.copy(), pix0.copy()
    assert apply_dark(data, pix, ramp, ddq, nframes=nframes, groupgap=groupgap, dark_nframes=1,
                      dark_groupgap=0, int_start=int_start)
    # tolerance: 1e-6 relative, DQ identical
    np.testing.assert_allclose(data, out.data, rtol=1e-6, atol=0)
    np.testing.assert_array_equal(pix, out.pixeldq)
    assert (pix & dq.UNRELIABLE_DARK).any()
    assert np.isnan(ramp).any()  # reference untouched
    averaged_segment = dnints > nints and int_start != 1 and nframes > 1
    assert np.array_equal(data, data0) == averaged_segment
