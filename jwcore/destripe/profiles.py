"""Masked median profiles along rows or columns: the stripe model of the median methods."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["nanmedian_along", "stripe_profile"]


def nanmedian_along(x: np.ndarray, axis: int, threads: int = 1) -> np.ndarray:
    """Median of the finite values along ``axis`` (NaN where there are none).

    Vectorised: one sort (NaNs sort last), then the middle element(s) of each lane; with
    ``threads`` > 1 the lanes are split into blocks sorted in parallel (numpy releases the GIL).
    """
    x = np.asarray(x)
    axis = axis % x.ndim
    other = 0 if axis != 0 else (1 if x.ndim > 1 else None)
    if threads > 1 and other is not None and x.shape[other] >= 2 * threads and x.size > 1 << 18:
        from concurrent.futures import ThreadPoolExecutor

        edges = np.linspace(0, x.shape[other], threads + 1).astype(int)
        blocks = [np.take(x, np.arange(a, b), axis=other) for a, b in zip(edges[:-1], edges[1:])]
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(lambda blk: nanmedian_along(blk, axis), blocks))
        return np.concatenate(parts, axis=other if other < axis else other - 1)
    s = np.sort(x, axis=axis)
    n = np.sum(np.isfinite(x), axis=axis)
    lo = np.expand_dims(np.maximum(n - 1, 0) // 2, axis)
    hi = np.expand_dims(n // 2, axis)
    hi = np.minimum(hi, x.shape[axis] - 1)
    a = np.take_along_axis(s, lo, axis=axis).squeeze(axis)
    b = np.take_along_axis(s, hi, axis=axis).squeeze(axis)
    out = (0.5 * (a.astype(np.float64) + b)).astype(np.result_type(x.dtype, np.float32))
    out[n == 0] = np.nan
    return out


def _fill_gaps(profile: np.ndarray) -> np.ndarray:
    """Linearly interpolate NaN entries of a 1-D profile from their neighbours (0 if all NaN)."""
    good = np.isfinite(profile)
    if good.all():
        return profile
    if not good.any():
        return np.zeros_like(profile)
    idx = np.arange(profile.size)
    out = profile.copy()
    out[~good] = np.interp(idx[~good], idx[good], profile[good])
    return out


def stripe_profile(data: np.ndarray, mask: np.ndarray | None = None, *, along: str = "rows",
                   groups: np.ndarray | None = None, filter_scale: int = 0, min_pixels: int = 8,
                   group_levels: bool = False, threads: int = 1) -> np.ndarray:
    """The stripe model image: masked median offsets of each row (or column), per group.

    ``along="rows"``: one offset per row and per *group of columns* (``groups``: an int label
    per column, e.g. the amplifier owning it; ``None``: all columns together), so horizontal
    stripes are modelled; ``along="columns"``: one offset per column and per group of rows.
    ``mask``: True for pixels to leave out (sources, bad pixels); NaNs are left out too.
    A row segment with fewer than ``min_pixels`` usable pixels takes the median of the whole
    row, and a row with none is interpolated from its neighbours.

    The offsets are relative to a level so that the image's background is kept:
    ``filter_scale`` > 0 subtracts a running median of that length along the profile (stripes
    narrower than it are removed, larger-scale emission kept); otherwise the median of all
    profiles (``group_levels=True``: of each group's own profile, keeping group offsets).
    Returns a float32 array of ``data``'s shape to subtract from ``data``.  ``threads``: see
    :func:`nanmedian_along`.
    """
    if along not in ("rows", "columns"):
        raise ValueError("along must be 'rows' or 'columns'")
    x = np.asarray(data, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError("stripe_profile works on a 2-D image")
    if along == "columns":
        return stripe_profile(x.T, None if mask is None else np.asarray(mask).T, along="rows", groups=groups,
                              filter_scale=filter_scale, min_pixels=min_pixels, group_levels=group_levels,
                              threads=threads).T
    ny, nx = x.shape
    work = x.copy()
    if mask is not None:
        work[np.asarray(mask, bool)] = np.nan
    labels = np.zeros(nx, np.intp) if groups is None else np.asarray(groups, np.intp)
    if labels.shape != (nx,):
        raise ValueError(f"groups must label each of the {nx} columns")
    names = np.unique(labels)
    profiles = np.empty((ny, names.size), np.float32)
    few = np.zeros((ny, names.size), bool)
    for k, g in enumerate(names):
        cols = labels == g
        sub = work[:, cols] if names.size > 1 else work
        profiles[:, k] = nanmedian_along(sub, axis=1, threads=threads)
        few[:, k] = np.sum(np.isfinite(sub), axis=1) < min(min_pixels, int(cols.sum()))
    rows = np.flatnonzero(few.any(axis=1))
    if rows.size and names.size > 1:      # thin segments take the whole row's median
        whole = nanmedian_along(work[rows], axis=1)
        profiles[rows] = np.where(few[rows], whole[:, None], profiles[rows])
    elif rows.size:
        profiles[few] = np.nan
    for k in range(names.size):
        profiles[:, k] = _fill_gaps(profiles[:, k])
    if filter_scale and filter_scale > 1:
        smooth = ndimage.median_filter(profiles, size=(int(filter_scale), 1), mode="nearest")
        offsets = profiles - smooth
    elif group_levels:
        offsets = profiles - np.median(profiles, axis=0, keepdims=True)
    else:
        offsets = profiles - np.median(profiles)
    index = np.searchsorted(names, labels)
    return offsets[:, index].astype(np.float32)
