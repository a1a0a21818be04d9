"""MIRI last-frame flagging against jwst 3.0.0 lastframe_sub (DQ must be identical)."""

import numpy as np
import pytest

from jwcore import dq
from jwcal_miri.algorithms.lastframe import flag_last_group


@pytest.mark.parity
@pytest.mark.parametrize("nints,ngroups", [(1, 3), (2, 5), (2, 2), (1, 1)])
def test_parity(nints, ngroups):
    pytest.importorskip("jwst")
    from stdatamodels.jwst.datamodels import RampModel

    from jwst.lastframe import lastframe_sub

    rng = np.random.default_rng(ngroups)
    gdq = (rng.random((nints, ngroups, 6, 7)) < 0.1).astype(np.uint8) * dq.GROUP["SATURATED"]
    model = RampModel(data=np.zeros(gdq.shape, np.float32), groupdq=gdq.copy())
    model = lastframe_sub.do_correction(model)
    ours = gdq.copy()
    assert flag_last_group(ours) == model.meta.cal_step.lastframe
    assert np.array_equal(ours, model.groupdq)


def test_rules_without_jwst():
    gdq = np.zeros((2, 3, 2, 2), np.uint8)
    assert flag_last_group(gdq) == "COMPLETE"
    assert np.all(gdq[:, -1] == dq.GROUP["DO_NOT_USE"])
    assert not np.any(gdq[:, :-1])
    short = np.zeros((1, 2, 2, 2), np.uint8)
    assert flag_last_group(short) == "SKIPPED"
    assert not np.any(short)
