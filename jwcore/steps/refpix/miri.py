"""Reference-pixel correction for MIRI full-frame ramps, matching ``jwst`` 3.0.0.

MIRI's 1024 x 1032 frame is read by four amplifiers interleaved by column: amplifier
k (A..D = 0..3) reads columns k, k+4, k+8, ...  Columns 0-3 (left) and 1028-1031
(right) are reference columns, one per amplifier on each side.  DMS and detector
orientation coincide, so no geometry is needed.

Per integration ``jwst``:

1. subtracts the first group from every group (in float64, rounded to float32);
2. for every group after the first: for each amplifier and each side, takes the
   sigma-clipped mean (``siglimit`` sigma, iterated) of its reference column over the
   pixels not flagged DO_NOT_USE, separately for even and odd rows when
   ``odd_even_rows`` (otherwise one value); left and right are averaged and subtracted
   from the amplifier's columns (the matching rows when ``odd_even_rows``);
3. adds the first group back (in float64, rounded to float32).

If any amplifier/side (/row parity) has no usable reference pixel at all, no group is
corrected (steps 1 and 3 still round-trip the values, which is all ``jwst`` does then).
Subarrays are not corrected: the function returns ``"SKIPPED"`` and leaves ``data``
untouched.  DQ is not modified.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from jwcore import dq
from jwcore.steps.refpix._clip import clipped_mean

__all__ = ["MIRI_FULL_SHAPE", "correct_miri"]

MIRI_FULL_SHAPE = (1024, 1032)
_LEFT = (0, 1, 2, 3)
_RIGHT = (1028, 1029, 1030, 1031)


def _selections(pixeldq, odd_even_rows):
    """Per amplifier: list of (row slice, left good rows, right good rows)."""
    nrows = pixeldq.shape[0]
    usable = (pixeldq & np.uint32(dq.DO_NOT_USE)) == 0
    row_slices = (slice(0, nrows, 2), slice(1, nrows, 2)) if odd_even_rows else (slice(0, nrows),)
    plan = []
    ok = True
    for amp in range(4):
        parts = []
        for rs in row_slices:
            lrows = np.arange(nrows)[rs][usable[rs, _LEFT[amp]]]
            rrows = np.arange(nrows)[rs][usable[rs, _RIGHT[amp]]]
            if lrows.size == 0 or rrows.size == 0:
                ok = False
            parts.append((rs, lrows, rrows))
        plan.append(parts)
    return plan, ok


def correct_miri(
    data: np.ndarray,
    pixeldq: np.ndarray,
    *,
    odd_even_rows: bool = True,
    siglimit: float = 3.0,
    max_workers: int | None = 2,
) -> str:
    """MIRI reference-pixel correction of a ramp, in place.

    Parameters
    ----------
    data : float32 array (nints, ngroups, ny, nx); modified in place.
    pixeldq : uint32 array (ny, nx); not modified.
    odd_even_rows, siglimit : the RefPixStep parameters of the same names.
    max_workers : threads over the groups of an integration.

    Returns
    -------
    ``"COMPLETE"``, or ``"SKIPPED"`` for a subarray (anything smaller than 1024 x 1032).
    """
    if data.ndim != 4:
        raise ValueError("data must be 4-D (nints, ngroups, ny, nx)")
    ny, nx = data.shape[-2:]
    if ny < MIRI_FULL_SHAPE[0] or nx < MIRI_FULL_SHAPE[1]:
        return "SKIPPED"
    plan, refs_ok = _selections(np.asarray(pixeldq), odd_even_rows)
    nints, ngroups = data.shape[:2]

    def work(args):
        plane, first, correct = args
        plane -= first  # float64 arithmetic, rounded to float32 like jwst
        if correct:
            for amp, parts in enumerate(plan):
                for rs, lrows, rrows in parts:
                    left = clipped_mean(plane[lrows, _LEFT[amp]], siglimit)
                    right = clipped_mean(plane[rrows, _RIGHT[amp]], siglimit)
                    plane[rs, amp::4] -= 0.5 * (left + right)
        plane += first

    workers = max(1, min(max_workers or 1, ngroups))
    ex = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        for i in range(nints):
            first = data[i, 0].astype(np.float64)
            jobs = [(data[i, g], first, refs_ok and g > 0) for g in range(ngroups)]
            if ex is None:
                for j in jobs:
                    work(j)
            else:
                list(ex.map(work, jobs))
    finally:
        if ex is not None:
            ex.shutdown()
    return "COMPLETE"
