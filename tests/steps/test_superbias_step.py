"""superbias step: parity with jwst 3.0.0 SuperBiasStep (uncal input, full-size bias cut to
the subarray, NaN bias, DQ_DEF, ZEROFRAME).  SCI exact, DQ identical."""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.superbias import SuperBiasStep  # noqa: E402

from jwcore import dq  # noqa: E402

from .stepkit import (  # noqa: E402
    assert_keywords, assert_ramp_parity, file_dq, reference, run_jwcal, run_jwst, science,
)

pytestmark = pytest.mark.parity


@pytest.mark.parametrize("nints,zero", [(1, False), (2, True)])
def test_subtracts_like_jwst(jwcal_pm, tmp_path, nints, zero):
    rng = np.random.default_rng(4)
    b = rng.normal(10000, 300, (64, 64)).astype(np.float32)
    b[rng.random(b.shape) < 0.02] = np.nan
    bias = reference(tmp_path / "bias.fits", "SuperBiasModel", data=b,
                     dq=file_dq(rng, b.shape, ["UNRELIABLE_BIAS", "DO_NOT_USE"]))
    zf = None
    if zero:
        zf = rng.integers(9000, 12000, (nints, 24, 40)).astype(np.uint16)
        zf[:, 2, 3] = 0
    path = science(tmp_path / "x_uncal.fits", nints=nints, ngroups=3, shape=(24, 40), xstart=9, ystart=5,
                   zeroframe=zf)
    theirs = run_jwst(SuperBiasStep, path, override_superbias=bias)
    mine = run_jwcal(jwcal_pm, "superbias", path, override_superbias=bias)
    assert_ramp_parity(mine, theirs, rtol=0, arrays=("data", "groupdq", "pixeldq"))
    assert_keywords(mine, theirs, "superbias", ["superbias"])
    assert (mine.pixeldq & dq.UNRELIABLE_BIAS).any()
    if zero:
        assert_ramp_parity(mine, theirs, rtol=0, arrays=("zeroframe",))
        assert mine.zeroframe[0, 2, 3] == 0


def test_na_skips(jwcal_pm, tmp_path):
    path = science(tmp_path / "x_uncal.fits", ngroups=3)
    theirs = run_jwst(SuperBiasStep, path, override_superbias="N/A")
    mine = run_jwcal(jwcal_pm, "superbias", path, override_superbias="N/A")
    assert mine.meta.cal_step.superbias == theirs.meta.cal_step.superbias == "SKIPPED"
