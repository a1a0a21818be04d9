"""Filter-to-filter offsets: match two catalogues, clipped statistics of the differences."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .stats import ClippedStats, clipped_stats, sigma_clip_mask


def match_catalogs(x1, y1, x2, y2, maxdist: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-to-one nearest-neighbour matches within ``maxdist``.

    Returns index arrays ``i1``, ``i2`` and the distances, sorted by ``i1``.  When several
    sources of the first catalogue have the same nearest neighbour, the closest pair wins.
    """
    x1, y1, x2, y2 = (np.asarray(a, dtype=np.float64) for a in (x1, y1, x2, y2))
    if len(x1) == 0 or len(x2) == 0:
        e = np.zeros(0, int)
        return e, e, np.zeros(0)
    tree = cKDTree(np.column_stack([x2, y2]))
    d, j = tree.query(np.column_stack([x1, y1]), k=1, distance_upper_bound=maxdist)
    ok = np.isfinite(d) & (d <= maxdist)
    i1 = np.flatnonzero(ok)
    i2, d = j[ok], d[ok]
    order = np.argsort(d, kind="stable")
    _, first = np.unique(i2[order], return_index=True)
    keep = np.sort(order[first])
    return i1[keep], i2[keep], d[keep]


@dataclass
class OffsetResult:
    """Offsets of catalogue 1 relative to catalogue 2 (the reference)."""

    i1: np.ndarray
    i2: np.ndarray
    dx: np.ndarray          # x1 - x2 of each matched pair
    dy: np.ndarray
    keep_x: np.ndarray      # pair survived the clipping of dx
    keep_y: np.ndarray
    x: ClippedStats
    y: ClippedStats

    @property
    def nmatched(self) -> int:
        return len(self.i1)


def filter_offsets(x1, y1, x2, y2, *, maxdist: float = 2.0, kappa: float = 3.0,
                   maxiter: int = 10, center: str = "mean") -> OffsetResult:
    """Match catalogue 1 to the reference catalogue 2 and clip the X and Y differences.

    Each of dx and dy is clipped on its own (iterative kappa-sigma about the mean).
    """
    i1, i2, _ = match_catalogs(x1, y1, x2, y2, maxdist)
    dx = np.asarray(x1, dtype=np.float64)[i1] - np.asarray(x2, dtype=np.float64)[i2]
    dy = np.asarray(y1, dtype=np.float64)[i1] - np.asarray(y2, dtype=np.float64)[i2]
    keep_x, _ = sigma_clip_mask(dx, kappa, maxiter, center)
    keep_y, _ = sigma_clip_mask(dy, kappa, maxiter, center)
    return OffsetResult(i1, i2, dx, dy, keep_x, keep_y,
                        clipped_stats(dx, kappa, maxiter, center),
                        clipped_stats(dy, kappa, maxiter, center))
