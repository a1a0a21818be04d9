"""NIRSpec IRS2 readout geometry: which rows of an IRS2 ramp hold "normal" pixels.

In DMS orientation an IRS2 full frame has 3200 rows: first the reference output
(``512 + 512 // NRS_NORM * NRS_REF`` rows), then the four amplifier outputs, where every
NRS_NORM normal rows are followed by NRS_REF interleaved reference rows (starting half a
block in).  Removing those rows leaves the 2048x2048 normal image.

This is the geometry of jwst's ``x_irs2`` modules (used by saturation and ipc).  The refpix
IRS2 correction has its own mask (:func:`jwcore.steps.refpix.irs2.irs2_normal_mask`, jwst's
``make_irs2_mask``): the two agree for the flight NRS_NORM = 16, NRS_REF = 4 and differ for
other values exactly as jwst's two do, so each step keeps the one jwst uses.
"""

from __future__ import annotations

import numpy as np

__all__ = ["irs2_normal_rows"]


def irs2_normal_rows(length: int = 3200, nrs_normal: int = 16, nrs_reference: int = 4, *, fastaxis: int = 2):
    """Boolean mask (length ``length``) of the normal rows along axis -2 of IRS2 data.

    Oriented by the readout direction: a negative ``fastaxis`` (FASTAXIS; the DMS rows run
    against the readout, as on NIRSpec NRS2) returns the mask reversed; a positive one (the
    default) the mask in readout order.
    """
    n, r = int(nrs_normal), int(nrs_reference)
    refout = 512 + 512 // n * r
    per_output = (length - refout) // 4
    n_output = per_output - (per_output // (n + r)) * r

    def pattern(size):
        pos = np.arange(size) - n // 2
        return ~((pos >= 0) & (pos % (n + r) < r))

    mask = np.zeros(length, dtype=bool)
    if n_output % n == 0:
        mask[refout:] = pattern(length - refout)
    else:
        mask[refout:] = True
        one = pattern(per_output)
        for q in range(4):
            j = refout + q * per_output
            mask[j : j + per_output] = one if q % 2 == 0 else one[::-1]
    if int(fastaxis) < 0:
        mask = mask[::-1].copy()
    return mask
