"""Weighted mean profiles across exposures, with per-exposure monotonicity flags.

:func:`monotonic_flags` marks an entry where the profile goes the wrong way compared with the
previous (smaller) radius (encircled energy must not fall outward).  At each radius the mean is weighted by ``1/err**2`` over the unflagged entries
(``avflag`` 1); when every entry there is flagged, it is the plain mean of all of them with
the error ``sqrt(sum(err**2)) / n`` (``avflag`` 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def monotonic_flags(values, increasing: bool = True) -> np.ndarray:
    """(ntab, nr) bool: True where a profile decreases (``increasing``) or increases outward."""
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    flags = np.zeros(v.shape, dtype=bool)
    step = np.diff(v, axis=1)
    flags[:, 1:] = step < 0 if increasing else step > 0
    return flags


@dataclass
class MeanProfile:
    mean: np.ndarray
    err: np.ndarray
    avflag: np.ndarray      # 1: weighted mean of the unflagged entries; 0: plain mean of all
    nused: np.ndarray


def mean_profiles(values, errors=None, flags=None) -> MeanProfile:
    """Combine ``values`` (ntab, nr) of several exposures radius by radius."""
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    e = np.ones_like(v) if errors is None else np.atleast_2d(np.asarray(errors, dtype=np.float64))
    if e.shape != v.shape:
        raise ValueError("values and errors differ in shape")
    f = np.zeros(v.shape, bool) if flags is None else np.atleast_2d(np.asarray(flags, dtype=bool))
    finite = np.isfinite(v)
    usable_err = np.isfinite(e) & (e > 0)
    # exposures without usable errors at a radius weigh equally among themselves
    e = np.where(usable_err, e, np.nan)
    good = finite & ~f
    w = np.where(good & usable_err, 1.0 / np.where(usable_err, e, 1.0) ** 2, 0.0)
    # a radius whose good entries all lack errors: equal weights
    noerr = (w.sum(axis=0) == 0) & good.any(axis=0)
    w[:, noerr] = good[:, noerr].astype(np.float64)
    sw = w.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        wmean = (w * np.where(finite, v, 0.0)).sum(axis=0) / sw
        werr = np.where(noerr, np.nan, 1.0 / np.sqrt(sw))
        n_all = finite.sum(axis=0)
        pmean = np.where(finite, v, 0.0).sum(axis=0) / n_all
        perr = np.sqrt(np.nansum(np.where(finite, e, np.nan) ** 2, axis=0)) / n_all
    use_w = sw > 0
    return MeanProfile(np.where(use_w, wmean, pmean), np.where(use_w, werr, perr), use_w.astype(np.int16),
                       np.where(use_w, (w > 0).sum(axis=0), n_all))
