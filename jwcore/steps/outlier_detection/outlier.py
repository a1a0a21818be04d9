"""Outlier (cosmic-ray) flagging against a median image: pure functions on arrays.

Imaging with resampling (jwst's ``flag_resampled_crs``): with the median blotted back onto
an exposure (``blot``), its absolute derivative ``D`` (the largest absolute difference to the
4 neighbours) and the exposure's ERR ``e``, a pixel is an outlier where

    |sci - blot - backg| > scale1 * D + snr1 * e      anywhere in its 3x3 neighbourhood, and
    |sci - blot - backg| > scale2 * D + snr2 * e      at the pixel itself.

Without resampling (``flag_crs``): |sci - median| > snr * e.

Before the median, pixels of each resampled image whose weight is below ``maskpt`` times the
sigma-clipped mean weight are ignored (:func:`weight_threshold`).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["weight_threshold", "abs_deriv", "flag_resampled_crs", "flag_crs", "blot_median"]


def weight_threshold(weight: np.ndarray, maskpt: float) -> float:
    """``maskpt`` x the 3-sigma-clipped (5 iterations) mean of the finite, non-zero weights."""
    from astropy.stats import sigma_clip

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        warnings.filterwarnings("ignore", "invalid value", RuntimeWarning)
        good = weight[np.isfinite(weight) & (weight != 0)]
        return np.mean(sigma_clip(good, sigma=3, maxiters=5, masked=False, copy=False), dtype="f8") * maskpt


def abs_deriv(array: np.ndarray) -> np.ndarray:
    """Per pixel, the largest absolute difference to its 4 neighbours (NaN stays NaN)."""
    out = np.zeros_like(array)
    if np.issubdtype(array.dtype, np.floating):
        out[np.isnan(array)] = np.nan
    dy = np.abs(np.diff(array, axis=0))
    np.putmask(out[1:], np.isfinite(dy), dy)
    up = out[:-1]
    np.putmask(up, dy > up, dy)
    del dy
    dx = np.abs(np.diff(array, axis=1))
    right = out[:, 1:]
    np.putmask(right, dx > right, dx)
    left = out[:, :-1]
    np.putmask(left, dx > left, dx)
    return out


def flag_resampled_crs(sci, err, blot, snr1, snr2, scale1, scale2, backg) -> np.ndarray:
    """Boolean outlier mask of an exposure against the blotted median (see the module doc)."""
    from scipy import ndimage

    e = np.nan_to_num(err)
    deriv = abs_deriv(blot)
    diff = np.abs(sci - blot - backg)
    mask1 = np.greater(diff, scale1 * deriv + snr1 * e)
    grown = ndimage.convolve(mask1, np.ones((3, 3), dtype=int), mode="nearest")
    mask2 = np.greater(diff, scale2 * deriv + snr2 * e)
    return grown & mask2


def flag_crs(sci, err, median, snr) -> np.ndarray:
    """Boolean outlier mask without resampling: |sci - median| > snr * err."""
    return np.greater(np.abs(sci - median), snr * np.nan_to_num(err))


def blot_median(median, median_wcs, shape, wcs, pixmap_stepsize=1, pixmap_order=1) -> np.ndarray:
    """The median image interpolated (bilinear ``blot``) back onto an exposure's pixels."""
    from drizzle.resample import blot_image

    from ..resample.resample_wcs import calc_pixmap

    pixmap = calc_pixmap(wcs, median_wcs, shape, stepsize=pixmap_stepsize, order=pixmap_order)
    pixmap[np.isnan(pixmap)] = -1     # the blot kernel cannot take NaN positions (as jwst)
    out = np.full(shape, np.nan, dtype=np.float32)
    blot_image(data=median, pixmap=pixmap, out_img=out, fillval=np.nan, iscale=1.0, interp="linear")
    return out
