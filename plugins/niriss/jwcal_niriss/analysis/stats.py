"""Iterative kappa-sigma clipped statistics.

A value is rejected when it lies more than ``kappa`` standard deviations from the centre
(mean or median) of the values kept so far; the iteration stops when nothing more is
rejected or after ``maxiter`` passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClippedStats:
    """Statistics of the values that survived the clipping."""

    mean: float
    median: float
    std: float          # sample standard deviation (ddof=1) of the kept values
    n: int              # values kept
    nrejected: int      # values rejected (non-finite inputs are not counted here)
    niter: int

    @property
    def error(self) -> float:
        """Standard error of the mean."""
        return self.std / np.sqrt(self.n) if self.n > 0 else float("nan")


def sigma_clip_mask(values, kappa: float = 3.0, maxiter: int = 10, center: str = "mean",
                    mask=None) -> tuple[np.ndarray, int]:
    """Boolean array, True where a value is kept; and the number of passes made.

    ``mask`` (True = ignore) and non-finite values are never kept.
    """
    if kappa <= 0:
        raise ValueError("kappa must be positive")
    if center not in ("mean", "median"):
        raise ValueError("center must be 'mean' or 'median'")
    v = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(v)
    if mask is not None:
        keep &= ~np.asarray(mask, dtype=bool)
    niter = 0
    for niter in range(1, int(maxiter) + 1):
        kept = v[keep]
        if kept.size < 3:
            break
        c = kept.mean() if center == "mean" else np.median(kept)
        s = kept.std(ddof=1)
        if not s > 0:
            break
        new = keep & (np.abs(v - c) <= kappa * s)
        if new.sum() == keep.sum():
            break
        keep = new
    return keep, niter


def clipped_stats(values, kappa: float = 3.0, maxiter: int = 10, center: str = "mean",
                  mask=None) -> ClippedStats:
    """Iterative kappa-sigma clipped mean, median and standard deviation of ``values``."""
    v = np.asarray(values, dtype=np.float64).ravel()
    m = None if mask is None else np.asarray(mask, dtype=bool).ravel()
    keep, niter = sigma_clip_mask(v, kappa, maxiter, center, m)
    kept = v[keep]
    nfinite = int(np.isfinite(v).sum() if m is None else (np.isfinite(v) & ~m).sum())
    if kept.size == 0:
        return ClippedStats(float("nan"), float("nan"), float("nan"), 0, nfinite, niter)
    std = float(kept.std(ddof=1)) if kept.size > 1 else float("nan")
    return ClippedStats(float(kept.mean()), float(np.median(kept)), std, int(kept.size),
                        nfinite - int(kept.size), niter)
