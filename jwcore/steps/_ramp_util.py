"""Small shared helpers for the ramp (detector1) step algorithms: row blocks, threads,
and the frame read pattern implied by NFRAMES."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

#: Kept for compatibility: the thread count now comes from :func:`jwcore.parallel.threads`
#: (the run's budget, all cores by default, ``JWCAL_THREADS`` to override).
MAX_THREADS = max(1, min(2, os.cpu_count() or 1))

#: Target number of pixels (per plane block) handled by one task.
BLOCK_PIXELS = 1 << 18


def row_blocks(nrows: int, ncols: int, block_pixels: int = BLOCK_PIXELS) -> list[slice]:
    """Split ``nrows`` rows into slices of about ``block_pixels`` pixels each."""
    step = max(1, block_pixels // max(1, ncols))
    return [slice(r, min(r + step, nrows)) for r in range(0, nrows, step)]


def run_parallel(func, items, threads: int | None = None) -> list:
    """``[func(x) for x in items]``, on up to ``threads`` threads (default: the run's thread
    budget, :func:`jwcore.parallel.threads`) when there is more than one item."""
    from ..parallel import threads as budget

    items = list(items)
    nthreads = budget() if threads is None else max(1, threads)
    if nthreads == 1 or len(items) < 2:
        return [func(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(nthreads, len(items))) as pool:
        return list(pool.map(func, items))


def frame_read_pattern(ngroups: int, nframes: int) -> list[list[int]]:
    """1-based frame numbers averaged into each group, ignoring GROUPGAP.

    This is the pattern jwst builds from NFRAMES for the saturation and linearity steps:
    group ``g`` holds frames ``g*nframes + 1 .. (g+1)*nframes``.
    """
    return [[g * nframes + k + 1 for k in range(nframes)] for g in range(ngroups)]


def array_blocks(arr, block_pixels: int = BLOCK_PIXELS) -> list:
    """Views of ``arr`` covering it exactly once, each about ``block_pixels`` elements.

    Used for in-place element-wise work.  A C-contiguous array is cut along its rows
    seen as 2-D ``(-1, nx)``; otherwise the leading axes are iterated.
    """
    if arr.ndim == 0:
        return [arr]
    if arr.ndim == 1 or arr.flags.c_contiguous:
        flat = arr.reshape(-1, arr.shape[-1]) if arr.ndim > 1 else arr.reshape(1, -1)
        return [flat[s] for s in row_blocks(flat.shape[0], flat.shape[1], block_pixels)]
    return [blk for sub in arr for blk in array_blocks(sub, block_pixels)]
