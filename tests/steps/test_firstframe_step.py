"""firstframe step (MIRI plugin): parity with jwst 3.0.0 FirstFrameStep (run explicitly:
skipped by default in both), bright_use_group1 on/off, too few groups, non-MIRI data."""

import pytest

pytest.importorskip("jwst")
from jwst.firstframe import FirstFrameStep  # noqa: E402

from .miri_kit import miri_ramp, register_miri  # noqa: E402
from .stepkit import assert_ramp_parity, run_jwcal, run_jwst, science  # noqa: E402

pytestmark = pytest.mark.parity


@pytest.mark.parametrize("nints,ngroups,bright", [(1, 5, True), (2, 6, False), (2, 3, True)])
def test_flags_like_jwst(jwcal_pm, tmp_path, nints, ngroups, bright):
    register_miri(jwcal_pm)
    path = miri_ramp(tmp_path, nints=nints, ngroups=ngroups)
    theirs = run_jwst(FirstFrameStep, path, bright_use_group1=bright)
    mine = run_jwcal(jwcal_pm, "firstframe", path, skip=False, bright_use_group1=bright)
    assert_ramp_parity(mine, theirs, rtol=0)
    assert mine.meta.cal_step.firstframe == theirs.meta.cal_step.firstframe
    assert mine.meta.cal_step.firstframe == ("COMPLETE" if ngroups > 3 else "SKIPPED")


def test_skipped_by_default_and_for_nir(jwcal_pm, tmp_path):
    register_miri(jwcal_pm)
    path = miri_ramp(tmp_path, nints=1, ngroups=5)
    assert jwcal_pm.registry.step("firstframe")().skip is True
    assert run_jwcal(jwcal_pm, "firstframe", path).meta.cal_step.firstframe == "SKIPPED"
    nir = science(tmp_path / "nir_ramp.fits", kind="ramp", ngroups=5)
    theirs = run_jwst(FirstFrameStep, nir)
    mine = run_jwcal(jwcal_pm, "firstframe", nir, skip=False)
    assert mine.meta.cal_step.firstframe == theirs.meta.cal_step.firstframe == "SKIPPED"
