"""ramp_fitting LIKELY (likelihood fit, Brandt 2024): parity with stcal 1.20 and jwst 3.0.0.

* ``fit_ramps_likely`` against stcal's ``ramp_fit_data(..., "LIKELY", ...)`` on a
  ``RampData`` (``likely_ramp_fit``): 16 x 16 pixels, NINTS 1-3, 5-23 groups, NFRAMES 1 (no
  pair omission), 2 and 4 (pair omission), flagged jumps and unflagged ones (found by the
  likelihood search), saturation tails, DO_NOT_USE / PERSISTENCE / CHARGELOSS groups, NaN
  data, zero and NaN gain, ramps with 0, 1 or 2 usable groups, average dark current,
  ZEROFRAME, explicit uneven read times, a ``rejection_threshold``.
* the ``ramp_fit`` step with ``algorithm="LIKELY"`` against jwst's RampFitStep (rate,
  rateints, the ``likely_chisq`` product of ``save_opt``), and the fall back to OLS_C with
  three groups.

Tolerance: SCI, ERR, VAR_POISSON, VAR_RNOISE of rate and rateints within 1e-5 relative
(``atol=0``) with the same NaN and infinity pattern; DQ identical.  Measured: bit-identical
everywhere (the arithmetic follows stcal's operation order in float64, and the exposure
combination in float32).
"""

import numpy as np
import pytest

pytest.importorskip("stcal")

from jwcore import dq  # noqa: E402
from jwcore.steps.ramp_fitting import fit_ramps_likely  # noqa: E402

pytestmark = pytest.mark.parity
RTOL = 1e-5
DNU, SAT, JUMP = dq.DO_NOT_USE, dq.SATURATED, dq.JUMP_DET
FLAGS = {
    "GOOD": 0, "DO_NOT_USE": DNU, "SATURATED": SAT, "JUMP_DET": JUMP, "DROPOUT": dq.DROPOUT,
    "PERSISTENCE": dq.PERSISTENCE, "AD_FLOOR": dq.AD_FLOOR, "CHARGELOSS": dq.CHARGELOSS,
    "NO_GAIN_VALUE": dq.NO_GAIN_VALUE, "UNRELIABLE_SLOPE": dq.UNRELIABLE_SLOPE,
}
FRAME_TIME = 10.73677  # NIRCam full frame
FIELDS = ("slope", "dq", "var_poisson", "var_rnoise", "err")


# --------------------------------------------------------------------------------------
# Synthetic exposures


def make_exposure(seed, nints, ngroups, *, nframes=1, shape=(16, 16), messy=False):
    """NIRCam-like ramps (Poisson + read noise, frames averaged into groups) with flagged and
    unflagged jumps, saturation tails and, with ``messy``, extra flags and NaN data."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    gain = rng.uniform(1.6, 2.4, shape).astype(np.float32)
    readnoise = rng.uniform(7.0, 14.0, shape).astype(np.float32)  # CDS, DN
    flux = 10 ** rng.uniform(-1.0, 2.5, shape)  # DN/s
    nframe_all = ngroups * nframes
    e = rng.poisson((flux * FRAME_TIME * gain)[None, None], (nints, nframe_all, ny, nx))
    frames = np.cumsum(e, axis=1) / gain + rng.normal(0, 1, (nints, nframe_all, ny, nx)) * readnoise / np.sqrt(2)
    data = frames.reshape(nints, ngroups, nframes, ny, nx).mean(axis=2) + 800.0
    # Jumps: some flagged (as the jump step would), some left for the likelihood search.
    hit = rng.random(data.shape) < 0.06
    hit[:, 0] = False
    data += np.cumsum(hit * rng.uniform(60.0, 900.0, data.shape), axis=1)
    data = data.astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[hit & (rng.random(data.shape) < 0.5)] |= JUMP
    first_sat = np.where(rng.random((nints, ny, nx)) < 0.25, rng.integers(1, ngroups + 1, (nints, ny, nx)), ngroups)
    for g in range(ngroups):
        gdq[:, g][first_sat <= g] |= SAT
    # 0, 1 and 2 usable groups; first group saturated; an all-DO_NOT_USE ramp.
    gdq[:, 2:, 1, 2] |= SAT
    gdq[:, 1:, 1, 3] |= SAT
    gdq[:, :, 1, 4] |= SAT
    gdq[:, :, 1, 5] |= DNU
    gdq[0, 2, 1, 6] |= DNU
    if messy:
        extra = rng.choice(np.array([0] * 30 + [DNU, DNU | JUMP, dq.PERSISTENCE, dq.CHARGELOSS | DNU], np.uint8),
                           size=data.shape)
        gdq |= extra
        data[rng.random(data.shape) < 0.005] = np.nan
    gain[0, 0] = 0.0
    gain[0, 1] = np.nan
    pixeldq = np.zeros(shape, np.uint32)
    pixeldq[rng.random(shape) < 0.05] |= DNU | dq.DEAD
    pixeldq[rng.random(shape) < 0.05] |= dq.HOT
    return data, gdq, pixeldq, readnoise, gain


@pytest.fixture(scope="module")
def stcal_likely():
    from stcal.ramp_fitting.ramp_fit import ramp_fit_data
    from stcal.ramp_fitting.ramp_fit_class import RampData

    def run(data, gdq, pixeldq, readnoise, gain, *, nframes, dark=None, zeroframe=None, read_times=None,
            rejection_threshold=None):
        nints, ngroups, ny, nx = data.shape
        rd = RampData()
        dark = np.zeros((ny, nx), np.float32) if dark is None else dark
        rd.set_arrays(data.copy(), gdq.copy(), pixeldq.copy(), dark,
                      zeroframe=None if zeroframe is None else zeroframe.copy())
        rd.set_meta("NIRCAM", FRAME_TIME, FRAME_TIME * nframes, 0, nframes, 0)
        rd.algorithm = "LIKELY"
        rd.set_dqflags(FLAGS)
        rd.start_row, rd.num_rows = 0, ny
        rd.read_pattern = read_times
        rd.rejection_threshold = rejection_threshold
        return ramp_fit_data(rd, False, readnoise.copy(), gain.copy(), "LIKELY", "optimal", "none")

    return run


def _worst(name, ours, ref):
    """Largest relative difference; NaN/inf patterns and DQ must agree."""
    ref = np.asarray(ref)
    assert ours.shape == ref.shape, f"{name}: {ours.shape} != {ref.shape}"
    if ref.dtype.kind in "ui":
        assert ours.dtype == ref.dtype
        bad = np.flatnonzero(ours != ref)
        assert bad.size == 0, f"{name}: {bad.size} DQ diffs: {ours.flat[bad[:3]]} vs {ref.flat[bad[:3]]}"
        return 0.0
    assert ours.dtype == np.float32, name
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref), err_msg=name)
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(ref), err_msg=name)
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=0, equal_nan=True, err_msg=name)
    ok = np.isfinite(ref)
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(ours[ok].astype(np.float64) - ref[ok]) / np.maximum(np.abs(ref[ok]), 1e-30)))


def _compare(ours, ref):
    image, integ, opt = ref
    assert opt is None and ours.opt is None
    worst = 0.0
    for field in FIELDS:
        worst = max(worst, _worst("rate." + field, getattr(ours.image, field), image[field]))
        worst = max(worst, _worst("rateints." + field, getattr(ours.integ, field), integ[field]))
    worst = max(worst, _worst("chisq", ours.chisq, image["chisq"]))
    worst = max(worst, _worst("chisq_ints", ours.chisq_ints, integ["chisq"]))
    return worst


# --------------------------------------------------------------------------------------
# Algorithm parity


CASES = {
    "nframes1": dict(seed=1, nints=2, ngroups=8, nframes=1),
    "nframes4-messy": dict(seed=2, nints=2, ngroups=6, nframes=4, messy=True),
    "nframes2-dark": dict(seed=3, nints=1, ngroups=10, nframes=2, dark=0.7),
    "long-3ints": dict(seed=4, nints=3, ngroups=23, nframes=1, messy=True),
    "zeroframe": dict(seed=5, nints=2, ngroups=5, nframes=2, zeroframe=True),
    "read-times": dict(seed=6, nints=2, ngroups=7, nframes=1, read_times=True),
    "threshold": dict(seed=7, nints=2, ngroups=9, nframes=2, rejection_threshold=3.5),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fit_ramps_likely_like_stcal(stcal_likely, case):
    c = CASES[case]
    data, gdq, pdq, rn, gain = make_exposure(c["seed"], c["nints"], c["ngroups"], nframes=c["nframes"],
                                             messy=c.get("messy", False))
    kw = {}
    if c.get("dark"):
        kw["dark"] = np.full(pdq.shape, c["dark"], np.float32)
    if c.get("zeroframe"):
        rng = np.random.default_rng(c["seed"])
        zf = (data[:, 0] - rng.uniform(0.0, 40.0, data[:, 0].shape)).astype(np.float32)
        zf[:, 3, :4] = 0.0  # unusable zero frame (stcal uses the zero all the same)
        kw["zeroframe"] = zf
    if c.get("read_times"):
        # uneven sampling: 1, 2 or 3 reads per resultant, a skipped read between resultants
        t = np.cumsum(np.random.default_rng(c["seed"]).uniform(5.0, 15.0, 4 * c["ngroups"]))
        times, k = [], 0
        for g in range(c["ngroups"]):
            n = 1 + g % 3
            times.append(list(t[k:k + n]))
            k += n + 1
        kw["read_times"] = times
    if c.get("rejection_threshold"):
        kw["rejection_threshold"] = c["rejection_threshold"]
    inputs = [a.copy() for a in (data, gdq, pdq, rn, gain)]

    ref = stcal_likely(data, gdq, pdq, rn, gain, nframes=c["nframes"], **kw)
    ours = fit_ramps_likely(data, gdq, pdq, rn, gain, frame_time=FRAME_TIME, nframes=c["nframes"], groupgap=0,
                            average_dark_current=kw.get("dark"), zeroframe=kw.get("zeroframe"),
                            read_times=kw.get("read_times"), rejection_threshold=kw.get("rejection_threshold"),
                            max_workers=2, block_rows=5)
    worst = _compare(ours, ref)
    assert worst <= RTOL
    for before, after in zip(inputs, (data, gdq, pdq, rn, gain)):
        np.testing.assert_array_equal(before, after)  # inputs untouched

    # The likelihood search found jumps that were not flagged.
    flagged = np.any(gdq & JUMP, axis=1)
    assert np.count_nonzero((ours.integ.dq & JUMP) != 0) > np.count_nonzero(flagged)
    if c.get("messy") or c.get("zeroframe"):
        return  # extra flags / NaN data / the zero-frame resultant change the ramps below
    # Ramps with no usable difference: NaN rate and error; one difference: a rate.
    assert np.isnan(ours.integ.slope[:, 1, 3]).all() and np.isnan(ours.integ.err[:, 1, 3]).all()
    assert np.isfinite(ours.integ.slope[:, 1, 2]).all()
    assert (ours.integ.dq[:, 1, 4] & DNU).all() and (ours.integ.dq[:, 1, 5] & DNU).all()


def test_block_size_and_threads_do_not_matter():
    data, gdq, pdq, rn, gain = make_exposure(8, 2, 7, nframes=2)
    kw = dict(frame_time=FRAME_TIME, nframes=2, groupgap=0)
    a = fit_ramps_likely(data, gdq, pdq, rn, gain, max_workers=1, **kw)
    b = fit_ramps_likely(data, gdq, pdq, rn, gain, max_workers=2, block_rows=3, **kw)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(a.image, field), getattr(b.image, field))
        np.testing.assert_array_equal(getattr(a.integ, field), getattr(b.integ, field))


def test_needs_four_groups():
    data, gdq, pdq, rn, gain = make_exposure(9, 1, 3)
    with pytest.raises(ValueError, match="at least 4 groups"):
        fit_ramps_likely(data, gdq, pdq, rn, gain, frame_time=FRAME_TIME, nframes=1, groupgap=0)


# --------------------------------------------------------------------------------------
# Step parity


def _ramp_file(tmp_path, *, nints, ngroups, nframes=1, seed=20, dark=None, read_times=None, zeroframe=False):
    pytest.importorskip("jwst")
    from .stepkit import NIRCAM, reference, science

    data, gdq, pdq, _, _ = make_exposure(seed, nints, ngroups, nframes=nframes, shape=(20, 24))
    zf = (data[:, 0] - 15.0).astype(np.float32) if zeroframe else None
    rng = np.random.default_rng(seed)
    gain_a = rng.uniform(1.8, 2.2, (64, 64)).astype(np.float32)
    gain_a[12, 10] = 0.0
    gain = reference(tmp_path / "gain.fits", "GainModel", data=gain_a, inst=NIRCAM)
    rn = reference(tmp_path / "rn.fits", "ReadnoiseModel", data=rng.uniform(8, 12, (64, 64)).astype(np.float32),
                   inst=NIRCAM)
    path = science(tmp_path / "x_ramp.fits", kind="ramp", inst=NIRCAM, nints=nints, ngroups=ngroups,
                   nframes=nframes, shape=(20, 24), xstart=5, ystart=9, data=data, groupdq=gdq, pixeldq=pdq,
                   zeroframe=zf, extra=None if read_times is None else {"exposure.read_times": read_times})
    if dark is not None:
        from stdatamodels.jwst import datamodels as dm

        with dm.RampModel(str(path)) as m:
            m.average_dark_current = np.full((20, 24), dark, np.float32)
            m.save(str(path))
    return path, gain, rn


def _compare_models(mine, theirs):
    from .stepkit import max_rel

    for m, t in zip(mine, theirs):
        for name in ("data", "err", "var_poisson", "var_rnoise"):
            assert max_rel(getattr(m, name), getattr(t, name)) <= RTOL, f"{type(m).__name__}.{name}"
        np.testing.assert_array_equal(m.dq, t.dq)
        assert m.meta.bunit_data == t.meta.bunit_data == "DN/s"
        assert m.data.shape == t.data.shape


def test_ramp_fit_step_likely_like_jwst(jwcal_pm, tmp_path):
    pytest.importorskip("jwst")
    from jwst.ramp_fitting import RampFitStep
    from stdatamodels.jwst import datamodels as dm

    from jwcore.datamodel import open_model
    from jwcore.runner import RunContext

    path, gain, rn = _ramp_file(tmp_path, nints=2, ngroups=7, nframes=2, dark=0.3)
    out = tmp_path / "out"
    out.mkdir()
    params = dict(algorithm="LIKELY", override_gain=gain, override_readnoise=rn, save_opt=True,
                  output_dir=str(out))
    theirs = RampFitStep.call(str(path), **params)  # writes x_likely_chisq.fits
    result = jwcal_pm.registry.step("ramp_fit")(opt_name="mine.fits", **params).run(
        open_model(path), RunContext(pm=jwcal_pm))  # writes mine_likely_chisq.fits
    mine = (result.model, result.extras["rateints"])
    _compare_models(mine, theirs)
    assert np.any(mine[1].dq & JUMP)
    from .stepkit import max_rel

    with dm.open(str(out / "x_likely_chisq.fits")) as their_chisq:
        mine_chisq = open_model(out / "mine_likely_chisq.fits")
        assert max_rel(mine_chisq.data, their_chisq.data) <= RTOL


@pytest.mark.parametrize("variant", ["read_times", "zeroframe"])
def test_ramp_fit_step_read_times_and_zero_frame(jwcal_pm, tmp_path, variant):
    """Explicit read times switch both to LIKELY; a ZEROFRAME with NFRAMES 2 is a resultant."""
    pytest.importorskip("jwst")
    from jwst.ramp_fitting import RampFitStep

    from jwcore.datamodel import open_model
    from jwcore.runner import RunContext

    if variant == "read_times":
        times = [[10.0], [20.0, 30.0], [50.0], [60.0, 70.0, 80.0], [100.0], [110.0]]
        path, gain, rn = _ramp_file(tmp_path, nints=1, ngroups=6, read_times=times)
        params = dict(override_gain=gain, override_readnoise=rn)  # algorithm left at OLS_C
    else:
        path, gain, rn = _ramp_file(tmp_path, nints=2, ngroups=5, nframes=2, zeroframe=True)
        params = dict(algorithm="LIKELY", override_gain=gain, override_readnoise=rn)
    theirs = RampFitStep.call(str(path), **params)
    result = jwcal_pm.registry.step("ramp_fit")(**params).run(open_model(path), RunContext(pm=jwcal_pm))
    _compare_models((result.model, result.extras["rateints"]), theirs)


def test_ramp_fit_step_likely_falls_back_to_ols(jwcal_pm, tmp_path):
    pytest.importorskip("jwst")
    from jwst.ramp_fitting import RampFitStep

    from jwcore.datamodel import open_model
    from jwcore.runner import RunContext

    path, gain, rn = _ramp_file(tmp_path, nints=1, ngroups=3)
    params = dict(algorithm="LIKELY", override_gain=gain, override_readnoise=rn)
    theirs = RampFitStep.call(str(path), **params)
    result = jwcal_pm.registry.step("ramp_fit")(**params).run(open_model(path), RunContext(pm=jwcal_pm))
    _compare_models((result.model, result.extras["rateints"]), theirs)
