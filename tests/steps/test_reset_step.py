"""reset step (MIRI plugin): parity with jwst 3.0.0 ResetStep: reference with fewer
integrations/groups than the science (last one reused, later groups untouched), NaN, DQ_DEF;
N/A.  SCI within 1e-6 relative (measured: identical), DQ identical."""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.reset import ResetStep  # noqa: E402

from jwcore import dq  # noqa: E402

from .miri_kit import miri_ramp, register_miri  # noqa: E402
from .stepkit import MIRI, assert_keywords, assert_ramp_parity, file_dq, reference, run_jwcal, run_jwst  # noqa: E402

pytestmark = pytest.mark.parity


@pytest.mark.parametrize("nints", [1, 3])
def test_subtracts_like_jwst(jwcal_pm, tmp_path, nints):
    register_miri(jwcal_pm)
    rng = np.random.default_rng(21)
    shape = (16, 20)
    r = rng.normal(0, 20, (2, 3) + shape).astype(np.float32)
    r[1, 0, 4, 4] = np.nan
    ref = reference(tmp_path / "reset.fits", "ResetModel", data=r, dq=file_dq(rng, shape, ["HOT", "DO_NOT_USE"]),
                    inst=MIRI, subarray="SUB64", meta={"exposure.nints": 2, "exposure.ngroups": 3})
    path = miri_ramp(tmp_path, nints=nints, ngroups=5, saturate=False)
    theirs = run_jwst(ResetStep, path, override_reset=ref)
    mine = run_jwcal(jwcal_pm, "reset", path, override_reset=ref)
    assert_ramp_parity(mine, theirs, rtol=1e-6)
    assert_keywords(mine, theirs, "reset", ["reset"])
    assert mine.meta.cal_step.reset == "COMPLETE"
    assert (mine.pixeldq & dq.HOT).any()


def test_na_skips(jwcal_pm, tmp_path):
    register_miri(jwcal_pm)
    path = miri_ramp(tmp_path, nints=1, ngroups=4)
    theirs = run_jwst(ResetStep, path, override_reset="N/A")
    mine = run_jwcal(jwcal_pm, "reset", path, override_reset="N/A")
    assert mine.meta.cal_step.reset == theirs.meta.cal_step.reset == "SKIPPED"
