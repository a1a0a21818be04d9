"""Clipped mean of reference pixels, with the exact arithmetic ``jwst`` uses.

``jwst`` gathers the usable reference pixels of a section into a 1-D array (in the
row-major order of the section), then iterates mean +/- ``siglimit`` * std clipping
until nothing more is rejected, in the array's own precision (float32 for ramps).
When the gathered values have zero spread, the plain mean is taken in float64.
Reproducing the order of the gathered values and the precision of each reduction is
what makes the result bit-identical, so callers must hand in the values in the same
order ``jwst`` would (row-major over the section, after dropping DO_NOT_USE pixels).
"""

from __future__ import annotations

import numpy as np


def clipped_mean(values: np.ndarray, siglimit: float):
    """Iteratively sigma-clipped mean of a 1-D array of usable reference values.

    Returns ``None`` when ``values`` is empty (no usable reference pixels), a numpy
    scalar otherwise: of the array's dtype after clipping, or float64 when all values
    are equal.  The scalar's dtype matters for the subtraction that follows (a float64
    scalar makes numpy subtract in float64 before rounding back to float32).
    """
    if values.size == 0:
        return None
    if np.std(values, dtype=np.float64) == 0.0:
        return values.mean(dtype=np.float64)
    lim = float(siglimit)
    kept = values
    while True:
        spread = kept.std()
        centre = kept.mean()
        n_before = kept.size
        low = centre - spread * lim
        high = centre + spread * lim
        kept = kept[(kept >= low) & (kept <= high)]
        if kept.size == n_before:
            break
    return kept.mean()
