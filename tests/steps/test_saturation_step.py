"""saturation step: parity with jwst 3.0.0 SaturationStep (uncal input; thresholds with NaN
and NO_SAT_CHECK, subarray cut, superbias for the read-pattern tests, n_pix_grow_sat,
use_readpatt, MIRI without superbias).  GROUPDQ/PIXELDQ identical, SCI untouched."""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.saturation import SaturationStep  # noqa: E402

from jwcore import dq  # noqa: E402

from .stepkit import (  # noqa: E402
    MIRI, assert_keywords, assert_ramp_parity, file_dq, reference, run_jwcal, run_jwst, science,
)

pytestmark = pytest.mark.parity


def _inputs(tmp_path, *, nints, ngroups, nframes, inst=None, shape=(24, 40), seed=2, bias=True):
    rng = np.random.default_rng(seed)
    kw = {} if inst is None else {"inst": inst}
    ref_shape = (64, 64)
    thresh = rng.uniform(20000, 40000, ref_shape).astype(np.float32)
    thresh[rng.random(ref_shape) < 0.03] = np.nan
    sat = reference(tmp_path / "sat.fits", "SaturationModel", data=thresh,
                    dq=file_dq(rng, ref_shape, ["NO_SAT_CHECK", "DO_NOT_USE"], 0.03), **kw)
    bias_path = "N/A"
    if bias:
        b = rng.normal(10000, 300, ref_shape).astype(np.float32)
        b[rng.random(ref_shape) < 0.02] = np.nan
        bias_path = reference(tmp_path / "bias.fits", "SuperBiasModel", data=b, **kw)
    full = (nints, ngroups) + shape
    rate = rng.uniform(0, 9000, shape) * rng.choice([0.1, 1, 3], shape)
    g = np.arange(1, ngroups + 1)[None, :, None, None]
    data = 10000 + rate[None, None] * g * nframes / 4 + rng.normal(0, 20, full)
    data[:, :, 0, :3] = 0  # A/D floor
    data[..., 5, 7] = 65535
    data = np.clip(np.round(data), 0, 65535)
    path = science(tmp_path / "x_uncal.fits", nints=nints, ngroups=ngroups, nframes=nframes,
                   shape=shape, xstart=9, ystart=5, data=data, readpatt="BRIGHT2" if nframes == 2 else None, **kw)
    return path, sat, bias_path


@pytest.mark.parametrize("nints,grow,readpatt", [(1, 1, True), (2, 2, True), (2, 0, False)])
def test_flags_like_jwst(jwcal_pm, tmp_path, nints, grow, readpatt):
    path, sat, bias = _inputs(tmp_path, nints=nints, ngroups=5, nframes=2)
    params = dict(override_saturation=sat, override_superbias=bias, n_pix_grow_sat=grow, use_readpatt=readpatt)
    theirs = run_jwst(SaturationStep, path, **params)
    mine = run_jwcal(jwcal_pm, "saturation", path, **params)
    assert_ramp_parity(mine, theirs, rtol=0, arrays=("data", "groupdq", "pixeldq"))
    assert_keywords(mine, theirs, "saturation", ["saturation", "superbias"])
    assert (mine.groupdq & dq.SATURATED).any() and (mine.groupdq & dq.AD_FLOOR).any()
    assert (mine.pixeldq & dq.NO_SAT_CHECK).any()


def test_miri_without_superbias(jwcal_pm, tmp_path):
    path, sat, bias = _inputs(tmp_path, nints=2, ngroups=4, nframes=1, inst=MIRI, bias=False)
    theirs = run_jwst(SaturationStep, path, override_saturation=sat, override_superbias="N/A")
    mine = run_jwcal(jwcal_pm, "saturation", path, override_saturation=sat, override_superbias="N/A")
    assert_ramp_parity(mine, theirs, rtol=0, arrays=("data", "groupdq", "pixeldq"))
    assert mine.meta.cal_step.saturation == "COMPLETE"


def test_na_skips(jwcal_pm, tmp_path):
    path, _, _ = _inputs(tmp_path, nints=1, ngroups=3, nframes=1, bias=False)
    theirs = run_jwst(SaturationStep, path, override_saturation="N/A", override_superbias="N/A")
    mine = run_jwcal(jwcal_pm, "saturation", path, override_saturation="N/A", override_superbias="N/A")
    assert mine.meta.cal_step.saturation == theirs.meta.cal_step.saturation == "SKIPPED"
    assert not mine.groupdq.any()
