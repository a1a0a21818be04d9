"""lastframe step (MIRI plugin): parity with jwst 3.0.0 LastFrameStep (NINTS 1 and 2, two
groups: SKIPPED, non-MIRI: SKIPPED)."""

import pytest

pytest.importorskip("jwst")
from jwst.lastframe import LastFrameStep  # noqa: E402

from .miri_kit import miri_ramp, register_miri  # noqa: E402
from .stepkit import assert_ramp_parity, run_jwcal, run_jwst, science  # noqa: E402

pytestmark = pytest.mark.parity


@pytest.mark.parametrize("nints,ngroups", [(1, 4), (2, 3), (2, 2)])
def test_flags_like_jwst(jwcal_pm, tmp_path, nints, ngroups):
    register_miri(jwcal_pm)
    path = miri_ramp(tmp_path, nints=nints, ngroups=ngroups)
    theirs = run_jwst(LastFrameStep, path)
    mine = run_jwcal(jwcal_pm, "lastframe", path)
    assert_ramp_parity(mine, theirs, rtol=0)
    assert mine.meta.cal_step.lastframe == theirs.meta.cal_step.lastframe
    assert mine.meta.cal_step.lastframe == ("COMPLETE" if ngroups > 2 else "SKIPPED")


def test_non_miri_skips(jwcal_pm, tmp_path):
    register_miri(jwcal_pm)
    nir = science(tmp_path / "nir_ramp.fits", kind="ramp", ngroups=5)
    theirs = run_jwst(LastFrameStep, nir)
    mine = run_jwcal(jwcal_pm, "lastframe", nir)
    assert mine.meta.cal_step.lastframe == theirs.meta.cal_step.lastframe == "SKIPPED"
    assert_ramp_parity(mine, theirs, rtol=0)
