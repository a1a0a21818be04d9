"""PSF images: analytic Gaussian/Moffat PSFs, centring, circularisation and resampling.

Every function returns float64 arrays of odd size with the centre of the PSF on the central
pixel, normalised to a sum of 1 (kernels, which may dip below zero, too).  Pixel scales are in
arcsec per pixel; FWHMs in arcsec.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gaussian_psf", "moffat_psf", "centroid", "radial_profile", "circularise", "resample_circular",
           "odd_size_for", "fwhm_of"]

SUPERSAMPLE = 5


def odd_size_for(extent_arcsec: float, pixscale: float) -> int:
    """Smallest odd number of pixels covering ``extent_arcsec``."""
    n = int(np.ceil(extent_arcsec / pixscale))
    return n + 1 - n % 2


def _grid(size: int, pixscale: float, supersample: int = SUPERSAMPLE):
    """Radii (arcsec) of a ``size`` x ``size`` grid sub-sampled ``supersample`` times per axis,
    centred on the central pixel; shape (size*ss, size*ss)."""
    ss = int(supersample)
    sub = (np.arange(size * ss) + 0.5) / ss - size / 2.0
    yy, xx = np.meshgrid(sub, sub, indexing="ij")
    return np.hypot(xx, yy) * pixscale


def _bin(img: np.ndarray, ss: int) -> np.ndarray:
    n = img.shape[0] // ss
    return img.reshape(n, ss, n, ss).sum(axis=(1, 3))


def _normalise(img: np.ndarray) -> np.ndarray:
    total = img.sum()
    if not np.isfinite(total) or total == 0:
        raise ValueError("PSF/kernel sums to zero or is not finite")
    return img / total


def gaussian_psf(fwhm: float, pixscale: float, size: int | None = None) -> np.ndarray:
    """A pixel-integrated circular Gaussian of ``fwhm`` arcsec on a ``pixscale`` grid."""
    size = size or odd_size_for(8 * fwhm, pixscale)
    sigma = fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    r = _grid(size, pixscale)
    return _normalise(_bin(np.exp(-0.5 * (r / sigma) ** 2), SUPERSAMPLE))


def moffat_psf(fwhm: float, pixscale: float, beta: float = 2.5, size: int | None = None) -> np.ndarray:
    """A pixel-integrated circular Moffat profile (1 + (r/alpha)^2)^-beta of ``fwhm`` arcsec."""
    if beta <= 1:
        raise ValueError("a Moffat beta must be > 1 (finite flux)")
    size = size or odd_size_for(20 * fwhm, pixscale)
    alpha = fwhm / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
    r = _grid(size, pixscale)
    return _normalise(_bin((1.0 + (r / alpha) ** 2) ** (-beta), SUPERSAMPLE))


def centroid(img: np.ndarray, fraction: float = 0.1) -> tuple[float, float]:
    """(y, x) flux-weighted centre of the pixels above ``fraction`` of the peak, in pixels."""
    img = np.asarray(img, float)
    peak = np.nanmax(img)
    w = np.where(np.isfinite(img) & (img >= fraction * peak), img, 0.0)
    yy, xx = np.indices(img.shape)
    total = w.sum()
    return float((w * yy).sum() / total), float((w * xx).sum() / total)


def _centred(img: np.ndarray, center=None) -> np.ndarray:
    """``img`` on an odd square grid with its centre (``center`` or the centroid) moved onto
    the central pixel (sub-pixel shifts by cubic-spline interpolation)."""
    img = np.nan_to_num(np.asarray(img, float))
    ny, nx = img.shape
    n = max(ny, nx)
    n += 1 - n % 2
    if (ny, nx) != (n, n):
        pad = np.zeros((n, n))
        pad[:ny, :nx] = img
        img = pad
    cy, cx = center if center is not None else centroid(img)
    dy, dx = (n // 2) - cy, (n // 2) - cx
    if abs(dy) > 1e-3 or abs(dx) > 1e-3:
        from scipy import ndimage

        img = ndimage.shift(img, (dy, dx), order=3, mode="constant")
    return img


def _r2(n: int) -> np.ndarray:
    d = np.arange(n) - n // 2
    return (d[:, None] ** 2 + d[None, :] ** 2).astype(np.intp)


def radial_profile(img: np.ndarray, pixscale: float, center=None):
    """Azimuthal mean of ``img`` over the pixels at each distinct distance from its centre:
    ``(radii_arcsec, values)``, values per pixel of ``img``.  (Pixels sharing a distance are
    rotated copies of one another on the grid, so no annulus mixes different radii.)"""
    img = _centred(img, center)
    r2 = _r2(img.shape[0]).ravel()
    sums = np.bincount(r2, weights=img.ravel())
    cnt = np.bincount(r2)
    have = np.flatnonzero(cnt)
    return np.sqrt(have) * pixscale, sums[have] / cnt[have]


def _profile_image(radii, vals, size, pixscale, scale_ratio, integrate=True):
    """Evaluate a radial profile (values per source pixel) on a new grid.

    The profile already carries the source pixels' integration: going to coarser pixels
    (``scale_ratio`` = out/in > 1) with ``integrate`` it is integrated over the new pixels
    (sub-sampled), as a detector would; otherwise it is sampled at their centres
    (integrating again would blur it twice).  Between the tabulated radii it is
    interpolated with a monotone cubic (PCHIP).
    """
    from scipy.interpolate import PchipInterpolator

    ss = SUPERSAMPLE if (integrate and scale_ratio > 1.0001) else 1
    r = _grid(size, pixscale, ss)
    f = PchipInterpolator(radii, vals, extrapolate=False)(r)
    f = np.nan_to_num(f)
    # per source pixel -> per output sub-pixel: ratio of areas
    return _bin(f, ss) * (scale_ratio ** 2) / ss**2


def circularise(img: np.ndarray, pixscale: float = 1.0, center=None) -> np.ndarray:
    """The rotation average of ``img`` about its centre (``center`` or the centroid): an odd
    square grid centred on its middle pixel where each pixel holds the mean of all pixels at
    its distance from the centre; normalised to a sum of 1."""
    img = _centred(img, center)
    r2 = _r2(img.shape[0])
    sums = np.bincount(r2.ravel(), weights=img.ravel())
    cnt = np.bincount(r2.ravel())
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, sums / np.maximum(cnt, 1), 0.0)
    return _normalise(mean[r2])


def resample_circular(img: np.ndarray, in_scale: float, out_scale: float, size: int | None = None,
                      center=None, integrate: bool = True) -> np.ndarray:
    """A circular PSF or kernel on a grid of ``out_scale`` arcsec pixels, normalised to a sum
    of 1.  ``size``: output pixels (odd); default: the same angular extent as the input.

    ``integrate``: a PSF going to coarser pixels is integrated over them (what a detector
    records); a *kernel* is a filter between images whose pixels already integrate the sky,
    so it is sampled at the new pixel centres instead (``integrate=False``).
    """
    if size is None:
        size = odd_size_for(min(img.shape) * in_scale, out_scale)
        size = max(size, 3)
    radii, vals = radial_profile(img, in_scale, center)
    return _normalise(_profile_image(radii, vals, size, out_scale, out_scale / in_scale, integrate))


def fwhm_of(img: np.ndarray, pixscale: float) -> float:
    """FWHM (arcsec) of a circular PSF image from its radial profile (half-maximum crossing)."""
    radii, vals = radial_profile(img, pixscale)
    peak = vals[0]
    below = np.flatnonzero(vals < 0.5 * peak)
    if below.size == 0:
        return float("nan")
    i = below[0]
    if i == 0:
        return float(2 * radii[0])
    r0, r1, v0, v1 = radii[i - 1], radii[i], vals[i - 1], vals[i]
    return float(2 * (r0 + (0.5 * peak - v0) * (r1 - r0) / (v1 - v0)))
