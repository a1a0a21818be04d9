"""Source masks for background and stripe estimates."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["robust_level", "source_mask"]

_MAD = 1.4826   # MAD -> sigma for a normal distribution


def robust_level(values: np.ndarray, nsigma: float = 3.0, iterations: int = 5,
                 max_samples: int = 250_000) -> tuple[float, float]:
    """``(level, sigma)`` of the finite ``values``: median and MAD-sigma, iteratively clipped.

    More than ``max_samples`` values are thinned by a regular stride first (the statistics of
    a quarter million pixels are as good as those of four million, at a fraction of the cost).
    Returns ``(nan, nan)`` when nothing is finite.
    """
    v = np.asarray(values, dtype=np.float32).ravel()
    if v.size > max_samples:
        v = v[:: -(-v.size // max_samples)]
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    level = float(np.median(v))
    sigma = float(_MAD * np.median(np.abs(v - level)))
    for _ in range(iterations):
        if not sigma > 0:
            break
        keep = np.abs(v - level) <= nsigma * sigma
        if keep.all():
            break
        v = v[keep]
        if v.size == 0:
            break
        level = float(np.median(v))
        sigma = float(_MAD * np.median(np.abs(v - level)))
    return level, sigma


def _block_background(data: np.ndarray, valid: np.ndarray, box: int) -> np.ndarray:
    """Median of valid pixels in ``box`` x ``box`` cells, interpolated back to full size."""
    from .profiles import nanmedian_along

    ny, nx = data.shape
    by, bx = max(1, -(-ny // box)), max(1, -(-nx // box))
    pad = np.full((by * box, bx * box), np.nan, np.float32)
    pad[:ny, :nx] = np.where(valid, data, np.nan)
    cells = pad.reshape(by, box, bx, box).transpose(0, 2, 1, 3).reshape(by, bx, box * box)
    grid = nanmedian_along(cells, axis=2)
    if np.isnan(grid).all():
        return np.zeros_like(data, dtype=np.float32)
    # fill empty cells with the median of the others, then smooth-interpolate
    grid = np.where(np.isnan(grid), np.nanmedian(grid), grid)
    yc = (np.arange(ny) + 0.5) / box - 0.5
    xc = (np.arange(nx) + 0.5) / box - 0.5
    yy = np.clip(yc, 0, by - 1)
    xx = np.clip(xc, 0, bx - 1)
    return ndimage.map_coordinates(grid, np.meshgrid(yy, xx, indexing="ij"), order=1, mode="nearest").astype(np.float32)


def source_mask(data: np.ndarray, valid: np.ndarray | None = None, *, nsigma: float = 3.0, dilate: int = 2,
                box: int = 0, smooth: int = 3) -> np.ndarray:
    """Boolean mask, True on sources (and strong outliers) of a 2-D image.

    ``valid``: pixels that may be used (``None``: the finite ones).  ``nsigma``: detection
    threshold above the clipped background level, in the image's clipped sigma; the image
    smoothed by a ``smooth`` x ``smooth`` box is thresholded too (at ``nsigma`` times the
    smoothed noise, which catches faint extended wings).  ``box`` > 0 first removes a
    block-median background of that cell size (images with extended emission or gradients).
    ``dilate``: grow the mask by this many pixels.  Pixels deviating by more than
    ``2 * nsigma`` sigma in either direction (hot or dead pixels) are masked as well.
    """
    data = np.asarray(data, dtype=np.float32)
    if data.ndim != 2:
        raise ValueError("source_mask works on a 2-D image")
    ok = np.isfinite(data) if valid is None else (np.asarray(valid, bool) & np.isfinite(data))
    work = data
    if box and box > 0:
        work = data - _block_background(data, ok, int(box))
    level, sigma = robust_level(work[ok], nsigma=3.0)
    mask = np.zeros(data.shape, bool)
    if not np.isfinite(level) or not sigma > 0:
        return mask
    resid = np.where(ok, work - level, 0.0).astype(np.float32)
    mask |= ok & (resid > nsigma * sigma)
    mask |= ok & (np.abs(resid) > 2.0 * nsigma * sigma)
    if smooth and smooth > 1:
        # box-smoothed residual of the valid pixels (normalised by their count)
        num = ndimage.uniform_filter(resid, size=smooth, mode="constant")
        den = ndimage.uniform_filter(ok.astype(np.float32), size=smooth, mode="constant")
        with np.errstate(invalid="ignore", divide="ignore"):
            sm = np.where(den > 0, num / den, 0.0)
        mask |= ok & (sm > nsigma * sigma / smooth)
    if dilate and dilate > 0:
        mask = ndimage.binary_dilation(mask, iterations=int(dilate))
    return mask
