"""Encircled energy, bad-pixel repair, surface brightness and mean profiles.

Tolerances: measured EE / analytic EE of the continuous PSF within 0.5% (Gaussian of sigma
2.5 px from r = 1 px; sigma 1.6 px, NIRISS-like sampling, from r = 2.5 px; Airy of
lambda/D = 5 px from r = 1 px).  Plain sums equal photutils' exact apertures to 1e-10.
"""

import numpy as np
import pytest
from scipy.special import j0, j1

from jwcore import dq as dqflags
from jwcal_niriss.analysis import (
    aperture_photometry, aperture_weights, encircled_energy, mean_profiles, median_filter_values,
    monotonic_flags, polyfit_values, surface_brightness,
)

F = 1e6
RADII = np.array([1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20], float)
DNU = dqflags.DO_NOT_USE


def _star(nis, sigma=2.5, seed=3, shape=(121, 121), xy=(60.37, 59.71), sky=2.0, t_gain=500.0):
    rng = np.random.default_rng(seed)
    clean = nis.gauss_stars(shape, xy[0], xy[1], F, sigma) + sky
    err = np.sqrt(clean / t_gain)
    return clean + rng.normal(0, err), err, clean


@pytest.mark.parametrize("sigma,rmin", [(2.5, 1.0), (1.6, 2.5)])
def test_ee_gaussian_matches_analytic(nis, sigma, rmin):
    img, err, _ = _star(nis, sigma)
    res = encircled_energy(img, None, 60, 60, RADII, err=err)
    assert abs(res.star.x - 60.37) < 0.002 and abs(res.star.y - 59.71) < 0.002
    analytic = 1 - np.exp(-RADII ** 2 / (2 * sigma ** 2))
    use = RADII >= rmin
    assert np.max(np.abs(res.flux[use] / F / analytic[use] - 1)) <= 0.005
    assert np.max(np.abs(res.ee[use] / (analytic[use] / analytic[-1]) - 1)) <= 0.005
    assert res.ee[-1] == 1.0 and np.all(res.complete)
    assert np.all(res.flux_err > 0) and np.all(res.flux_err / res.flux < 1e-3)


def test_ee_airy_matches_analytic(nis):
    lam_d = 5.0
    img = nis.airy_star((121, 121), 60.3, 59.7, lam_d, F)
    r = np.array([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30], float)
    res = encircled_energy(img, None, 60, 60, r, sky=0.0)
    v = np.pi * r / lam_d
    analytic = 1 - j0(v) ** 2 - j1(v) ** 2
    assert np.max(np.abs(res.flux / F / analytic - 1)) <= 0.005


def test_plain_sums_are_photutils_exact(nis):
    """subpixel=False is the exact-overlap aperture sum (photutils method='exact')."""
    ap = pytest.importorskip("photutils.aperture")
    img = np.random.default_rng(1).random((60, 60))
    for r in (0.7, 2.3, 9.9):
        ours = aperture_photometry(img, 29.37, 30.81, r).flux[0]
        ref = ap.CircularAperture((29.37, 30.81), r).do_photometry(img, method="exact")[0][0]
        assert ours == pytest.approx(ref, rel=1e-10)
    w = aperture_weights((50, 50), 24.2, 25.7, [1.0, 3.3, 7.9])
    assert np.allclose(w.sum(axis=(1, 2)), np.pi * np.array([1.0, 3.3, 7.9]) ** 2, rtol=1e-12)


def _corrupt(nis, n, rng, rmin=6.5, rmax=14.0, xy=(60.37, 59.71)):
    ang = rng.uniform(0, 2 * np.pi, n)
    rad = rng.uniform(rmin, rmax, n)
    pix = np.unique(np.c_[np.rint(xy[1] + rad * np.sin(ang)), np.rint(xy[0] + rad * np.cos(ang))].astype(int), axis=0)
    return pix


def test_outer_bad_pixels_polynomial_fit(nis):
    img, err, clean = _star(nis)
    ref = encircled_energy(img, None, 60, 60, RADII, err=err)
    pix = _corrupt(nis, 14, np.random.default_rng(5))
    bad = img.copy()
    dq = np.zeros(img.shape, np.uint32)
    bad[pix[:, 0], pix[:, 1]] = 5e4                         # hot garbage ...
    dq[pix[:, 0], pix[:, 1]] = DNU | dqflags.HOT            # ... flagged DO_NOT_USE
    res = encircled_energy(bad, dq, 60, 60, RADII, err=err)
    assert res.method == "polyfit" and res.n_replaced == len(pix) and res.n_unreplaced == 0
    assert np.max(np.abs(res.flux / ref.flux - 1)) < 2e-4
    # the same garbage unflagged would have been summed: the repair is what keeps EE right
    raw = encircled_energy(bad, None, 60, 60, RADII, err=err)
    assert np.max(np.abs(raw.flux / ref.flux - 1)) > 0.05
    # the fitted values themselves (asinh-space fit, as encircled_energy does it): within 1% of
    # the noiseless image + 5 sigma of the noise; a plain linear-space quadratic misses the
    # steep Gaussian wing by more than 5%
    unusable = (dq & DNU) != 0
    truth, noise = clean[pix[:, 0], pix[:, 1]], err[pix[:, 0], pix[:, 1]]
    vals = polyfit_values(bad, pix, unusable, offset=res.star.sky, scale=3 * res.star.sky_sigma)
    assert np.all(np.abs(vals - truth) < 0.01 * truth + 5 * noise)
    linear = polyfit_values(bad, pix, unusable)
    assert np.max(np.abs(linear - truth) / truth) > 0.05


def test_outer_bad_and_low_pixels_usemedian(nis):
    img, err, clean = _star(nis)
    ref = encircled_energy(img, None, 60, 60, RADII, err=err, usemedian=True)
    rng = np.random.default_rng(6)
    flagged = _corrupt(nis, 8, rng)
    low = _corrupt(nis, 8, rng, rmin=15, rmax=19)            # far out where the wing is faint
    low = low[~(low[:, None, :] == flagged[None, :, :]).all(-1).any(1)]
    bad = img.copy()
    dq = np.zeros(img.shape, np.uint32)
    bad[flagged[:, 0], flagged[:, 1]] = np.nan
    dq[flagged[:, 0], flagged[:, 1]] = DNU
    bad[low[:, 0], low[:, 1]] = 2.0 - 300.0                  # far below the sky, not flagged
    res = encircled_energy(bad, dq, 60, 60, RADII, err=err, usemedian=True)
    assert res.method == "usemedian" and res.n_replaced == len(flagged) + len(low)
    assert np.max(np.abs(res.flux / ref.flux - 1)) < 5e-4
    # the polynomial mode leaves unflagged low pixels alone: the EE at large radii suffers
    poly = encircled_energy(bad, dq, 60, 60, RADII, err=err)
    assert poly.n_replaced == len(flagged)
    assert np.max(np.abs(poly.flux / ref.flux - 1)) > 1e-3
    # median-filtered values at the low pixels: close to the local (sky-dominated) truth
    med = median_filter_values(bad, low, (dq & DNU) != 0, 5)
    assert np.all(np.abs(med - clean[low[:, 0], low[:, 1]]) < 0.5)


def test_core_bad_pixels_are_counted_not_changed(nis):
    img, err, _ = _star(nis)
    dq = np.zeros(img.shape, np.uint32)
    dq[60, 60] = dq[59, 60] = dqflags.SATURATED | DNU
    dq[62, 58] = DNU
    res = encircled_energy(img, dq, 60, 60, RADII, err=err)
    ref = encircled_energy(img, None, 60, 60, RADII, err=err)
    assert (res.n_core_sat, res.n_core_bad, res.n_replaced) == (2, 3, 0)
    # values in the core were used as they are: fluxes beyond the core are unchanged
    assert np.allclose(res.flux[RADII > 6], ref.flux[RADII > 6], rtol=2e-4)


def test_surface_brightness_and_low_pixel_clipping(nis):
    sigma = 2.5
    img, err, clean = _star(nis, sigma)
    r = np.arange(1.0, 16.0)
    sb = surface_brightness(img, None, 60, 60, r)
    # truth: mean of the noiseless star over the same annulus pixels
    yy, xx = np.mgrid[0:121, 0:121]
    d = np.hypot(xx - 60.37, yy - 59.71)
    truth = np.array([(clean - 2.0)[(d >= ri - 0.5) & (d < ri + 0.5)].mean() for ri in r])
    assert np.all(np.abs(sb.sb - truth) < 4 * sb.sb_err + 1e-3 * np.abs(truth))
    assert np.all(sb.nclipped == 0)
    # five very low pixels in the r = 12 annulus
    ring = np.argwhere((d >= 11.5) & (d < 12.5))[:5]
    low = img.copy()
    low[ring[:, 0], ring[:, 1]] = -500.0
    clipped = surface_brightness(low, None, 60, 60, r)
    kept = surface_brightness(low, None, 60, 60, r, clip_low=False)
    k = 11
    assert clipped.nclipped[k] == 5 and clipped.npix[k] == sb.npix[k] - 5
    assert abs(clipped.sb[k] - truth[k]) < 4 * clipped.sb_err[k] + 1e-3
    assert kept.sb[k] < truth[k] - 5.0


def test_mean_profiles_weights_flags_and_fallback():
    ee = np.array([[0.50, 0.80, 0.79, 1.0],
                   [0.52, 0.82, 0.90, 1.0],
                   [0.51, 0.79, 0.95, 1.0]])
    err = np.array([[0.01, 0.01, 0.01, 0.0],
                    [0.02, 0.02, 0.02, 0.0],
                    [0.01, 0.01, 0.01, 0.0]])
    ee[:, 1] = [0.80, 0.82, 0.49]           # exposure 3 falls at radius 1
    flags = monotonic_flags(ee)
    assert flags.tolist() == [[False, False, True, False], [False, False, False, False],
                              [False, True, False, False]]
    m = mean_profiles(ee, err, flags)
    w = np.array([1 / 0.01 ** 2, 1 / 0.02 ** 2, 1 / 0.01 ** 2])
    assert m.mean[0] == pytest.approx((w * ee[:, 0]).sum() / w.sum())
    assert m.err[0] == pytest.approx(1 / np.sqrt(w.sum()))
    assert m.mean[1] == pytest.approx((w[:2] * ee[:2, 1]).sum() / w[:2].sum())    # exposure 3 left out
    assert m.mean[2] == pytest.approx((w[1:] * ee[1:, 2]).sum() / w[1:].sum())    # exposure 1 left out
    assert m.nused.tolist()[:3] == [3, 2, 2] and m.avflag.tolist() == [1, 1, 1, 1]
    assert m.mean[3] == 1.0                                                      # no errors: equal weights
    # every exposure flagged at a radius: plain mean, avflag 0
    allf = np.zeros_like(flags)
    allf[:, 2] = True
    m2 = mean_profiles(ee, err, allf)
    assert m2.avflag[2] == 0 and m2.mean[2] == pytest.approx(ee[:, 2].mean())
    assert m2.err[2] == pytest.approx(np.sqrt((err[:, 2] ** 2).sum()) / 3)
    # surface brightness: flagged where it rises outward
    assert monotonic_flags([[5.0, 3.0, 4.0, 1.0]], increasing=False).tolist() == [[False, False, True, False]]
