"""Analytic PSFs rendered onto pixels, and NIRISS-like ImageModels, for the commissioning tests.

Pixel (i, j) covers x in [j - 0.5, j + 0.5], y in [i - 0.5, i + 0.5].  The Gaussian is
integrated over each pixel exactly (erf); the Airy pattern by 8x8 sub-sampling.
"""

import numpy as np
import pytest
from scipy.special import erf, j1

from jwcore.datamodel import ImageModel


def gauss_stars(shape, xs, ys, fluxes, sigma):
    """Sum of pixel-integrated circular Gaussians of total ``fluxes`` at (xs, ys)."""
    xs, ys, fl = (np.atleast_1d(np.asarray(a, float)) for a in (xs, ys, fluxes))
    s = np.sqrt(2.0) * sigma
    px = np.arange(shape[1], dtype=float)[None, :]
    py = np.arange(shape[0], dtype=float)[None, :]
    gx = 0.5 * (erf((px + 0.5 - xs[:, None]) / s) - erf((px - 0.5 - xs[:, None]) / s))
    gy = 0.5 * (erf((py + 0.5 - ys[:, None]) / s) - erf((py - 0.5 - ys[:, None]) / s))
    return np.einsum("ky,k,kx->yx", gy, fl, gx)


def airy_star(shape, x, y, lam_d, flux, nsub=8):
    """Pixel-averaged Airy pattern, first zero at 1.22 ``lam_d`` pixels, total (whole-plane) ``flux``."""
    off = (np.arange(nsub) + 0.5) / nsub - 0.5
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    img = np.zeros(shape)
    for oy in off:
        for ox in off:
            v = np.pi * np.hypot(xx + ox - x, yy + oy - y) / lam_d
            v = np.where(v == 0, 1e-12, v)
            img += (2 * j1(v) / v) ** 2
    # the plane integral of (2 J1(v)/v)^2 with v = pi r / lam_d is 4 lam_d^2 / pi
    return flux * img / (nsub * nsub) / (4 * lam_d ** 2 / np.pi)


def niriss_image(data, dq=None, err=None, filt="F150W", subarray="SUB256", name="sim_cal.fits"):
    """An ImageModel as NIRISS writes it: short-wave filters in the pupil wheel, FILTER=CLEAR."""
    data = np.asarray(data, np.float32)
    m = ImageModel(data=data, dq=np.zeros(data.shape, np.uint32) if dq is None else dq,
                   err=np.ones(data.shape, np.float32) if err is None else np.asarray(err, np.float32))
    sw = filt in ("F090W", "F115W", "F140M", "F150W", "F158M", "F200W")
    m.meta.instrument.name = "NIRISS"
    m.meta.instrument.detector = "NIS"
    m.meta.instrument.filter = "CLEAR" if sw else filt
    m.meta.instrument.pupil = filt if sw else "CLEARP"
    m.meta.subarray.name = subarray
    m.meta.exposure.type = "NIS_IMAGE"
    m.meta.filename = name
    m.meta.bunit_data = "DN/s"
    return m


@pytest.fixture
def nis():
    """The helpers above, as a namespace."""
    class K:
        pass

    k = K()
    k.gauss_stars = staticmethod(gauss_stars)
    k.airy_star = staticmethod(airy_star)
    k.niriss_image = staticmethod(niriss_image)
    return k
