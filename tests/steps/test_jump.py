"""Tests of jwcore.steps.jump (two-point difference, snowballs, showers).

Parity tests run stcal 1.20's ``detect_jumps_data`` the way jwst 3.0's JumpStep sets it up
(``maximum_cores='1'``) on the same synthetic ramps and require identical GROUPDQ and PIXELDQ
(tolerance: none, bit for bit) and the same jump / event counts.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from jwcore import dq
from jwcore.steps.jump import detect_jumps
from jwcore.steps.jump import large_events as le
from jwcore.steps.jump import twopoint as tp

GROUP_TIME = 10.737

# ---------------------------------------------------------------------------------------------
# synthetic data


def make_ramp(nints=1, ngroups=10, ny=40, nx=36, seed=0, ncr=40, nsnow=0, rate=5.0, sat=60000.0):
    """Poisson ramps with read noise, cosmic rays (some spilling into neighbours) and snowballs."""
    rng = np.random.default_rng(seed)
    gain = (2.0 * (1 + 0.05 * rng.standard_normal((ny, nx)))).astype(np.float32)
    rn = (8.0 * (1 + 0.1 * rng.standard_normal((ny, nx)))).astype(np.float32)
    flux = rng.uniform(0.5, 3, (ny, nx)) * rate
    data = np.zeros((nints, ngroups, ny, nx), np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    yy, xx = np.mgrid[0:ny, 0:nx]
    for i in range(nints):
        e = np.cumsum(rng.poisson(flux, (ngroups, ny, nx)), axis=0).astype(np.float64)
        for _ in range(ncr):
            g, y, x = rng.integers(1, ngroups), rng.integers(0, ny), rng.integers(0, nx)
            amp = rng.choice([30, 100, 400, 3000, 20000])
            e[g:, y, x] += amp
            if rng.random() < 0.5:
                for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                    if 0 <= y + dy < ny and 0 <= x + dx < nx:
                        e[g:, y + dy, x + dx] += amp * rng.uniform(0.02, 0.2)
        for _ in range(nsnow):
            g, y, x = rng.integers(1, ngroups - 1), rng.integers(0, ny), rng.integers(0, nx)
            rcore = rng.uniform(1.5, 4)
            r = np.hypot(yy - y + rng.uniform(-0.5, 0.5), xx - x + rng.uniform(-0.5, 0.5))
            e[g:, r < rcore] += 1e6
            halo = (r >= rcore) & (r < rcore * rng.uniform(2, 4))
            e[g:, halo] += 2000 * np.exp(-(r[halo] - rcore))
        dn = e / gain + rng.standard_normal(e.shape) * rn / np.sqrt(2)
        data[i] = dn.astype(np.float32)
        gdq[i][np.maximum.accumulate(dn > sat, axis=0)] |= dq.SATURATED
    pdq = np.zeros((ny, nx), np.uint32)
    return data, gdq, pdq, rn, gain


def run_ours(data, gdq, pdq, rn, gain, **kw):
    return detect_jumps(
        data, gdq, pdq, rn, gain, frame_time=GROUP_TIME, group_time=GROUP_TIME, nframes=1, return_info=True, **kw
    )


# ---------------------------------------------------------------------------------------------
# the oracle: stcal configured as jwst's JumpStep does

STEP_DEFAULTS = dict(
    rejection_threshold=4.0,
    three_group_rejection_threshold=6.0,
    four_group_rejection_threshold=5.0,
    flag_4_neighbors=True,
    max_jump_to_flag_neighbors=1000.0,
    min_jump_to_flag_neighbors=10.0,
    after_jump_flag_dn1=0.0,
    after_jump_flag_time1=0.0,
    after_jump_flag_dn2=0.0,
    after_jump_flag_time2=0.0,
    expand_large_events=False,
    min_sat_area=1.0,
    min_jump_area=5.0,
    expand_factor=2.0,
    sat_required_snowball=True,
    min_sat_radius_extend=2.5,
    sat_expand=2,
    edge_size=25,
    mask_snowball_core_next_int=True,
    snowball_time_masked_next_int=4000,
    find_showers=False,
    extend_snr_threshold=1.2,
    extend_min_area=90,
    extend_inner_radius=1.0,
    extend_outer_radius=2.6,
    extend_ellipse_expand_ratio=1.1,
    time_masked_after_shower=15.0,
    min_diffs_single_pass=10,
    max_extended_radius=200,
    minimum_groups=3,
    minimum_sigclip_groups=100,
    only_use_ints=True,
)


def run_stcal(data, gdq, pdq, rn, gain, **kw):
    """stcal.jump.jump.detect_jumps_data with the JumpData jwst's JumpStep would build."""
    jump = pytest.importorskip("stcal.jump.jump")
    jump_class = pytest.importorskip("stcal.jump.jump_class")
    p = dict(STEP_DEFAULTS, **kw)
    gt = GROUP_TIME
    model = SimpleNamespace(
        data=data.copy(),
        groupdq=gdq.copy(),
        pixeldq=pdq.copy(),
        meta=SimpleNamespace(exposure=SimpleNamespace(nframes=1)),
    )
    jd = jump_class.JumpData(model, gain.copy(), rn.copy(), dq.PIXEL)
    jd.set_detection_settings(
        p["rejection_threshold"],
        p["three_group_rejection_threshold"],
        p["four_group_rejection_threshold"],
        p["max_jump_to_flag_neighbors"],
        p["min_jump_to_flag_neighbors"],
        p["flag_4_neighbors"],
    )
    jd.set_after_jump(
        p["after_jump_flag_dn1"],
        int(p["after_jump_flag_time1"] // gt),
        p["after_jump_flag_dn2"],
        int(p["after_jump_flag_time2"] // gt),
    )
    jd.set_snowball_info(
        p["expand_large_events"],
        p["min_jump_area"],
        p["min_sat_area"],
        p["expand_factor"],
        p["sat_required_snowball"],
        p["min_sat_radius_extend"],
        p["sat_expand"] * 2,
        p["edge_size"],
    )
    jd.set_shower_info(
        p["find_showers"],
        p["extend_snr_threshold"],
        p["extend_min_area"],
        p["extend_inner_radius"],
        p["extend_outer_radius"],
        p["extend_ellipse_expand_ratio"],
        p["min_diffs_single_pass"],
        p["max_extended_radius"] * 2,
    )
    jd.set_sigma_clipping_info(p["minimum_groups"], p["minimum_sigclip_groups"], p["only_use_ints"])
    jd.max_cores = "1"
    jd.grps_masked_after_shower = int(p["time_masked_after_shower"] // gt)
    jd.mask_persist_grps_next_int = p["mask_snowball_core_next_int"]
    jd.persist_grps_flagged = int(p["snowball_time_masked_next_int"] // gt)
    jd.max_shower_amplitude = jd.max_shower_amplitude * gt
    return jump.detect_jumps_data(jd)


def assert_parity(data, gdq, pdq, rn, gain, **kw):
    ref_gdq, ref_pdq, ref_ncr, ref_next = run_stcal(data, gdq, pdq, rn, gain, **kw)
    out = run_ours(data, gdq, pdq, rn, gain, **kw)
    diff = np.argwhere(ref_gdq != out.groupdq)
    assert diff.size == 0, f"{len(diff)} GROUPDQ values differ, first {diff[:5].tolist()}"
    np.testing.assert_array_equal(out.pixeldq, ref_pdq)
    assert out.n_primary == ref_ncr
    assert out.n_extended == ref_next
    return out


# ---------------------------------------------------------------------------------------------
# behaviour (no peer needed)


def test_single_cosmic_ray_flagged_with_neighbours():
    data, gdq, pdq, rn, gain = make_ramp(1, 6, 20, 20, seed=1, ncr=0)
    data[0, 3:, 10, 10] += 400.0  # about 800 e: ~60 sigma, between the neighbour limits
    gin, din = gdq.copy(), data.copy()
    out = detect_jumps(data, gdq, pdq, rn, gain, frame_time=10.0, group_time=10.0, nframes=1)
    assert out.dtype == np.uint8 and out.shape == data.shape
    jumps = np.argwhere(out & dq.JUMP_DET)
    expected = {(0, 3, 10, 10), (0, 3, 9, 10), (0, 3, 11, 10), (0, 3, 10, 9), (0, 3, 10, 11)}
    assert set(map(tuple, jumps.tolist())) == expected
    np.testing.assert_array_equal(gdq, gin)  # inputs untouched
    np.testing.assert_array_equal(data, din)


def test_no_neighbours_when_disabled_or_above_max():
    data, gdq, pdq, rn, gain = make_ramp(1, 6, 20, 20, seed=1, ncr=0)
    data[0, 3:, 10, 10] += 400.0
    off = detect_jumps(
        data, gdq, pdq, rn, gain, frame_time=10.0, group_time=10.0, nframes=1, flag_4_neighbors=False
    )
    low_max = detect_jumps(
        data, gdq, pdq, rn, gain, frame_time=10.0, group_time=10.0, nframes=1, max_jump_to_flag_neighbors=20.0
    )
    for out in (off, low_max):
        assert [tuple(j) for j in np.argwhere(out & dq.JUMP_DET).tolist()] == [(0, 3, 10, 10)]


def test_after_jump_flags_following_groups():
    data, gdq, pdq, rn, gain = make_ramp(1, 8, 16, 16, seed=2, ncr=0)
    data[0, 2:, 5, 5] += 5000.0
    out = detect_jumps(
        data,
        gdq,
        pdq,
        rn,
        gain,
        frame_time=10.0,
        group_time=10.0,
        nframes=1,
        flag_4_neighbors=False,
        after_jump_flag_dn1=1000.0,
        after_jump_flag_time1=25.0,  # 2 groups
    )
    assert np.flatnonzero(out[0, :, 5, 5] & dq.JUMP_DET).tolist() == [2, 3, 4]


def test_saturated_groups_are_not_jumps():
    data, gdq, pdq, rn, gain = make_ramp(1, 6, 12, 12, seed=3, ncr=0)
    data[0, 2:, 4, 4] += 5000.0
    gdq[0, 2:, 4, 4] |= dq.SATURATED
    out = detect_jumps(data, gdq, pdq, rn, gain, frame_time=10.0, group_time=10.0, nframes=1)
    assert not (out[0, :, 4, 4] & dq.JUMP_DET).any()


def test_two_groups_skip_and_bad_gain_and_kwargs():
    data, gdq, pdq, rn, gain = make_ramp(1, 2, 8, 8, seed=4, ncr=3)
    gain[1, 1] = np.nan
    gain[2, 2] = 0.0
    res = detect_jumps(
        data, gdq, pdq, rn, gain, frame_time=1.0, group_time=1.0, nframes=1, return_info=True
    )
    np.testing.assert_array_equal(res.groupdq, gdq)
    bad = dq.NO_GAIN_VALUE | dq.DO_NOT_USE
    assert res.pixeldq[1, 1] == bad and res.pixeldq[2, 2] == bad and res.pixeldq[0, 0] == 0
    with pytest.raises(TypeError):
        detect_jumps(data, gdq, pdq, rn, gain, frame_time=1.0, group_time=1.0, nframes=1, bogus=1)


def test_result_independent_of_blocks_and_threads(monkeypatch):
    data, gdq, pdq, rn, gain = make_ramp(2, 5, 37, 23, seed=5, ncr=60)
    ref = detect_jumps(data, gdq, pdq, rn, gain, frame_time=1.0, group_time=1.0, nframes=1)
    assert (ref & dq.JUMP_DET).any()
    kw = dict(frame_time=1.0, group_time=1.0, nframes=1, after_jump_flag_time1=2.0)
    ref2 = detect_jumps(data, gdq, pdq, rn, gain, **kw)
    monkeypatch.setattr(tp, "_BLOCK_ELEMENTS", 500)  # a few rows per block
    monkeypatch.setattr(tp, "_PIXEL_CHUNK", 7)  # post-processing in small pixel chunks
    out = detect_jumps(data, gdq, pdq, rn, gain, frame_time=1.0, group_time=1.0, nframes=1, max_workers=2)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(detect_jumps(data, gdq, pdq, rn, gain, max_workers=2, **kw), ref2)


def test_medians_match_plain_numpy():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(7, 500)).astype(np.float32)
    a[rng.random(a.shape) < 0.4] = np.nan
    a[:, :20] = 3.0  # ties at the maximum
    a[:, 20] = np.nan  # nothing valid
    med, nvalid = tp.nan_median(a)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        np.testing.assert_array_equal(med, np.nanmedian(a.astype(np.float64), axis=0))
    cmed, _, _ = tp.clipped_median(np.abs(a))
    b = np.abs(a).astype(np.float64)
    for p in range(a.shape[1]):
        vals = b[~np.isnan(b[:, p]), p]
        if vals.size >= 4:
            vals = vals[vals != vals.max()]
            expect = np.median(vals) if vals.size else np.nan
        elif vals.size == 3:
            expect = np.median(vals)
        elif vals.size == 2:
            expect = vals.min()
        else:
            expect = np.nan
        np.testing.assert_equal(cmed[p], expect)


def test_labels_match_scipy():
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(7)
    for frac in (0.05, 0.3, 0.6):
        m = rng.random((31, 45)) < frac
        idx = tp.flat_nonzero(m)
        np.testing.assert_array_equal(idx, np.flatnonzero(m))
        lab, n = le.label_flat(idx, m.shape)
        ref, nref = ndimage.label(m, structure=np.ones((3, 3)))
        assert n == nref
        np.testing.assert_array_equal(lab + 1, ref.reshape(-1)[idx])


def test_square_region_ellipse_and_circle_raster():
    m = np.zeros((20, 20), bool)
    m[5:8, 10:13] = True  # 3x3 block: variance 2/3 along both axes
    reg = le.find_ellipses(m, 5)
    (cx, cy), (h, w), ang = reg.exact([0]).tuples()[0]
    assert (cx, cy) == (11.0, 6.0)
    assert h == pytest.approx(4 * np.sqrt(2 / 3) - 1) and w == pytest.approx(h)
    assert ang == -45.0  # equal eigenvalues and no cross term: the regionprops convention
    assert len(le.find_ellipses(m, 10)) == 0
    rr, cc = le.ellipse_pixels((30, 30), 15.0, 12.0, 6, 6, 0.0)
    # radius 3, strictly inside: lattice points with dy^2 + dx^2 < 9
    expect = {(12 + dy, 15 + dx) for dy in range(-3, 4) for dx in range(-3, 4) if dy * dy + dx * dx < 9}
    assert set(zip(rr.tolist(), cc.tolist())) == expect


# ---------------------------------------------------------------------------------------------
# parity with stcal


@pytest.mark.parity
@pytest.mark.parametrize("nints", [1, 3])
@pytest.mark.parametrize("ngroups", [3, 4, 5, 10])
def test_parity_two_point(nints, ngroups):
    data, gdq, pdq, rn, gain = make_ramp(nints, ngroups, 40, 36, seed=10 * nints + ngroups, ncr=60)
    out = assert_parity(data, gdq, pdq, rn, gain)
    assert (out.groupdq & dq.JUMP_DET).any()


@pytest.mark.parity
@pytest.mark.parametrize("nints,ngroups", [(6, 9), (5, 12)])   # > 40 differences: sorted, not networked
def test_parity_two_point_many_differences(nints, ngroups):
    data, gdq, pdq, rn, gain = make_ramp(nints, ngroups, 40, 36, seed=nints + ngroups, ncr=80)
    out = assert_parity(data, gdq, pdq, rn, gain)
    assert (out.groupdq & dq.JUMP_DET).any()


@pytest.mark.parity
@pytest.mark.parametrize("nints,ngroups", [(1, 4), (3, 5), (1, 10), (2, 12)])
def test_parity_large_events(nints, ngroups):
    data, gdq, pdq, rn, gain = make_ramp(nints, ngroups, 48, 44, seed=nints + 7 * ngroups, ncr=50, nsnow=3)
    out = assert_parity(data, gdq, pdq, rn, gain, expand_large_events=True, edge_size=5)
    assert out.n_extended > 0
    assert_parity(data, gdq, pdq, rn, gain, expand_large_events=True)
    assert_parity(data, gdq, pdq, rn, gain, expand_large_events=True, sat_required_snowball=False)


@pytest.mark.parity
def test_parity_options_and_edge_cases():
    data, gdq, pdq, rn, gain = make_ramp(2, 6, 33, 29, seed=3, ncr=60, nsnow=1)
    gain[3, 4] = np.nan
    gain[5, 6] = 0.0
    rn[7, 8] = 0.0
    gdq[:, :, 11, 12] |= dq.DO_NOT_USE
    gdq[0, -1, 13, 14] |= dq.JUMP_DET  # already flagged
    gdq[0, 1, 15, 16] |= dq.JUMP_DET | dq.DO_NOT_USE
    data[0, 1, 17, 18] = np.nan
    assert_parity(data, gdq, pdq, rn, gain)
    assert_parity(data, gdq, pdq, rn, gain, flag_4_neighbors=False)
    assert_parity(
        data, gdq, pdq, rn, gain, rejection_threshold=3.0, min_jump_to_flag_neighbors=5.0, max_jump_to_flag_neighbors=50.0
    )
    assert_parity(
        data,
        gdq,
        pdq,
        rn,
        gain,
        after_jump_flag_dn1=10.0,
        after_jump_flag_time1=15.0,
        after_jump_flag_dn2=500.0,
        after_jump_flag_time2=40.0,
    )
    assert_parity(data, gdq, pdq, rn, gain, min_diffs_single_pass=3)  # one-pass branch


@pytest.mark.parity
def test_parity_skip_when_too_few_usable_groups():
    data, gdq, pdq, rn, gain = make_ramp(1, 3, 20, 20, seed=8, ncr=10)
    gdq[:, 1] |= dq.DO_NOT_USE
    out = assert_parity(data, gdq, pdq, rn, gain)
    assert out.n_primary == -99


@pytest.mark.parity
def test_parity_sigma_clipping():
    data, gdq, pdq, rn, gain = make_ramp(100, 3, 12, 10, seed=9, ncr=5)
    out = assert_parity(data, gdq, pdq, rn, gain)
    assert (out.groupdq & dq.JUMP_DET).any()
    data, gdq, pdq, rn, gain = make_ramp(4, 5, 20, 18, seed=9, ncr=30)
    assert_parity(data, gdq, pdq, rn, gain, minimum_sigclip_groups=3)
    assert_parity(data, gdq, pdq, rn, gain, minimum_sigclip_groups=12, only_use_ints=False)


@pytest.mark.parity
@pytest.mark.parametrize("nints,ngroups,sigclip", [(1, 14, 100), (3, 6, 100), (6, 5, 5)])
def test_parity_showers(nints, ngroups, sigclip):
    data, gdq, pdq, rn, gain = make_ramp(nints, ngroups, 56, 60, seed=ngroups, ncr=30, rate=20)
    rng = np.random.default_rng(ngroups)
    yy, xx = np.mgrid[0:56, 0:60]
    for _ in range(3):
        i, g = rng.integers(0, nints), rng.integers(2, ngroups)
        r = np.hypot(yy - rng.uniform(12, 44), xx - rng.uniform(12, 48))
        data[i, g:, r < rng.uniform(8, 13)] += rng.uniform(10, 20)
    gdq[:, 0] |= dq.DO_NOT_USE
    pdq[0, :4] = dq.REFERENCE_PIXEL
    pdq[:, 0] = dq.REFERENCE_PIXEL
    out = assert_parity(data, gdq, pdq, rn, gain, find_showers=True, minimum_sigclip_groups=sigclip)
    assert out.n_extended > 0


@pytest.mark.parity
def test_ellipse_parameters_and_raster_match_peer():
    jump = pytest.importorskip("stcal.jump.jump")
    rng = np.random.default_rng(11)
    for _ in range(40):
        m = rng.random((30, 34)) < rng.uniform(0.05, 0.5)
        ref = jump._sk_filter_areas(m.astype(np.uint8), 3)
        reg = le.find_ellipses(m, 3)
        ours = reg.exact(np.arange(len(reg))).tuples()
        assert [((a, b), (c, d), float(e)) for (a, b), (c, d), e in ref] == ours
    shape = (40, 50)
    for t in range(300):
        cx, cy = rng.uniform(0, 40, 2)
        a1, a2 = rng.uniform(-2, 30, 2)
        ang = float(rng.choice([0, 90, -90, 45, -45])) if t % 4 == 0 else rng.uniform(-90, 90)
        (y1, y2, x1, x2), img = jump.ellipse_subim(cx, cy, a1, a2, ang, 1, shape)
        expect = np.zeros(shape, bool)
        expect[y1:y2, x1:x2] = img == 1
        got = np.zeros(shape, bool)
        got[le.ellipse_pixels(shape, cx, cy, a1, a2, ang)] = True
        np.testing.assert_array_equal(got, expect)
