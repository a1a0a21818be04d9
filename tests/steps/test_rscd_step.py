"""rscd step (MIRI plugin): parity with jwst 3.0.0 RscdStep: RSCD_GROUP_SKIP table lookup by
SUBARRAY/READPATT, integration 1 vs 2+, saturation back-off (FLUX_ESTIMATED), meta.rscd
counts; few groups and unknown readout pattern SKIPPED.  DQ identical."""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.rscd import RscdStep  # noqa: E402

from .miri_kit import miri_ramp, register_miri  # noqa: E402
from .stepkit import MIRI, assert_keywords, assert_ramp_parity, reference, run_jwcal, run_jwst  # noqa: E402

pytestmark = pytest.mark.parity

RSCD_KEYS = ("ngroups_skip_int1", "keep_bright_firstgroup_int1", "keep_groups_saturation_int1",
             "ngroups_skip_int2p", "keep_bright_firstgroup_int2p", "keep_groups_saturation_int2p")


def _rscd(tmp_path):
    table = np.array([("SUB64", "FASTR1", 2, 3), ("FULL", "FASTR1", -1, 4), ("SUB64", "SLOWR1", 1, 1)],
                     dtype=[("subarray", "S17"), ("readpatt", "S12"), ("group_skip1", "<i4"), ("group_skip", "<i4")])
    return reference(tmp_path / "rscd.fits", "RSCDModel", rscd_group_skip_table=table, inst=MIRI,
                     shape=(1, 1), dq_def=False)


@pytest.mark.parametrize("nints,ngroups,subarray", [(1, 8, "SUB64"), (3, 9, "SUB64"), (2, 7, "FULL"), (2, 5, "SUB64")])
def test_flags_like_jwst(jwcal_pm, tmp_path, nints, ngroups, subarray):
    register_miri(jwcal_pm)
    ref = _rscd(tmp_path)
    path = miri_ramp(tmp_path, nints=nints, ngroups=ngroups, subarray=subarray)
    theirs = run_jwst(RscdStep, path, override_rscd=ref)
    mine = run_jwcal(jwcal_pm, "rscd", path, override_rscd=ref)
    assert_ramp_parity(mine, theirs, rtol=0)
    assert_keywords(mine, theirs, "rscd", ["rscd"])
    assert mine.meta.cal_step.rscd == "COMPLETE"
    for key in RSCD_KEYS:
        assert getattr(mine.meta.rscd, key) == getattr(theirs.meta.rscd, key), key


@pytest.mark.parametrize("ngroups,readpatt", [(2, "FASTR1"), (6, "FASTR100")])
def test_skips_like_jwst(jwcal_pm, tmp_path, ngroups, readpatt):
    register_miri(jwcal_pm)
    ref = _rscd(tmp_path)
    path = miri_ramp(tmp_path, nints=2, ngroups=ngroups, readpatt=readpatt)
    theirs = run_jwst(RscdStep, path, override_rscd=ref)
    mine = run_jwcal(jwcal_pm, "rscd", path, override_rscd=ref)
    assert mine.meta.cal_step.rscd == theirs.meta.cal_step.rscd == "SKIPPED"
    assert_ramp_parity(mine, theirs, rtol=0)
