"""jump step: parity with jwst 3.0.0 JumpStep (maximum_cores='1'): cosmic rays on noisy ramps,
GAIN/READNOISE cut to the subarray, NINTS 1 and 2, neighbour and after-jump flagging, snowball
expansion, NGROUPS <= 2 SKIPPED.  GROUPDQ/PIXELDQ identical; PRIMECRS equal to 1e-6."""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.jump import JumpStep  # noqa: E402

from jwcore import dq  # noqa: E402

from .stepkit import assert_keywords, assert_ramp_parity, reference, run_jwcal, run_jwst, science  # noqa: E402

pytestmark = pytest.mark.parity


def _inputs(tmp_path, *, nints, ngroups, seed=30, snowball=False):
    rng = np.random.default_rng(seed)
    ref_shape = (64, 64)
    gain_a = rng.uniform(1.8, 2.2, ref_shape).astype(np.float32)
    gain_a[40, 40] = 0.0
    rn_a = rng.uniform(8, 12, ref_shape).astype(np.float32)
    gain = reference(tmp_path / "gain.fits", "GainModel", data=gain_a)
    rn = reference(tmp_path / "rn.fits", "ReadnoiseModel", data=rn_a)
    shape = (32, 40)
    full = (nints, ngroups) + shape
    rate = rng.uniform(1, 50, shape)
    g = np.arange(ngroups)[None, :, None, None]
    data = 1000 + rate * g * 10.7 + rng.normal(0, 7, full)
    gdq = np.zeros(full, np.uint8)
    hits = rng.random(full) < 0.01
    hits[:, 0] = False
    data += np.cumsum(hits * rng.uniform(100, 3000, full), axis=1)
    if snowball:
        yy, xx = np.mgrid[: shape[0], : shape[1]]
        core = (yy - 16) ** 2 + (xx - 20) ** 2 <= 4
        halo = (yy - 16) ** 2 + (xx - 20) ** 2 <= 20
        data[:, 3:] += np.where(halo, 800.0, 0.0)
        gdq[:, 3:][:, :, core] |= dq.SATURATED
    path = science(tmp_path / "x_ramp.fits", kind="ramp", nints=nints, ngroups=ngroups, shape=shape, xstart=17,
                   ystart=25, data=data.astype(np.float32), groupdq=gdq)
    return path, gain, rn


@pytest.mark.parametrize("nints,params", [
    (1, {}),
    (2, {"after_jump_flag_dn1": 500.0, "after_jump_flag_time1": 25.0}),
    (2, {"expand_large_events": True, "min_jump_area": 3.0}),
])
def test_detects_like_jwst(jwcal_pm, tmp_path, nints, params):
    path, gain, rn = _inputs(tmp_path, nints=nints, ngroups=7, snowball=params.get("expand_large_events", False))
    params = dict(params, override_gain=gain, override_readnoise=rn, maximum_cores="1")
    theirs = run_jwst(JumpStep, path, **params)
    mine = run_jwcal(jwcal_pm, "jump", path, **params)
    assert_ramp_parity(mine, theirs, rtol=0)
    assert_keywords(mine, theirs, "jump", ["gain", "readnoise"])
    assert mine.meta.cal_step.jump == "COMPLETE"
    assert (mine.groupdq & dq.JUMP_DET).any()
    assert mine.meta.exposure.primary_cosmic_rays == pytest.approx(theirs.meta.exposure.primary_cosmic_rays, rel=1e-6)
    assert mine.meta.exposure.extended_emission_events == pytest.approx(
        theirs.meta.exposure.extended_emission_events, rel=1e-6)
    if params.get("expand_large_events"):
        assert mine.meta.exposure.extended_emission_events > 0


def test_two_groups_skip(jwcal_pm, tmp_path):
    path, gain, rn = _inputs(tmp_path, nints=1, ngroups=2)
    theirs = run_jwst(JumpStep, path, override_gain=gain, override_readnoise=rn)
    mine = run_jwcal(jwcal_pm, "jump", path, override_gain=gain, override_readnoise=rn)
    assert mine.meta.cal_step.jump == theirs.meta.cal_step.jump == "SKIPPED"
    assert_ramp_parity(mine, theirs, rtol=0)
