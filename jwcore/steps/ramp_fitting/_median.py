"""Median over the short group axis of a ramp block, ignoring NaN.

The rate used for the Poisson variance of every segment is the median of the usable
first differences of each integration.  Here the medians of a whole ``(n, npix)`` block
are taken at once: NaN marks an unusable difference, and the median is that of the
remaining values (NaN when none).  For short axes a compare-exchange network
(Batcher's odd-even merge sort, reduced to the comparators that can reach the lower
half of the output) is run with whole-row ``minimum``/``maximum`` operations.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Up to this many values per pixel the network beats sorting (a transposed copy, along
#: its rows); measured with numpy 2.4 on float64.
NETWORK_MAX = 24


@lru_cache(maxsize=None)
def lower_half_network(n: int) -> tuple[tuple[int, int], ...]:
    """Comparators ``(i, j)``, ``i < j``, after which rows ``0 .. n//2`` hold the
    ``n//2 + 1`` smallest values in order (for any input)."""
    size = 1
    while size < n:
        size *= 2
    comps: list[tuple[int, int]] = []

    def merge(lo: int, hi: int, r: int) -> None:
        step = 2 * r
        if step < hi - lo:
            merge(lo, hi, step)
            merge(lo + r, hi, step)
            comps.extend((i, i + r) for i in range(lo + r, hi - r, step))
        else:
            comps.append((lo, lo + r))

    def sort(lo: int, hi: int) -> None:
        if hi > lo:
            mid = lo + (hi - lo) // 2
            sort(lo, mid)
            sort(mid + 1, hi)
            merge(lo, hi, 1)

    sort(0, size - 1)
    # Wires >= n carry +inf padding and never move: drop their comparators.  Then keep
    # only comparators that feed the lower half of the outputs.
    comps = [(i, j) for i, j in comps if j < n]
    need = set(range(n // 2 + 1))
    kept = []
    for i, j in reversed(comps):
        if i in need or j in need:
            kept.append((i, j))
            need.update((i, j))
    return tuple(reversed(kept))


def _pick(rows: list, idx: np.ndarray, common: int) -> np.ndarray:
    """``rows[idx[p]][p]`` for every pixel ``p`` (float64); most pixels use ``common``."""
    out = rows[common].astype(np.float64)
    odd = np.flatnonzero(idx != common)
    if odd.size:
        sub = np.stack([r[odd] for r in rows])
        out[odd] = np.take_along_axis(sub, idx[odd][None, :], axis=0)[0]
    return out


def _pick_cols(t: np.ndarray, idx: np.ndarray, common: int) -> np.ndarray:
    """``t[p, idx[p]]`` for every row ``p`` (float64); most rows use column ``common``."""
    out = t[:, common].astype(np.float64)
    odd = np.flatnonzero(idx != common)
    if odd.size:
        out[odd] = t[odd, idx[odd]]
    return out


def nan_median_axis0(
    vals: np.ndarray, fallback: np.ndarray | None = None, invalid: np.ndarray | None = None
) -> np.ndarray:
    """Median over axis 0 of the valid values, as float64 ``(npix,)``.

    ``vals`` (float, ``(n, npix)``) is overwritten.  Invalid values are those flagged in
    ``invalid`` (default: the NaN values).  For an even count the two middle values are
    averaged.  Where no value is valid the result is ``fallback`` (NaN when not given).
    """
    n, npix = vals.shape
    if invalid is None:
        invalid = np.isnan(vals)
    count = n - np.count_nonzero(invalid, axis=0)
    np.copyto(vals, np.inf, where=invalid)
    half = n // 2 + 1
    lo_idx = np.maximum(count - 1, 0) // 2
    hi_idx = np.minimum(count // 2, half - 1)
    if n > NETWORK_MAX:
        # Long ramps: sort each pixel's values as a contiguous row (a transposed copy sorts
        # about twice as fast as the strided axis-0 sort); the order statistics are the same.
        t = np.ascontiguousarray(vals.T)
        t.sort(axis=1)
        lo = _pick_cols(t, lo_idx, (n - 1) // 2)
        hi = _pick_cols(t, hi_idx, n // 2)
        med = (lo + hi) / 2.0
        empty = count == 0
        if empty.any():
            med[empty] = np.nan if fallback is None else fallback[empty]
        return med
    else:
        rows = list(vals)
        spare = np.empty_like(vals[0])
        for i, j in lower_half_network(n):
            a, b = rows[i], rows[j]
            np.minimum(a, b, out=spare)
            np.maximum(a, b, out=b)
            rows[i], spare = spare, a
        rows = rows[:half]
    lo = _pick(rows, lo_idx, (n - 1) // 2)
    hi = _pick(rows, hi_idx, min(n // 2, half - 1))
    med = (lo + hi) / 2.0
    empty = count == 0
    if empty.any():
        med[empty] = np.nan if fallback is None else fallback[empty]
    return med
