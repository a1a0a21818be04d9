"""Surface-brightness profile of a star in concentric annuli.

An annulus of centre radius ``r`` holds the pixels whose centres lie at
``r - width/2 <= d < r + width/2``.  Bad pixels (DO_NOT_USE, SATURATED, non-finite) are left
out; with ``clip_low`` so are pixels more than ``low_nsigma`` sky sigmas below the sky level
measured far from the star.  SB is the sky-subtracted mean per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ee import StarFrame, _check_radii, locate_star
from .photometry import DNU, SAT, _box, distance_grid


@dataclass
class SBResult:
    radius: np.ndarray
    sb: np.ndarray          # mean (data - sky) per pixel in the annulus
    sb_err: np.ndarray      # standard error of that mean (and the sky level's error)
    npix: np.ndarray        # pixels used
    nclipped: np.ndarray    # pixels left out as too low
    nbad: np.ndarray        # pixels left out as flagged or non-finite
    star: StarFrame
    clip_low: bool


def surface_brightness(data, dq, x: float, y: float, radii, *, width: float = 1.0, clip_low: bool = True,
                       low_nsigma: float = 3.0, sky=None, sky_annulus=None, kappa: float = 3.0,
                       recenter: bool = True, search: float = 3.0, centroid_radius: float = 5.0) -> SBResult:
    """Annular surface brightness about the star near (x, y).

    ``sky_annulus`` defaults to ``(rmax + width + 2, rmax + width + 12)``.
    """
    data = np.asarray(data)
    if data.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {data.shape}")
    r = _check_radii(radii)
    if not width > 0:
        raise ValueError("annulus width must be positive")
    rmax = float(r[-1])
    ann = (rmax + width + 2.0, rmax + width + 12.0) if sky_annulus is None else tuple(map(float, sky_annulus))
    dq = np.zeros(data.shape, np.uint32) if dq is None else np.asarray(dq)
    bad_full = ((dq & (DNU | SAT)) != 0) | ~np.isfinite(data)
    star = locate_star(data, bad_full, x, y, sky=sky, sky_annulus=ann, kappa=kappa, recenter=recenter,
                       search=search, centroid_radius=centroid_radius)
    y0, y1, x0, x1 = _box(data.shape, star.x, star.y, rmax + width)
    cut = np.asarray(data[y0:y1, x0:x1], dtype=np.float64)
    bad = bad_full[y0:y1, x0:x1]
    d = distance_grid(y0, y1, x0, x1, star.x, star.y)
    # which annulus each pixel falls in (-1: none); annuli may overlap, so test each one
    lo = (r - width / 2.0)[:, None, None]
    hi = (r + width / 2.0)[:, None, None]
    member = (d >= lo) & (d < hi)                                   # (nr, ny, nx)
    low = np.zeros_like(bad)
    if clip_low and star.sky_sigma > 0:
        low = ~bad & (cut < star.sky - low_nsigma * star.sky_sigma)
    use = member & ~bad & ~low
    npix = use.sum(axis=(1, 2))
    vals = np.where(bad, 0.0, cut - star.sky)
    s1 = np.einsum("rij,ij->r", use, vals)
    s2 = np.einsum("rij,ij->r", use, vals * vals)
    with np.errstate(divide="ignore", invalid="ignore"):
        sb = s1 / npix
        var = np.where(npix > 1, (s2 - npix * sb * sb) / np.maximum(npix - 1, 1), np.nan)
        sb_err = np.sqrt(np.maximum(var, 0.0) / npix + star.sky_err ** 2)
    return SBResult(r, sb, sb_err, npix, (member & low).sum(axis=(1, 2)), (member & bad).sum(axis=(1, 2)),
                    star, bool(clip_low))
