"""ramp_fit step: parity with jwst 3.0.0 RampFitStep (OLS_C, maximum_cores='1'): rate and
rateints (SCI, ERR, VAR_POISSON, VAR_RNOISE within 1e-6 relative, DQ identical, BUNIT DN/s),
NINTS 1 and 2, jumps and saturation, average dark current, firstgroup/lastgroup, GAINFACT
copied for gain_scale, the fitopt product, MIRI edge-group trimming (readout layout)."""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.ramp_fitting import RampFitStep  # noqa: E402

from jwcore import dq  # noqa: E402
from jwcore.datamodel import open_model  # noqa: E402
from jwcore.runner import RunContext  # noqa: E402

from .miri_kit import register_miri  # noqa: E402
from .stepkit import MIRI, NIRCAM, max_rel, reference, science  # noqa: E402

pytestmark = pytest.mark.parity
RTOL = 1e-6
FLOATS = ("data", "err", "var_poisson", "var_rnoise")


def _inputs(tmp_path, *, nints, ngroups, inst=NIRCAM, seed=40, dark=None, gainfact=None, lastframe=False):
    rng = np.random.default_rng(seed)
    ref_shape = (64, 64)
    gain_a = rng.uniform(1.8, 2.2, ref_shape).astype(np.float32)
    gain_a[30, 30] = 0.0
    meta = {} if gainfact is None else {"exposure.gain_factor": gainfact}
    gain = reference(tmp_path / "gain.fits", "GainModel", data=gain_a, inst=inst, meta=meta)
    rn = reference(tmp_path / "rn.fits", "ReadnoiseModel", data=rng.uniform(8, 12, ref_shape).astype(np.float32),
                   inst=inst)
    shape = (24, 28)
    full = (nints, ngroups) + shape
    rate = 10 ** rng.uniform(-1, 2.5, shape)
    e = rng.poisson(rate[None, None] * 10.7 * 2, full)
    data = (1000 + np.cumsum(e, axis=1) / 2 + rng.normal(0, 7, full)).astype(np.float32)
    gdq = np.zeros(full, np.uint8)
    hits = rng.random(full) < 0.03
    hits[:, 0] = False
    gdq[hits] |= dq.JUMP_DET
    data += np.cumsum(hits * 500.0, axis=1).astype(np.float32)
    first_sat = np.where(rng.random((nints,) + shape) < 0.2, rng.integers(0, ngroups, (nints,) + shape), ngroups)
    for g in range(ngroups):
        gdq[:, g][first_sat <= g] |= dq.SATURATED
    if lastframe:
        gdq[:, -1] |= dq.DO_NOT_USE
    pdq = np.zeros(shape, np.uint32)
    pdq[3, 3] = dq.DO_NOT_USE | dq.DEAD
    path = science(tmp_path / "x_ramp.fits", kind="ramp", inst=inst, nints=nints, ngroups=ngroups, shape=shape,
                   xstart=5, ystart=9, data=data, groupdq=gdq, pixeldq=pdq,
                   subarray="SUB64" if inst is MIRI else "SUB64P")
    if dark is not None:
        from stdatamodels.jwst import datamodels as dm

        with dm.RampModel(str(path)) as m:
            m.average_dark_current = np.full(shape, dark, np.float32)
            m.save(str(path))
    return path, gain, rn


def _run_both(pm, path, **params):
    out, ints = RampFitStep.call(str(path), **params)
    result = pm.registry.step("ramp_fit")(**params).run(open_model(path), RunContext(pm=pm))
    return (result.model, result.extras["rateints"]), (out, ints)


def _compare(mine, theirs):
    worst = 0.0
    for m, t in zip(mine, theirs):
        for name in FLOATS:
            d = max_rel(getattr(m, name), getattr(t, name))
            assert d <= RTOL, f"{type(m).__name__}.{name}: {d:g}"
            worst = max(worst, d)
        np.testing.assert_array_equal(m.dq, t.dq)
        assert m.meta.bunit_data == t.meta.bunit_data == "DN/s"
        assert m.meta.cal_step.ramp_fit == t.meta.cal_step.ramp_fit == "COMPLETE"
        assert m.data.shape == t.data.shape
    return worst


@pytest.mark.parametrize("nints,params", [(1, {}), (2, {}), (2, {"firstgroup": 1, "lastgroup": 5}),
                                          (1, {"suppress_one_group": False})])
def test_fits_like_jwst(jwcal_pm, tmp_path, nints, params):
    path, gain, rn = _inputs(tmp_path, nints=nints, ngroups=7, dark=0.05 if nints == 2 else None)
    params = dict(params, override_gain=gain, override_readnoise=rn, maximum_cores="1")
    mine, theirs = _run_both(jwcal_pm, path, **params)
    _compare(mine, theirs)
    assert mine[1].data.shape[0] == nints


def test_gainfact_and_fitopt(jwcal_pm, tmp_path):
    path, gain, rn = _inputs(tmp_path, nints=2, ngroups=5, gainfact=1.5)
    out = tmp_path / "out"
    out.mkdir()
    params = dict(override_gain=gain, override_readnoise=rn, save_opt=True, output_dir=str(out))
    theirs = RampFitStep.call(str(path), **params)           # writes x_fitopt.fits
    result = jwcal_pm.registry.step("ramp_fit")(opt_name="mine.fits", **params).run(
        open_model(path), RunContext(pm=jwcal_pm))            # writes mine_fitopt.fits
    mine = (result.model, result.extras["rateints"])
    _compare(mine, theirs)
    assert mine[0].meta.exposure.gain_factor == theirs[0].meta.exposure.gain_factor == 1.5
    from stdatamodels.jwst import datamodels as dm

    mine_opt = open_model(out / "mine_fitopt.fits")
    with dm.open(str(out / "x_fitopt.fits")) as their_opt:
        for name in ("slope", "sigslope", "var_poisson", "var_rnoise", "yint", "sigyint", "pedestal", "weights"):
            assert max_rel(getattr(mine_opt, name), getattr(their_opt, name)) <= 1e-5, name


def test_miri_trims_unused_last_group(jwcal_pm, tmp_path):
    register_miri(jwcal_pm)
    path, gain, rn = _inputs(tmp_path, nints=2, ngroups=6, inst=MIRI, lastframe=True)
    mine, theirs = _run_both(jwcal_pm, path, override_gain=gain, override_readnoise=rn)
    _compare(mine, theirs)
