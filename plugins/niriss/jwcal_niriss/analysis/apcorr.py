"""Total count rates from aperture fluxes and a PSF's encircled-energy curve.

Each measurement radius ``r`` in ``[rmin, rmax]`` gives an estimate
``flux(r) / EE_psf(r)`` of the total (EE_psf interpolated linearly in radius, normalised to
the PSF's total flux).  The result is their mean; its error combines the typical
measurement error of one estimate (they share pixels, so averaging does not beat it down)
and the scatter between radii (how well the PSF model's aperture corrections fit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class TotalFlux:
    countrate: float
    err: float
    err_stat: float        # median of the per-radius measurement errors
    err_apcorr: float      # standard deviation of the per-radius totals
    nradii: int
    apcorr: float          # mean 1/EE_psf over the radii used


def aperture_corrected_total(radius, flux, flux_err, psf_radius, psf_ee, *, rmin: float = 5.0,
                             rmax: float = 10.0) -> TotalFlux:
    radius = np.asarray(radius, dtype=np.float64)
    flux = np.asarray(flux, dtype=np.float64)
    flux_err = np.zeros_like(flux) if flux_err is None else np.asarray(flux_err, dtype=np.float64)
    pr = np.asarray(psf_radius, dtype=np.float64)
    pe = np.asarray(psf_ee, dtype=np.float64)
    order = np.argsort(pr)
    pr, pe = pr[order], pe[order]
    sel = (radius >= rmin) & (radius <= rmax) & np.isfinite(flux)
    sel &= (radius >= pr[0]) & (radius <= pr[-1])           # no extrapolation of the PSF curve
    if not sel.any():
        raise ValueError(f"no measurement radius within {rmin:g}-{rmax:g} px covered by the PSF table "
                         f"({pr[0]:g}-{pr[-1]:g} px)")
    ee = np.interp(radius[sel], pr, pe)
    if np.any(ee <= 0):
        raise ValueError("the PSF encircled energy is not positive at the radii used")
    totals = flux[sel] / ee
    errs = flux_err[sel] / ee
    err_stat = float(np.median(errs))
    err_ap = float(totals.std(ddof=1)) if totals.size > 1 else 0.0
    return TotalFlux(float(totals.mean()), float(np.hypot(err_stat, err_ap)), err_stat, err_ap,
                     int(totals.size), float(np.mean(1.0 / ee)))
