"""ramp_fitting (OLS, optimal weighting): parity with stcal 1.20 ``ramp_fit`` (OLS_C).

stcal is called the way its own tests do: a ``RampData`` filled with ``set_arrays`` /
``set_meta`` / ``set_dqflags`` and passed to ``ramp_fit_data`` with copies of the read
noise and gain (stcal scales its read-noise argument in place).

Tolerance: float outputs within 1e-5 relative (``rtol=1e-5``, ``atol=0``) with the same
NaN pattern; measured differences are at most ~1.2e-7 (one float32 rounding).  DQ arrays
and the optional product's shapes are identical.
"""

import numpy as np
import pytest

from jwcore import dq
from jwcore.steps.ramp_fitting import fit_ramps, miri_group_range

RTOL = 1e-5
FLAGS = {
    "GOOD": 0,
    "DO_NOT_USE": dq.DO_NOT_USE,
    "SATURATED": dq.SATURATED,
    "JUMP_DET": dq.JUMP_DET,
    "DROPOUT": dq.DROPOUT,
    "PERSISTENCE": dq.PERSISTENCE,
    "AD_FLOOR": dq.AD_FLOOR,
    "CHARGELOSS": dq.CHARGELOSS,
    "NO_GAIN_VALUE": dq.NO_GAIN_VALUE,
    "UNRELIABLE_SLOPE": dq.UNRELIABLE_SLOPE,
}
DNU, SAT, JUMP = dq.DO_NOT_USE, dq.SATURATED, dq.JUMP_DET


# --------------------------------------------------------------------------------------
# Synthetic ramps


def make_ramps(seed, nints, ngroups, ny=12, nx=13, *, group_time=10.7, nframes=1, groupgap=0,
               jumps=0.05, saturate=0.3, messy=False):
    """Poisson + read-noise ramps with flagged jumps and saturation tails."""
    rng = np.random.default_rng(seed)
    gain = rng.uniform(1.5, 2.5, (ny, nx)).astype(np.float32)
    readnoise = rng.uniform(6.0, 15.0, (ny, nx)).astype(np.float32)
    flux = (10 ** rng.uniform(-1.5, 2.5, (ny, nx))).astype(np.float32)  # DN/s
    electrons = rng.poisson((flux * group_time * gain)[None, None], (nints, ngroups, ny, nx))
    data = np.cumsum(electrons, axis=1) / gain
    data = data + rng.normal(0.0, 1.0, data.shape) * readnoise / np.sqrt(2.0) + 500.0
    data = data.astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    if ngroups > 1 and jumps:
        hit = rng.random(data.shape) < jumps
        hit[:, 0] = False
        gdq[hit] |= JUMP
        data += (np.cumsum(hit, axis=1) * 400.0).astype(np.float32)
    if saturate:
        first_sat = np.where(rng.random((nints, ny, nx)) < saturate,
                             rng.integers(0, ngroups, (nints, ny, nx)), ngroups)
        for g in range(ngroups):
            gdq[:, g][first_sat <= g] |= SAT
    if messy:
        extra = rng.choice(np.array([0] * 40 + [DNU, DNU | JUMP, dq.PERSISTENCE, dq.AD_FLOOR | DNU,
                                             dq.CHARGELOSS | DNU, dq.CHARGELOSS, SAT | DNU], np.uint8),
                           size=data.shape)
        gdq |= extra
        data[rng.random(data.shape) < 0.01] = np.nan
    pixeldq = np.zeros((ny, nx), np.uint32)
    pixeldq[rng.random((ny, nx)) < 0.05] |= DNU
    pixeldq[rng.random((ny, nx)) < 0.05] |= dq.HOT
    meta = dict(frame_time=group_time / (nframes + groupgap), group_time=group_time,
                nframes=nframes, groupgap=groupgap)
    return data, gdq, pixeldq, readnoise, gain, meta


# --------------------------------------------------------------------------------------
# stcal reference


@pytest.fixture(scope="module")
def stcal_fit():
    pytest.importorskip("stcal")
    from stcal.ramp_fitting.ramp_fit import ramp_fit_data
    from stcal.ramp_fitting.ramp_fit_class import RampData

    def run(data, gdq, pixeldq, readnoise, gain, *, frame_time, group_time, nframes, groupgap,
            dropframes1=0, suppress_one_group=True, save_opt=False, dark=None, instrument="NIRCAM"):
        nints, ngroups, ny, nx = data.shape
        rd = RampData()
        orig = gdq.copy() if np.any(gdq & dq.CHARGELOSS) else None
        dark = np.zeros((ny, nx), np.float32) if dark is None else dark
        rd.set_arrays(data.copy(), gdq.copy(), pixeldq.copy(), dark, orig_gdq=orig)
        rd.set_meta(instrument, frame_time, group_time, groupgap, nframes, dropframes1)
        rd.algorithm = "OLS_C"
        rd.set_dqflags(FLAGS)
        rd.start_row, rd.num_rows = 0, ny
        # stcal's ramp_fit() switches suppression off for one-group data.
        rd.suppress_one_group_ramps = bool(suppress_one_group) and ngroups > 1
        return ramp_fit_data(rd, save_opt, readnoise.copy(), gain.copy(), "OLS_C", "optimal", "none")

    return run


def assert_same(name, ours, ref):
    ref = np.asarray(ref)
    assert ours.shape == ref.shape, f"{name}: shape {ours.shape} != {ref.shape}"
    if ref.dtype.kind in "ui":
        bad = np.flatnonzero(ours != ref)
        assert bad.size == 0, f"{name}: {bad.size} DQ diffs: {ours.flat[bad[:3]]} vs {ref.flat[bad[:3]]}"
        return
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=0, equal_nan=True, err_msg=name)


def assert_products(ours, ref, with_opt=False):
    image, integ, opt = ref
    for field in ("slope", "dq", "var_poisson", "var_rnoise", "err"):
        assert_same("rate." + field, getattr(ours.image, field), image[field])
        assert_same("rateints." + field, getattr(ours.integ, field), integ[field])
    if with_opt:
        for field in ("slope", "sigslope", "var_poisson", "var_rnoise", "yint", "sigyint",
                      "pedestal", "weights", "crmag"):
            assert_same("opt." + field, getattr(ours.opt, field), opt[field])
    else:
        assert ours.opt is None


# --------------------------------------------------------------------------------------
# Parity


@pytest.mark.parity
@pytest.mark.parametrize("nints", [1, 3])
@pytest.mark.parametrize("ngroups", [4, 10, 40])   # 40: medians by sorting, many segment lengths
def test_parity_random_ramps(stcal_fit, nints, ngroups):
    data, gdq, pdq, rn, gain, meta = make_ramps(10 * nints + ngroups, nints, ngroups)
    ours = fit_ramps(data, gdq, pdq, rn, gain, **meta)
    assert_products(ours, stcal_fit(data, gdq, pdq, rn, gain, **meta))
    # The jumps and saturation really split ramps: some rates are flagged.
    assert np.any(ours.image.dq & JUMP) and np.any(ours.image.dq & SAT)


@pytest.mark.parity
@pytest.mark.parametrize("nframes,groupgap,dropframes1", [(1, 0, 0), (4, 1, 0), (2, 3, 1), (8, 0, 1)])
def test_parity_readout_patterns_with_optional_product(stcal_fit, nframes, groupgap, dropframes1):
    data, gdq, pdq, rn, gain, meta = make_ramps(nframes * 7 + groupgap, 2, 6, nframes=nframes,
                                                groupgap=groupgap, group_time=21.5)
    ours = fit_ramps(data, gdq, pdq, rn, gain, **meta, dropframes1=dropframes1, save_opt=True)
    ref = stcal_fit(data, gdq, pdq, rn, gain, **meta, dropframes1=dropframes1, save_opt=True)
    assert_products(ours, ref, with_opt=True)
    assert ours.opt.crmag.shape[1] > 0 and ours.opt.slope.shape[1] > 1


@pytest.mark.parity
@pytest.mark.parametrize("suppress", [True, False])
@pytest.mark.parametrize("ngroups", [1, 2, 3])
def test_parity_one_two_three_group_ramps(stcal_fit, ngroups, suppress):
    data, gdq, pdq, rn, gain, meta = make_ramps(ngroups + 5 * suppress, 3, ngroups, saturate=0.4)
    ours = fit_ramps(data, gdq, pdq, rn, gain, **meta, suppress_one_group=suppress, save_opt=True)
    ref = stcal_fit(data, gdq, pdq, rn, gain, **meta, suppress_one_group=suppress, save_opt=True)
    assert_products(ours, ref, with_opt=True)


@pytest.mark.parity
@pytest.mark.parametrize("suppress", [True, False])
def test_parity_first_group_only_and_saturated_starts(stcal_fit, suppress):
    # nframes/groupgap make the first-group time differ from the group time.
    data, gdq, pdq, rn, gain, meta = make_ramps(3, 2, 5, saturate=0.0, jumps=0.0, nframes=4, groupgap=1)
    gdq[:, 1:, 0, :] |= SAT            # row 0: only the first group usable
    gdq[0, :, 1, :] |= SAT             # row 1: integration 0 saturated from the start
    gdq[:, :, 2, :] |= SAT             # row 2: every group of every integration saturated
    gdq[1, 0, 3, :] |= SAT             # row 3: first group saturated, later groups not
    gdq[:, 2:, 4, :] |= SAT            # row 4: two usable groups
    gdq[:, 1, 5, :] |= JUMP            # row 5: jump at group 1 -> first group isolated
    gdq[:, 2:, 5, :] |= SAT
    ours = fit_ramps(data, gdq, pdq, rn, gain, **meta, suppress_one_group=suppress, save_opt=True)
    ref = stcal_fit(data, gdq, pdq, rn, gain, **meta, suppress_one_group=suppress, save_opt=True)
    assert_products(ours, ref, with_opt=True)
    row2 = ours.image.dq[2]
    assert np.all(row2 & DNU) and np.all(row2 & SAT) and np.all(np.isnan(ours.image.slope[2]))
    first_only = ~(pdq[0] & DNU).astype(bool)
    # Only the first group usable: a rate without suppression, none with it.
    assert np.all(np.isfinite(ours.image.slope[0][first_only])) != suppress


@pytest.mark.parity
def test_parity_flag_soup_bad_gain_nan_chargeloss_dark(stcal_fit):
    data, gdq, pdq, rn, gain, meta = make_ramps(99, 3, 8, messy=True)
    rng = np.random.default_rng(5)
    gain[rng.random(gain.shape) < 0.05] = 0.0
    gain[rng.random(gain.shape) < 0.05] = np.nan
    rn[rng.random(rn.shape) < 0.03] = 0.0
    dark = rng.uniform(0.0, 0.3, gain.shape).astype(np.float32)
    ours = fit_ramps(data, gdq, pdq, rn, gain, **meta, average_dark_current=dark, save_opt=True)
    ref = stcal_fit(data, gdq, pdq, rn, gain, **meta, dark=dark, save_opt=True)
    assert_products(ours, ref, with_opt=True)
    assert np.any(ours.image.dq & dq.NO_GAIN_VALUE)


@pytest.mark.parity
def test_parity_short_group_time_hits_large_variance_limit(stcal_fit):
    # Tiny group times with short segments give variances above 1e6, which are zeroed.
    data, gdq, pdq, rn, gain, meta = make_ramps(12, 2, 3, group_time=0.01, saturate=0.5)
    ours = fit_ramps(data, gdq, pdq, rn, gain, **meta, suppress_one_group=False)
    assert_products(ours, stcal_fit(data, gdq, pdq, rn, gain, **meta, suppress_one_group=False))
    fitted = np.isfinite(ours.integ.slope)
    assert np.any(fitted & (ours.integ.var_rnoise == 0)) and np.any(ours.integ.var_rnoise > 0)


@pytest.mark.parity
def test_parity_all_first_groups_saturated_gives_nothing(stcal_fit):
    data, gdq, pdq, rn, gain, meta = make_ramps(4, 2, 4)
    gdq[:, 0] |= SAT
    assert stcal_fit(data, gdq, pdq, rn, gain, **meta)[0] is None
    result = fit_ramps(data, gdq, pdq, rn, gain, **meta)
    assert result.image is None and result.integ is None and result.opt is None


@pytest.mark.parity
@pytest.mark.parametrize("suppress", [True, False])
def test_parity_miri_group_trimming(stcal_fit, suppress):
    data, gdq, pdq, rn, gain, meta = make_ramps(8, 2, 7, jumps=0.1)
    gdq[:, 0] |= DNU                   # first frame
    gdq[:, -1] |= DNU                  # last frame
    gdq[:, 1, ::2, :] |= JUMP          # jumps on the group that becomes first
    assert miri_group_range(gdq) == (1, 6)
    kw = dict(suppress_one_group=suppress, save_opt=True)
    ours = fit_ramps(data, gdq, pdq, rn, gain, **meta, trim_unused_groups=True, **kw)
    ref = stcal_fit(data, gdq, pdq, rn, gain, **meta, instrument="MIRI", **kw)
    assert_products(ours, ref, with_opt=True)
    # Without the MIRI rule the DO_NOT_USE frames are simply unused: other JUMP flags.
    plain = fit_ramps(data, gdq, pdq, rn, gain, **meta, **kw)
    assert not np.array_equal(plain.image.dq, ours.image.dq)


@pytest.mark.parity
def test_parity_miri_too_few_groups_gives_nothing(stcal_fit):
    data, gdq, pdq, rn, gain, meta = make_ramps(9, 1, 3, saturate=0.0)
    gdq[:, :2] |= DNU
    assert stcal_fit(data, gdq, pdq, rn, gain, **meta, instrument="MIRI")[0] is None
    assert fit_ramps(data, gdq, pdq, rn, gain, **meta, trim_unused_groups=True).image is None
    assert fit_ramps(data, gdq, pdq, rn, gain, **meta).image is not None


# --------------------------------------------------------------------------------------
# Behaviour that needs no reference code


def test_threads_and_blocks_do_not_change_results():
    data, gdq, pdq, rn, gain, meta = make_ramps(21, 2, 6, ny=17, nx=9, messy=True)
    one = fit_ramps(data, gdq, pdq, rn, gain, **meta, save_opt=True)
    many = fit_ramps(data, gdq, pdq, rn, gain, **meta, save_opt=True, max_workers=2, block_rows=3)
    for a, b in zip(one.image + one.integ + one.opt, many.image + many.integ + many.opt):
        np.testing.assert_array_equal(a, b)


def test_inputs_are_not_modified():
    data, gdq, pdq, rn, gain, meta = make_ramps(2, 2, 5, messy=True)
    gain[0, 0] = 0.0
    copies = [a.copy() for a in (data, gdq, pdq, rn, gain)]
    fit_ramps(data, gdq, pdq, rn, gain, **meta, save_opt=True)
    for before, after in zip(copies, (data, gdq, pdq, rn, gain)):
        np.testing.assert_array_equal(before, after)


def test_noiseless_ramps_recover_the_rate_and_textbook_read_noise_variance():
    ngroups, tgroup = 7, 5.0
    rate = np.array([[0.5, 20.0], [300.0, 4000.0]], np.float32)  # DN/s, spans all SNR powers
    t = np.arange(1, ngroups + 1, dtype=np.float32)[:, None, None] * tgroup
    data = (100.0 + rate[None] * t)[None].astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    rn = np.full((2, 2), 10.0, np.float32)       # CDS read noise, DN
    gain = np.full((2, 2), 2.0, np.float32)
    res = fit_ramps(data, gdq, np.zeros((2, 2), np.uint32), rn, gain, frame_time=tgroup,
                    group_time=tgroup, nframes=1, groupgap=0)
    np.testing.assert_allclose(res.image.slope, rate, rtol=1e-6)
    # Manual: var_R = 12 R^2 / ((n^3 - n) tgroup^2), R the single-read noise (CDS / sqrt 2).
    expect_vr = 12 * (10.0 / np.sqrt(2)) ** 2 / ((ngroups**3 - ngroups) * tgroup**2)
    np.testing.assert_allclose(res.image.var_rnoise, expect_vr, rtol=1e-6)
    # var_P = rate / (tgroup gain (n - 1)), the rate being the (exact) median difference.
    np.testing.assert_allclose(res.image.var_poisson, rate / (tgroup * 2.0 * (ngroups - 1)), rtol=1e-6)
    np.testing.assert_allclose(res.image.err, np.sqrt(expect_vr + res.image.var_poisson), rtol=1e-6)
    assert not res.image.dq.any()


def test_jump_splits_ramp_and_offset_is_ignored():
    ngroups, tgroup = 8, 2.0
    t = np.arange(ngroups, dtype=np.float32) * tgroup
    clean = 50.0 + 30.0 * t                      # 30 DN/s
    hit = clean.copy()
    hit[4:] += 1000.0                            # cosmic ray at group 4
    data = np.stack([clean, hit])[None, :, :, None].transpose(0, 2, 1, 3).astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 4, 1, 0] = JUMP
    res = fit_ramps(data, gdq, np.zeros((2, 1), np.uint32), np.full((2, 1), 5.0, np.float32),
                    np.ones((2, 1), np.float32), frame_time=tgroup, group_time=tgroup, nframes=1,
                    groupgap=0, save_opt=True)
    np.testing.assert_allclose(res.image.slope[:, 0], [30.0, 30.0], rtol=1e-6)
    assert res.image.dq[1, 0] == JUMP and res.image.dq[0, 0] == 0
    # Two 4-group segments (the jump group starts the second); CR magnitude 1000 + 60.
    np.testing.assert_allclose(res.opt.slope[0, :, 1, 0], [30.0, 30.0], rtol=1e-6)
    np.testing.assert_allclose(res.opt.crmag[0, 0, 1, 0], 1060.0, rtol=1e-6)
    # Two 4-group segments: var_R = 1 / (2 / var_R(4 groups)).
    var4 = 12 * (5.0 / np.sqrt(2)) ** 2 / ((4**3 - 4) * tgroup**2)
    np.testing.assert_allclose(res.image.var_rnoise[1, 0], var4 / 2, rtol=1e-6)


def test_bad_weighting_rejected():
    data, gdq, pdq, rn, gain, meta = make_ramps(1, 1, 3)
    with pytest.raises(ValueError):
        fit_ramps(data, gdq, pdq, rn, gain, **meta, weighting="unweighted")


def test_miri_group_range():
    gdq = np.zeros((2, 6, 2, 2), np.uint8)
    assert miri_group_range(gdq) == (0, 6)
    gdq[:, :2] = DNU
    gdq[0, 2, 0, 0] = DNU              # not every pixel: group 2 stays
    gdq[:, 5] = DNU
    assert miri_group_range(gdq) == (2, 5)
    gdq[:, 2:4] = DNU
    assert miri_group_range(gdq) is None  # a single group would remain
