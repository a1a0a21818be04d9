"""FGS imaging: the WCS builder and the PHOTOM row keys.

The imaging WCS (jwst's ``assign_wcs.fgs.imaging``): subarray offset, the ``distortion``
model (FGS has no filter offsets), velocity aberration and the pointing.  FGS has no
filters: the PHOTOM table's first row applies (no row keys).
"""

from dataclasses import dataclass

from jwcore.instrument import InstrumentPlugin

IMAGING_EXPTYPES = frozenset({"FGS_IMAGE", "FGS_FOCUS"})

ROW_KEYS = {("photom", e): () for e in IMAGING_EXPTYPES}


@dataclass(eq=False)
class FgsPlugin(InstrumentPlugin):
    """FGS's declarations (the imaging WCS is InstrumentPlugin's, from the declared EXP_TYPEs and filter-offset match)."""

    imaging_exptypes: frozenset = IMAGING_EXPTYPES

