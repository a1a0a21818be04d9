"""MIRI first-frame flagging against jwst 3.0.0 firstframe_sub (DQ must be identical)."""

import numpy as np
import pytest

from jwcore import dq
from jwcal_miri.algorithms.firstframe import flag_first_group


def make(nints, ngroups, seed=0, ny=9, nx=11):
    rng = np.random.default_rng(seed)
    gdq = np.zeros((nints, ngroups, ny, nx), np.uint8)
    # saturation that, once reached, stays (plus some random other flags)
    sat_from = rng.integers(0, ngroups + 2, size=(nints, ny, nx))
    for g in range(ngroups):
        gdq[:, g][sat_from <= g] |= dq.GROUP["SATURATED"]
    gdq[rng.random(gdq.shape) < 0.05] |= dq.GROUP["JUMP_DET"]
    pdq = np.zeros((ny, nx), np.uint32)
    pdq[rng.random((ny, nx)) < 0.2] |= dq.DO_NOT_USE
    return gdq, pdq


def jwst_flag(gdq, pdq, bright):
    pytest.importorskip("jwst")
    from stdatamodels.jwst.datamodels import RampModel

    from jwst.firstframe import firstframe_sub

    model = RampModel(data=np.zeros(gdq.shape, np.float32), groupdq=gdq.copy(), pixeldq=pdq.copy())
    model = firstframe_sub.do_correction(model, bright_use_group1=bright)
    return model.groupdq, model.pixeldq, model.meta.cal_step.firstframe


@pytest.mark.parity
@pytest.mark.parametrize("nints,ngroups", [(1, 4), (2, 6), (2, 3), (1, 2)])
@pytest.mark.parametrize("bright", [True, False])
def test_parity(nints, ngroups, bright):
    gdq, pdq = make(nints, ngroups, seed=ngroups)
    jg, jp, jstatus = jwst_flag(gdq, pdq, bright)
    og, op = gdq.copy(), pdq.copy()
    status = flag_first_group(og, op, bright_use_group1=bright)
    assert status == jstatus
    assert np.array_equal(og, jg)
    assert np.array_equal(op, jp)


def test_rules_without_jwst():
    gdq = np.zeros((2, 5, 1, 3), np.uint8)
    pdq = np.zeros((1, 3), np.uint32)
    gdq[1, 2:, 0, 1] = dq.GROUP["SATURATED"]  # pixel 1 saturated at group 3 in int 2
    assert flag_first_group(gdq, pdq, bright_use_group1=True) == "COMPLETE"
    assert gdq[0, 0, 0, 1] & dq.GROUP["DO_NOT_USE"]
    assert not gdq[1, 0, 0, 1] & dq.GROUP["DO_NOT_USE"]
    assert np.all(gdq[:, 0, 0, [0, 2]] & dq.GROUP["DO_NOT_USE"])
    assert pdq[0, 1] == dq.FLUX_ESTIMATED and pdq[0, 0] == 0
    assert not np.any(gdq[:, 1:] & dq.GROUP["DO_NOT_USE"])
