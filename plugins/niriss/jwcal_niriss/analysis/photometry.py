"""Point-source detection, centroids and circular-aperture photometry on 2-D images.

Pixel ``(i, j)`` of an array covers ``x in [j - 0.5, j + 0.5]``, ``y in [i - 0.5, i + 0.5]``
(0-based pixel-centre coordinates, as numpy, astropy and jwst use them).  Aperture weights
are the exact area of each pixel inside the circle, from the closed-form area of a disc
clipped by an axis-aligned rectangle, so sums over a circle are free of sampling error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from jwcore import dq as dqflags

from .stats import clipped_stats

DNU = dqflags.DO_NOT_USE
SAT = dqflags.SATURATED


# -- exact circle / pixel overlap ---------------------------------------------------------
def _arc_integral(x, r):
    """Integral of sqrt(r^2 - t^2) dt from 0 to x (0 <= x <= r)."""
    return 0.5 * (x * np.sqrt(np.maximum(r * r - x * x, 0.0)) + r * r * np.arcsin(np.clip(x / r, -1.0, 1.0)))


def _corner_area(x, y, r):
    """Signed area of the disc (centre 0, radius r) inside the rectangle spanned by (0, 0) and (x, y)."""
    ax = np.minimum(np.abs(x), r)
    ay = np.minimum(np.abs(y), r)
    inside = ax * ax + ay * ay <= r * r
    xc = np.sqrt(np.maximum(r * r - ay * ay, 0.0))      # where the circle crosses Y = ay
    outside = ay * xc + _arc_integral(ax, r) - _arc_integral(np.minimum(xc, ax), r)
    return np.sign(x) * np.sign(y) * np.where(inside, ax * ay, outside)


def rect_circle_overlap(x0, x1, y0, y1, r):
    """Area of the rectangle ``[x0, x1] x [y0, y1]`` inside the disc of radius ``r`` at the origin."""
    r = np.asarray(r, dtype=np.float64)
    return (_corner_area(x1, y1, r) - _corner_area(x0, y1, r)
            - _corner_area(x1, y0, r) + _corner_area(x0, y0, r))


def _corner_moment(x, y, r):
    """Signed first moment in X of the disc inside the rectangle spanned by (0, 0) and (x, y)."""
    ax = np.minimum(np.abs(x), r)
    ay = np.minimum(np.abs(y), r)
    inside = ax * ax + ay * ay <= r * r
    outside = ay * np.maximum(r * r - ay * ay, 0.0) / 2.0 + (ay ** 3 - np.maximum(r * r - ax * ax, 0.0) ** 1.5) / 3.0
    return np.sign(y) * np.where(inside, ax * ax * ay / 2.0, outside)


def rect_circle_moments(x0, x1, y0, y1, r):
    """First moments (integral of X, of Y) of the part of the rectangle inside the disc."""
    r = np.asarray(r, dtype=np.float64)
    mx = (_corner_moment(x1, y1, r) - _corner_moment(x0, y1, r)
          - _corner_moment(x1, y0, r) + _corner_moment(x0, y0, r))
    my = (_corner_moment(y1, x1, r) - _corner_moment(y1, x0, r)
          - _corner_moment(y0, x1, r) + _corner_moment(y0, x0, r))
    return mx, my


def _grids(shape, xc, yc, origin):
    ys = np.arange(shape[0], dtype=np.float64)[:, None] + origin[0] - yc
    xs = np.arange(shape[1], dtype=np.float64)[None, :] + origin[1] - xc
    return xs, ys


def aperture_moments(shape, xc: float, yc: float, radius: float, origin=(0, 0)):
    """Overlap area, and first moments about the *pixel centre*, of each pixel with the circle."""
    xs, ys = _grids(shape, xc, yc, origin)
    w = rect_circle_overlap(xs - 0.5, xs + 0.5, ys - 0.5, ys + 0.5, radius)
    mx, my = rect_circle_moments(xs - 0.5, xs + 0.5, ys - 0.5, ys + 0.5, radius)
    return w, mx - w * xs, my - w * ys


def aperture_weights(shape, xc: float, yc: float, radii, origin=(0, 0)) -> np.ndarray:
    """Fraction of each pixel of a ``shape`` grid inside circles of ``radii`` about (xc, yc).

    ``origin`` is the (y, x) index of the grid's first pixel in the full image.  Returns an
    array of shape ``(len(radii),) + shape`` (or ``shape`` for a scalar radius).
    """
    scalar = np.ndim(radii) == 0
    r = np.atleast_1d(np.asarray(radii, dtype=np.float64))[:, None, None]
    xs, ys = _grids(shape, xc, yc, origin)
    w = rect_circle_overlap(xs - 0.5, xs + 0.5, ys - 0.5, ys + 0.5, r)
    return w[0] if scalar else w


def _box(shape, xc, yc, half):
    """Index bounds (y0, y1, x0, x1) of a box of half-size ``half`` about (xc, yc), clipped."""
    y0 = max(int(np.floor(yc - half)), 0)
    x0 = max(int(np.floor(xc - half)), 0)
    y1 = min(int(np.ceil(yc + half)) + 1, shape[0])
    x1 = min(int(np.ceil(xc + half)) + 1, shape[1])
    return y0, y1, x0, x1


def distance_grid(y0, y1, x0, x1, xc, yc):
    yy = np.arange(y0, y1, dtype=np.float64)[:, None] - yc
    xx = np.arange(x0, x1, dtype=np.float64)[None, :] - xc
    return np.hypot(xx, yy)


@dataclass
class ApertureResult:
    flux: np.ndarray         # sum of (data - sky) inside each radius (masked pixels excluded)
    flux_err: np.ndarray
    area: np.ndarray         # pixels of the aperture that were used
    area_masked: np.ndarray  # pixels of the aperture that were masked (not used)
    complete: np.ndarray     # True where the circle lies fully on the image


def aperture_photometry(data, xc: float, yc: float, radii, *, err=None, mask=None, sky: float = 0.0,
                        sky_err: float = 0.0, subpixel: bool = False) -> ApertureResult:
    """Sky-subtracted sums of ``data`` in circles of ``radii`` about (xc, yc).

    ``mask`` (True = bad) and non-finite pixels are left out; ``sky`` is subtracted per pixel
    used; ``sky_err`` (the error of the sky level) is added to the error as ``area * sky_err``.

    Plain sums (``subpixel=False``, what photutils' "exact" method gives) treat the flux in
    a pixel cut by the circle as uniform; for a PSF that changes on the pixel scale this
    under-counts the EE at small radii (about -4% at r = 2 px for a Gaussian of sigma 1.6 px).
    ``subpixel=True`` adds the flux gradient (central differences of the neighbours) times
    the first moment of each pixel's part inside the circle, which removes most of that
    (-0.6%), and nothing changes for pixels wholly inside or outside.
    """
    radii = np.atleast_1d(np.asarray(radii, dtype=np.float64))
    ny, nx = data.shape
    y0, y1, x0, x1 = _box(data.shape, xc, yc, radii.max() + 1)
    cut = np.asarray(data[y0:y1, x0:x1], dtype=np.float64)
    good = np.isfinite(cut)
    if mask is not None:
        good &= ~np.asarray(mask[y0:y1, x0:x1], dtype=bool)
    w = aperture_weights(cut.shape, xc, yc, radii, origin=(y0, x0))
    wg = w * good
    vals = np.where(good, cut - sky, 0.0)
    flux = np.einsum("rij,ij->r", wg, vals)
    if subpixel:
        flux = flux + _gradient_terms(vals, good, xc, yc, radii, (y0, x0))
    area = wg.sum(axis=(1, 2))
    area_masked = w.sum(axis=(1, 2)) - area
    if err is not None:
        e = np.asarray(err[y0:y1, x0:x1], dtype=np.float64)
        e = np.where(good & np.isfinite(e), e, 0.0)
        var = np.einsum("rij,ij->r", wg * wg, e * e)
    else:
        var = np.zeros_like(flux)
    flux_err = np.sqrt(var + (area * sky_err) ** 2)
    complete = (xc - radii >= -0.5) & (xc + radii <= nx - 0.5) & (yc - radii >= -0.5) & (yc + radii <= ny - 0.5)
    return ApertureResult(flux, flux_err, area, area_masked, complete)


def _gradient_terms(vals, good, xc, yc, radii, origin):
    """Sum over pixels of grad(vals) . (first moment of the pixel's part inside each circle)."""
    gy, gx = np.gradient(vals) if min(vals.shape) > 1 else (np.zeros_like(vals), np.zeros_like(vals))
    # a gradient is only trusted where the pixel and its four neighbours are good
    ok = good.copy()
    ok[1:, :] &= good[:-1, :]
    ok[:-1, :] &= good[1:, :]
    ok[:, 1:] &= good[:, :-1]
    ok[:, :-1] &= good[:, 1:]
    gx, gy = np.where(ok, gx, 0.0), np.where(ok, gy, 0.0)
    xs, ys = _grids(vals.shape, xc, yc, origin)
    x0, x1, y0, y1 = xs - 0.5, xs + 0.5, ys - 0.5, ys + 0.5
    out = np.empty(len(radii))
    for k, r in enumerate(radii):
        w = rect_circle_overlap(x0, x1, y0, y1, r)
        mx, my = rect_circle_moments(x0, x1, y0, y1, r)
        out[k] = (gx * (mx - w * xs) + gy * (my - w * ys)).sum()
    return out


def annulus_values(data, xc: float, yc: float, r_in: float, r_out: float, mask=None) -> np.ndarray:
    """Finite, unmasked pixel values whose centres lie at ``r_in <= d < r_out`` from (xc, yc)."""
    y0, y1, x0, x1 = _box(data.shape, xc, yc, r_out + 1)
    d = distance_grid(y0, y1, x0, x1, xc, yc)
    cut = data[y0:y1, x0:x1]
    sel = (d >= r_in) & (d < r_out) & np.isfinite(cut)
    if mask is not None:
        sel &= ~np.asarray(mask[y0:y1, x0:x1], dtype=bool)
    return np.asarray(cut[sel], dtype=np.float64)


# -- centroids ---------------------------------------------------------------------------
@dataclass
class Centroid:
    x: float
    y: float
    converged: bool
    niter: int
    fwhm: float = float("nan")        # from the second moments in the window
    roundness: float = float("nan")   # 1 - minor/major axis


def _window_moment(data, cx, cy, sigma_w, mask, background):
    """Gaussian-weighted first moment of ``data - background`` about (cx, cy), or None."""
    y0, y1, x0, x1 = _box(data.shape, cx, cy, 4.0 * sigma_w + 1.0)
    cut = np.asarray(data[y0:y1, x0:x1], dtype=np.float64) - background
    good = np.isfinite(cut)
    if mask is not None:
        good &= ~np.asarray(mask[y0:y1, x0:x1], dtype=bool)
    xs, ys = _grids(cut.shape, cx, cy, (y0, x0))
    vals = np.where(good, cut, 0.0) * np.exp(-(xs * xs + ys * ys) / (2.0 * sigma_w * sigma_w))
    tot = vals.sum()
    if not tot > 0:
        return None
    return np.array([cx + (vals * xs).sum() / tot, cy + (vals * ys).sum() / tot]), (vals, xs, ys, tot)


def centroid(data, x: float, y: float, radius: float = 3.0, *, mask=None, background: float = 0.0,
             maxiter: int = 50, tol: float = 1e-5) -> Centroid:
    """Windowed centroid: the fixed point of the first moment of ``data - background``
    weighted by a Gaussian window (sigma ``radius / 2``) centred on it.

    A smooth window has no edge cutting through pixels, so for a symmetric PSF the fixed
    point is its centre with a pixel-phase error far below 0.01 pixel even for PSFs of ~1
    pixel sigma.  Each pass takes two moment steps and extrapolates them per axis (Aitken),
    which converges in a few passes whatever the window size.  Not converged when the
    weighted flux is not positive, or the centre walks more than ``radius`` from the start.
    ``fwhm`` and ``roundness`` come from the weighted second moments (corrected for the
    window as for a Gaussian PSF).  Masked or non-finite pixels are left out (a masked
    pixel near the peak, e.g. a saturated core, biases the centroid away from it).
    """
    if not radius > 0:
        raise ValueError("centroid radius must be positive")
    sw = radius / 2.0
    start = np.array([float(x), float(y)])
    c = start.copy()
    converged = False
    it = 0
    for it in range(1, maxiter + 1):
        m1 = _window_moment(data, c[0], c[1], sw, mask, background)
        if m1 is None:
            return Centroid(c[0], c[1], False, it)
        g1 = m1[0]
        d1 = g1 - c
        if np.hypot(*d1) < tol:
            c, converged = g1, True
            break
        m2 = _window_moment(data, g1[0], g1[1], sw, mask, background)
        if m2 is None:
            return Centroid(g1[0], g1[1], False, it)
        d2 = m2[0] - g1
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(np.abs(d1) > 1e-12, d2 / d1, 0.0)
        accel = (q > 0) & (q < 0.995)
        new = np.where(accel, c + d1 / (1.0 - np.where(accel, q, 0.0)), m2[0])
        if np.hypot(*(new - start)) > radius:
            return Centroid(new[0], new[1], False, it)
        c = new
    fwhm = roundness = float("nan")
    m = _window_moment(data, c[0], c[1], sw, mask, background)
    if m is not None:
        vals, xs, ys, tot = m[1]
        dx = xs - (m[0][0] - c[0])
        dy = ys - (m[0][1] - c[1])
        mxx = (vals * dx * dx).sum() / tot
        myy = (vals * dy * dy).sum() / tot
        mxy = (vals * dx * dy).sum() / tot
        ev = np.linalg.eigvalsh(np.array([[mxx, mxy], [mxy, myy]]))
        s2 = sw * sw
        if ev[0] > 0 and ev[1] < s2:
            ev = ev * s2 / (s2 - ev)          # undo the window, as for a Gaussian PSF
            fwhm = float(2.0 * np.sqrt(2.0 * np.log(2.0)) * np.sqrt(ev.mean()))
            roundness = float(1.0 - np.sqrt(ev[0] / ev[1]))
        elif ev[0] > 0:
            fwhm = float("inf")
            roundness = 0.0
    return Centroid(float(c[0]), float(c[1]), converged, it, fwhm, roundness)


def brightest_pixel(data, x: float, y: float, search: float, mask=None) -> tuple[float, float]:
    """The (x, y) of the largest finite, unmasked value within ``search`` pixels of (x, y)."""
    y0, y1, x0, x1 = _box(data.shape, x, y, search)
    cut = np.asarray(data[y0:y1, x0:x1], dtype=np.float64)
    ok = np.isfinite(cut) & (distance_grid(y0, y1, x0, x1, x, y) <= search)
    if mask is not None:
        ok &= ~np.asarray(mask[y0:y1, x0:x1], dtype=bool)
    if not ok.any():
        return float(x), float(y)
    i, j = np.unravel_index(np.argmax(np.where(ok, cut, -np.inf)), cut.shape)
    return float(x0 + j), float(y0 + i)


# -- the simplephot catalogue -------------------------------------------------------------
@dataclass
class Catalog:
    """Measured sources (arrays of equal length) and what happened to the others."""

    x: np.ndarray
    y: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray
    sky: np.ndarray
    peak: np.ndarray
    npix: np.ndarray
    nsat: np.ndarray
    fwhm: np.ndarray
    roundness: np.ndarray
    sky_level: float
    sky_sigma: float
    threshold: float
    ndetected: int
    rejected: dict = field(default_factory=dict)   # reason -> count

    def __len__(self):
        return len(self.x)


def simplephot(data, dq=None, err=None, *, nsigma: float = 100.0, aperture_radius: float = 4.0,
               centroid_radius: float = 3.0, sky_annulus=(8.0, 12.0), kappa: float = 3.0,
               max_saturated: int = 1, max_fwhm_ratio: float = 2.0) -> Catalog:
    """Catalogue the point-like sources of an image above ``nsigma`` times the sky noise.

    The sky level and noise are kappa-sigma clipped statistics of the good pixels.  A source
    is a connected group of pixels above ``sky + nsigma * sigma`` (saturated pixels count as
    above).  Rejected: sources with more than ``max_saturated`` SATURATED pixels or touching a
    DO_NOT_USE (or non-finite) pixel that is not saturated, sources whose aperture leaves the
    image, centroids that do not converge, and extended sources (moment FWHM more than
    ``max_fwhm_ratio`` times the median).  The rest get an iterated windowed centroid and a
    sky-subtracted aperture sum (local sky: clipped median of the annulus).
    """
    data = np.asarray(data)
    if data.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {data.shape}")
    dq = np.zeros(data.shape, np.uint32) if dq is None else np.asarray(dq)
    finite = np.isfinite(data)
    sat = (dq & SAT) != 0
    bad = (((dq & DNU) != 0) | ~finite) & ~sat
    unusable = bad | sat
    # the sky from at most ~1M pixels (a regular sub-grid of a big image is as good a sample)
    step = max(1, int(np.sqrt(data.size / 2 ** 20)))
    skyst = clipped_stats(data[::step, ::step], kappa=kappa, center="median", mask=unusable[::step, ::step])
    if skyst.n < 10 or not skyst.std > 0:
        raise ValueError("too few good sky pixels to measure the background")
    sky0, sigma = skyst.median, skyst.std
    threshold = sky0 + nsigma * sigma

    det = (np.where(finite, data, -np.inf) > threshold) | sat
    labels, nlab = ndimage.label(det, structure=np.ones((3, 3), bool))
    rejected = {"saturated": 0, "bad_pixels": 0, "edge": 0, "centroid": 0, "extended": 0}
    rows = []
    if nlab:
        index = np.arange(1, nlab + 1)
        slices = ndimage.find_objects(labels)
        npix_all = ndimage.sum_labels(np.ones_like(labels), labels, index)
        ny, nx = data.shape
        rcheck = aperture_radius + 1.0
        for lab, sl, npx in zip(index, slices, npix_all):
            # the peak: the brightest pixel of the source, a saturated one first
            cut = np.where(labels[sl] == lab, np.where(sat[sl], np.inf, np.where(finite[sl], data[sl], -np.inf)),
                           -np.inf)
            i, j = np.unravel_index(np.argmax(cut), cut.shape)
            py, px = sl[0].start + i, sl[1].start + j
            # footprint: the source's pixels grown by one, plus the aperture about the peak
            y0 = max(min(sl[0].start - 1, int(py - rcheck)), 0)
            y1 = min(max(sl[0].stop + 1, int(py + rcheck) + 1), ny)
            x0 = max(min(sl[1].start - 1, int(px - rcheck)), 0)
            x1 = min(max(sl[1].stop + 1, int(px + rcheck) + 1), nx)
            own = ndimage.binary_dilation(labels[y0:y1, x0:x1] == lab, np.ones((3, 3), bool))
            foot = own | (distance_grid(y0, y1, x0, x1, px, py) <= rcheck)
            nsat = int((sat[y0:y1, x0:x1] & foot).sum())
            if nsat > max_saturated:
                rejected["saturated"] += 1
                continue
            if (bad[y0:y1, x0:x1] & foot).any():
                rejected["bad_pixels"] += 1
                continue
            c = centroid(data, px, py, centroid_radius, mask=unusable, background=sky0)
            if not c.converged:
                rejected["centroid"] += 1
                continue
            if (c.x - aperture_radius < -0.5 or c.y - aperture_radius < -0.5
                    or c.x + aperture_radius > nx - 0.5 or c.y + aperture_radius > ny - 0.5):
                rejected["edge"] += 1
                continue
            ann = annulus_values(data, c.x, c.y, sky_annulus[0], sky_annulus[1], mask=unusable)
            if ann.size >= 10:
                st = clipped_stats(ann, kappa=kappa, center="median")
                lsky, lsky_err = st.median, st.error
            else:
                lsky, lsky_err = sky0, skyst.error
            ph = aperture_photometry(data, c.x, c.y, aperture_radius, err=err, mask=unusable,
                                     sky=lsky, sky_err=lsky_err)
            ferr = ph.flux_err[0]
            if err is None:
                ferr = float(np.hypot(ferr, sigma * np.sqrt(ph.area[0])))
            rows.append((c.x, c.y, ph.flux[0], ferr, lsky, float(data[py, px]), int(npx), nsat,
                         c.fwhm, c.roundness))
    cols = np.array(rows, dtype=np.float64).reshape(-1, 10).T
    if cols.shape[1]:
        fw = cols[8]
        med = np.nanmedian(fw)
        ext = fw > max_fwhm_ratio * med
        rejected["extended"] = int(ext.sum())
        cols = cols[:, ~ext]
    return Catalog(x=cols[0], y=cols[1], flux=cols[2], flux_err=cols[3], sky=cols[4], peak=cols[5],
                   npix=cols[6].astype(int), nsat=cols[7].astype(int), fwhm=cols[8], roundness=cols[9],
                   sky_level=sky0, sky_sigma=sigma, threshold=threshold, ndetected=int(nlab),
                   rejected=rejected)
