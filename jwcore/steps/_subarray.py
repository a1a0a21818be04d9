"""Cut the part of a reference array that matches a science subarray.

Subarray corners follow the FITS keywords: ``SUBSTRT1``/``SUBSTRT2`` are 1-based
column/row numbers of the first pixel, ``SUBSIZE1``/``SUBSIZE2`` the number of
columns/rows.
"""

from __future__ import annotations

import numpy as np


def extract(ref_array, xstart, ystart, xsize, ysize, *, ref_xstart=1, ref_ystart=1):
    """Return the ``(ysize, xsize)`` window of ``ref_array`` seen by a science subarray.

    Parameters
    ----------
    ref_array : ndarray
        Reference array, ``(..., ny, nx)``; leading axes (coefficients, groups) are kept.
    xstart, ystart : int
        1-based first column/row of the science data (SUBSTRT1, SUBSTRT2).
    xsize, ysize : int
        Science subarray size (SUBSIZE1, SUBSIZE2).
    ref_xstart, ref_ystart : int
        1-based corner of the reference array itself (1 for a full-frame reference).

    Returns
    -------
    ndarray
        A view of ``ref_array`` (no copy); copy it before modifying.

    Raises
    ------
    ValueError
        If a corner is < 1 or the window is not inside the reference array.
    """
    if xstart < 1 or ystart < 1 or ref_xstart < 1 or ref_ystart < 1:
        raise ValueError("subarray corners are 1-based and must be >= 1")
    x0 = int(xstart) - int(ref_xstart)
    y0 = int(ystart) - int(ref_ystart)
    x1 = x0 + int(xsize)
    y1 = y0 + int(ysize)
    ny, nx = np.shape(ref_array)[-2:]
    if x0 < 0 or y0 < 0 or x1 > nx or y1 > ny:
        raise ValueError(
            f"subarray x={xstart}+{xsize}, y={ystart}+{ysize} is outside the reference "
            f"array ({ny}x{nx} starting at x={ref_xstart}, y={ref_ystart})"
        )
    return ref_array[..., y0:y1, x0:x1]

