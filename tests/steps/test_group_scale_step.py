"""group_scale step: parity with jwst 3.0.0 GroupScaleStep (uncal input; SCI exact)."""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.group_scale import GroupScaleStep  # noqa: E402

from .stepkit import assert_keywords, assert_ramp_parity, run_jwcal, run_jwst, science  # noqa: E402

pytestmark = pytest.mark.parity


@pytest.mark.parametrize("nints", [1, 2])
def test_rescales_like_jwst(jwcal_pm, tmp_path, nints):
    path = science(tmp_path / "x_uncal.fits", nints=nints, ngroups=3, nframes=5, frame_divisor=4,
                   readpatt="MEDIUM8")
    theirs = run_jwst(GroupScaleStep, path)
    mine = run_jwcal(jwcal_pm, "group_scale", path)
    assert mine.data.dtype == np.float32
    assert_ramp_parity(mine, theirs, rtol=0, arrays=("data",))
    assert_keywords(mine, theirs, "group_scale")
    assert mine.meta.cal_step.group_scale == "COMPLETE"
    raw = np.asarray(theirs.data) / (4 / 5)
    assert not np.allclose(raw, theirs.data)  # the scaling did something


@pytest.mark.parametrize("nframes,divisor", [(4, 4), (4, None), (1, None), (5, None)])
def test_skips_like_jwst(jwcal_pm, tmp_path, nframes, divisor):
    path = science(tmp_path / "x_uncal.fits", ngroups=3, nframes=nframes, frame_divisor=divisor)
    theirs = run_jwst(GroupScaleStep, path)
    mine = run_jwcal(jwcal_pm, "group_scale", path)
    assert mine.meta.cal_step.group_scale == "SKIPPED"
    assert_keywords(mine, theirs, "group_scale")
    assert_ramp_parity(mine, theirs, rtol=0, arrays=("data",))
