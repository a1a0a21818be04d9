"""Encircled energy of a single bright star, with bad-pixel repair in the PSF wings.

Inside ``core_radius`` pixel values are never changed: the saturated and bad pixels there
are only counted.  Between ``core_radius`` and the largest measurement radius, bad pixels
(DO_NOT_USE, SATURATED or non-finite) are replaced either by a low-order polynomial surface
fitted to their good neighbours (default; fitted in asinh of the sky-subtracted values
scaled by ``asinh_scale`` sky sigmas, i.e. in log where the wing is well above the sky), or
- ``usemedian`` - together with pixels more than ``low_nsigma`` sky sigmas below the
clipped mean sky, by the value of a median-filtered image (the median of the good pixels in
a ``median_size`` square window).  A local surface follows smooth wings; diffraction rings
only a few pixels apart cannot be recovered from neighbours by either method.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .photometry import DNU, SAT, _box, aperture_photometry, annulus_values, brightest_pixel, centroid, distance_grid
from .stats import clipped_stats


# -- bad-pixel replacement ----------------------------------------------------------------
def _monomials(dx, dy, degree):
    return np.stack([dx ** a * dy ** b for a in range(degree + 1) for b in range(degree + 1 - a)], axis=-1)


def polyfit_values(data, targets, unusable, *, degree: int = 2, halfsize: int = 2,
                   max_halfsize: int | None = None, offset: float = 0.0, scale=None) -> np.ndarray:
    """Values at ``targets`` ((n, 2) array of (row, col)) from 2-D polynomial surfaces.

    For each target a polynomial of total ``degree`` is least-squares fitted to the usable
    pixels (not ``unusable``, finite, on the image) of the ``(2*halfsize+1)`` square about it
    and evaluated at the target.  Targets with fewer than twice as many usable neighbours as
    coefficients retry with a bigger box (up to ``max_halfsize``, default ``halfsize + 2``),
    then fall back to the neighbours' median; NaN when there are none.

    With a ``scale`` (e.g. a few sky sigmas) the surface is fitted to
    ``asinh((data - offset) / scale)`` and transformed back: logarithmic well above the sky
    level ``offset``, linear near it.  A PSF wing falls by a large factor across the box,
    which a low-order polynomial follows in log (a Gaussian is exactly quadratic there) but
    not in linear space.
    """
    data = np.asarray(data, dtype=np.float64)
    unusable = np.asarray(unusable, dtype=bool) | ~np.isfinite(data)
    targets = np.asarray(targets, dtype=np.intp).reshape(-1, 2)
    out = np.full(len(targets), np.nan)
    todo = np.arange(len(targets))
    ny, nx = data.shape
    ncoef = (degree + 1) * (degree + 2) // 2
    last = halfsize + 2 if max_halfsize is None else max_halfsize
    for h in range(halfsize, last + 1):
        if todo.size == 0:
            break
        oy, ox = np.mgrid[-h:h + 1, -h:h + 1]
        centre = (oy == 0) & (ox == 0)
        oy, ox = oy[~centre], ox[~centre]
        ty, tx = targets[todo, 0][:, None], targets[todo, 1][:, None]
        yy, xx = ty + oy, tx + ox
        inb = (yy >= 0) & (yy < ny) & (xx >= 0) & (xx < nx)
        yc, xc = np.clip(yy, 0, ny - 1), np.clip(xx, 0, nx - 1)
        vals = data[yc, xc]
        valid = inb & ~unusable[yc, xc]
        vals = np.where(valid, vals, 0.0)
        nvalid = valid.sum(axis=1)
        fit = nvalid >= 2 * ncoef
        if fit.any():
            a = _monomials(ox.astype(np.float64), oy.astype(np.float64), degree)     # (k, p)
            v = valid[fit].astype(np.float64)
            y = vals[fit]
            if scale:
                y = np.arcsinh((y - offset) / scale)
            m = np.einsum("kp,tk,kq->tpq", a, v, a)
            b = np.einsum("kp,tk->tp", a, v * y)
            c0 = np.einsum("tpq,tq->tp", np.linalg.pinv(m), b)[:, 0]   # the constant term: the value at the target
            out[todo[fit]] = offset + scale * np.sinh(c0) if scale else c0
        if h == last:
            rest = ~fit & (nvalid > 0)
            if rest.any():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    out[todo[rest]] = np.nanmedian(np.where(valid[rest], vals[rest], np.nan), axis=1)
        todo = todo[~fit]
    return out


def median_filter_values(data, targets, unusable, size: int = 5) -> np.ndarray:
    """The median-filtered image at ``targets``: median of the usable pixels in a ``size`` square."""
    if size < 1 or size % 2 == 0:
        raise ValueError("median filter size must be a positive odd number")
    data = np.asarray(data, dtype=np.float64)
    clean = np.where(np.asarray(unusable, bool) | ~np.isfinite(data), np.nan, data)
    h = size // 2
    windows = sliding_window_view(np.pad(clean, h, constant_values=np.nan), (size, size))
    targets = np.asarray(targets, dtype=np.intp).reshape(-1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(windows[targets[:, 0], targets[:, 1]], axis=(1, 2))


# -- shared: where is the star, what is the sky ------------------------------------------
@dataclass
class StarFrame:
    x: float
    y: float
    sky: float
    sky_sigma: float
    sky_err: float
    nsky: int
    converged: bool


def locate_star(data, bad, x: float, y: float, *, sky=None, sky_annulus=(20.0, 30.0), kappa: float = 3.0,
                recenter: bool = True, search: float = 3.0, centroid_radius: float = 5.0) -> StarFrame:
    """Centroid near (x, y) and the clipped-mean sky in an annulus (``sky`` given: used as is)."""
    if recenter:
        px, py = brightest_pixel(data, x, y, search, mask=bad)
    else:
        px, py = float(x), float(y)
    ann = annulus_values(data, px, py, sky_annulus[0], sky_annulus[1], mask=bad)
    st = clipped_stats(ann, kappa=kappa, center="mean") if ann.size >= 3 else None
    if sky is None:
        if st is None or st.n < 3:
            raise ValueError(f"fewer than 3 good sky pixels in the annulus {sky_annulus[0]:g}-{sky_annulus[1]:g} px "
                             f"about ({px:.1f}, {py:.1f})")
        level, err = st.mean, st.error
    else:
        level, err = float(sky), 0.0
    sigma = st.std if st is not None and st.n > 1 else 0.0
    nsky = st.n if st is not None else 0
    if recenter:
        c = centroid(data, px, py, centroid_radius, mask=bad, background=level)
        cx, cy, ok = (c.x, c.y, c.converged) if c.converged else (px, py, False)
    else:
        cx, cy, ok = px, py, True
    return StarFrame(cx, cy, level, sigma, err, nsky, ok)


def _check_radii(radii):
    r = np.asarray(radii, dtype=np.float64).ravel()
    if r.size == 0 or not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise ValueError("radii must be positive numbers")
    if np.any(np.diff(r) <= 0):
        raise ValueError("radii must increase")
    return r


@dataclass
class EEResult:
    radius: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray
    ee: np.ndarray            # flux / flux at the largest radius
    ee_err: np.ndarray
    area: np.ndarray
    complete: np.ndarray
    star: StarFrame
    n_core_sat: int           # SATURATED pixels within core_radius (left unchanged)
    n_core_bad: int           # any bad pixel within core_radius (left unchanged)
    n_replaced: int           # outer pixels given a new value
    n_unreplaced: int         # outer bad pixels with no usable neighbours (left out of the sums)
    method: str               # "polyfit" or "usemedian"


def encircled_energy(data, dq, x: float, y: float, radii, *, err=None, core_radius: float = 5.0,
                     usemedian: bool = False, sky=None, sky_annulus=None, low_nsigma: float = 3.0,
                     kappa: float = 3.0, recenter: bool = True, search: float = 3.0,
                     centroid_radius: float = 5.0, poly_degree: int = 2, poly_halfsize: int = 2,
                     median_size: int = 5, subpixel: bool = True, asinh_scale: float = 3.0) -> EEResult:
    """Multi-aperture photometry of the star near (x, y) at ``radii`` (pixels).

    ``sky_annulus`` defaults to ``(rmax + 2, rmax + 12)``; ``sky`` fixes the background level
    instead of measuring it.  Fluxes are sky-subtracted sums over exact circular apertures,
    with the sub-pixel gradient term unless ``subpixel`` is False (see
    :func:`~jwcal_niriss.analysis.photometry.aperture_photometry`).
    """
    data = np.asarray(data)
    if data.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {data.shape}")
    r = _check_radii(radii)
    rmax = float(r[-1])
    ann = (rmax + 2.0, rmax + 12.0) if sky_annulus is None else tuple(map(float, sky_annulus))
    dq = np.zeros(data.shape, np.uint32) if dq is None else np.asarray(dq)
    bad_full = ((dq & (DNU | SAT)) != 0) | ~np.isfinite(data)
    star = locate_star(data, bad_full, x, y, sky=sky, sky_annulus=ann, kappa=kappa, recenter=recenter,
                       search=search, centroid_radius=centroid_radius)
    cx, cy = star.x, star.y

    half = rmax + poly_halfsize + 4 + median_size
    y0, y1, x0, x1 = _box(data.shape, cx, cy, half)
    work = np.array(data[y0:y1, x0:x1], dtype=np.float64)
    bad = bad_full[y0:y1, x0:x1]
    satc = (dq[y0:y1, x0:x1] & SAT) != 0
    d = distance_grid(y0, y1, x0, x1, cx, cy)
    core = d <= core_radius
    n_core_sat = int((satc & core).sum())
    n_core_bad = int((bad & core).sum())
    outer = (d > core_radius) & (d <= rmax + 1.0)

    if usemedian:
        low = np.isfinite(work) & (work < star.sky - low_nsigma * star.sky_sigma) if star.sky_sigma > 0 \
            else np.zeros_like(bad)
        targets = np.argwhere((bad | low) & outer)
        values = median_filter_values(work, targets, bad, median_size)
    else:
        targets = np.argwhere(bad & outer)
        values = polyfit_values(work, targets, bad, degree=poly_degree, halfsize=poly_halfsize,
                                offset=star.sky, scale=asinh_scale * star.sky_sigma or None)
    ok = np.isfinite(values)
    work[targets[ok, 0], targets[ok, 1]] = values[ok]
    unrepaired = np.zeros_like(bad)
    unrepaired[targets[~ok, 0], targets[~ok, 1]] = True

    ph = aperture_photometry(work, cx - x0, cy - y0, r, err=None if err is None else err[y0:y1, x0:x1],
                             mask=unrepaired, sky=star.sky, sky_err=star.sky_err, subpixel=subpixel)
    # the circle is complete on the image, not just on the cut-out
    ny, nx = data.shape
    complete = (cx - r >= -0.5) & (cx + r <= nx - 0.5) & (cy - r >= -0.5) & (cy + r <= ny - 0.5)
    ftot, etot = ph.flux[-1], ph.flux_err[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ee = ph.flux / ftot
        ee_err = np.abs(ee) * np.sqrt((ph.flux_err / ph.flux) ** 2 + (etot / ftot) ** 2)
    ee_err[-1] = 0.0
    return EEResult(r, ph.flux, ph.flux_err, ee, ee_err, ph.area, complete, star, n_core_sat, n_core_bad,
                    int(ok.sum()), int((~ok).sum()), "usemedian" if usemedian else "polyfit")
