"""MIRI RSCD group flagging against jwst 3.0.0 rscd_sub (DQ must be identical, and the
meta.rscd counts equal)."""

import numpy as np
import pytest

from jwcore import dq
from jwcal_miri.algorithms.rscd import flag_rscd, rscd_group_skip

SAT = dq.GROUP["SATURATED"]
DNU = dq.GROUP["DO_NOT_USE"]

TABLE = np.array(
    [
        ("FULL", "FASTR1", 3, 4),
        ("FULL", "SLOWR1", -1, 2),
        ("SLITLESSPRISM", "FASTR1", 5, 1),
        ("SUB128", "FASTR1", 2, 6),
    ],
    dtype=[("subarray", "U17"), ("readpatt", "U12"), ("group_skip1", "i4"), ("group_skip", "i4")],
)

META = (
    "ngroups_skip_int1",
    "keep_bright_firstgroup_int1",
    "keep_groups_saturation_int1",
    "ngroups_skip_int2p",
    "keep_bright_firstgroup_int2p",
    "keep_groups_saturation_int2p",
)


def make(nints, ngroups, seed=0, ny=12, nx=13):
    rng = np.random.default_rng(seed)
    gdq = np.zeros((nints, ngroups, ny, nx), np.uint8)
    sat_from = rng.integers(0, ngroups + 4, size=(nints, ny, nx))
    for g in range(ngroups):
        gdq[:, g][sat_from <= g] |= SAT
    gdq[rng.random(gdq.shape) < 0.03] |= dq.GROUP["JUMP_DET"]
    # non-monotonic saturation in a few pixels (to exercise the loop's early stop)
    gdq[0, 1, 0, 0] |= SAT
    pdq = np.zeros((ny, nx), np.uint32)
    pdq[rng.random((ny, nx)) < 0.1] |= dq.HOT
    return gdq, pdq


def jwst_rscd(gdq, pdq, subarray, readpatt, nints=None, integration_start=None):
    pytest.importorskip("jwst")
    from stdatamodels.jwst.datamodels import RampModel, RSCDModel

    from jwst.rscd import rscd_sub

    model = RampModel(data=np.zeros(gdq.shape, np.float32), groupdq=gdq.copy(), pixeldq=pdq.copy())
    model.meta.exposure.nints = gdq.shape[0] if nints is None else nints
    model.meta.exposure.ngroups = gdq.shape[1]
    model.meta.exposure.readpatt = readpatt
    model.meta.subarray.name = subarray
    if integration_start is not None:
        model.meta.exposure.integration_start = integration_start
    ref = RSCDModel()
    ref.rscd_group_skip_table = TABLE
    model = rscd_sub.do_correction(model, ref)
    meta = {k: getattr(model.meta.rscd, k, None) for k in META}
    return model.groupdq, model.pixeldq, model.meta.cal_step.rscd, meta


def ours(gdq, pdq, subarray, readpatt, nints=None, integration_start=None):
    og, op = gdq.copy(), pdq.copy()
    skips = rscd_group_skip(TABLE, subarray, readpatt)
    if skips is None:
        return og, op, "SKIPPED", {k: None for k in META}
    res = flag_rscd(og, op, skip_int1=skips[0], skip_int2p=skips[1], nints=nints,
                    integration_start=integration_start)
    return og, op, res["status"], {k: res[k] for k in META}


CASES = [
    # nints, ngroups, subarray, readpatt, exposure nints, integration_start
    (1, 10, "FULL", "FASTR1", None, None),
    (3, 10, "FULL", "FASTR1", None, None),
    (2, 8, "SUB128", "FASTR1", None, None),
    (2, 7, "FULL", "SLOWR1", None, None),  # deprecated negative group_skip1
    (2, 5, "FULL", "FASTR1", None, None),  # <= 5 groups: skip 1
    (2, 6, "SUBPRISM", "FASTR1", None, None),  # old name, clamped to ngroups - 3
    (2, 3, "FULL", "FASTR1", None, None),
    (2, 2, "FULL", "FASTR1", None, None),  # too few groups
    (2, 9, "FULL", "FASTR1", 6, 3),  # segment not starting at integration 1
    (1, 9, "FULL", "FASTR1", 4, None),  # first segment holding one integration
    (2, 9, "MASK1550", "FASTR1", None, None),  # not in the table
]


@pytest.mark.parity
@pytest.mark.parametrize("nints,ngroups,subarray,readpatt,exp_nints,istart", CASES)
def test_parity(nints, ngroups, subarray, readpatt, exp_nints, istart):
    gdq, pdq = make(nints, ngroups, seed=ngroups * 7 + nints)
    jg, jp, jstatus, jmeta = jwst_rscd(gdq, pdq, subarray, readpatt, exp_nints, istart)
    og, op, status, meta = ours(gdq, pdq, subarray, readpatt, exp_nints, istart)
    assert status == jstatus
    assert np.array_equal(og, jg)
    assert np.array_equal(op, jp)
    assert meta == jmeta


def test_rules_without_jwst():
    gdq = np.zeros((2, 10, 1, 3), np.uint8)
    pdq = np.zeros((1, 3), np.uint32)
    gdq[0, 4:, 0, 1] = SAT  # int 1: saturated from 0-based group 4 -> skip 3 lowered to 2
    gdq[:, :, 0, 2] = SAT  # saturated from group 1: unrecoverable, not lowered
    res = flag_rscd(gdq, pdq, skip_int1=3, skip_int2p=4)
    assert res["status"] == "COMPLETE"
    flagged = (gdq & DNU) > 0
    assert flagged[0, :, 0, 0].tolist() == [True] * 3 + [False] * 7
    assert flagged[0, :, 0, 1].tolist() == [True] * 2 + [False] * 8
    assert flagged[1, :, 0, 0].tolist() == [True] * 4 + [False] * 6
    assert flagged[0, :3, 0, 2].all() and not flagged[0, 3:, 0, 2].any()
    assert pdq[0].tolist() == [0, dq.FLUX_ESTIMATED, 0]
    assert res["keep_groups_saturation_int1"] == 1 and res["ngroups_skip_int2p"] == 4
    assert rscd_group_skip(TABLE, "SUBPRISM", "FASTR1") == (5, 1)
    assert rscd_group_skip(TABLE, "FULL", "FAST") is None
