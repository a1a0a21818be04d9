"""Absolute astrometry: apply tabulated sky corrections (shifts, rotations) to imaging WCSs.

* :mod:`jwcore.astrometry.correction` - the tangent-plane correction and how it is put into
  a gwcs (and the SCI header's FITS WCS kept consistent with it);
* :mod:`jwcore.astrometry.table` - alignment tables (per exposure, visit or observation).

Used by ``jwcal align --table T`` and by the ``astrometric_align`` step.  Nothing here is
instrument-specific: any imaging gwcs ending in a celestial ``world`` frame can be corrected,
which is why this lives in the core rather than in an instrument plugin.
"""

from .correction import SkyCorrection, apply_correction, correction_transform, corrected_wcs
from .table import AlignmentTable, keys_for, read_alignment_table

__all__ = ["SkyCorrection", "apply_correction", "correction_transform", "corrected_wcs", "AlignmentTable",
           "keys_for", "read_alignment_table"]
