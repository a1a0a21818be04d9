"""FGS imaging: the WCS builder and the PHOTOM, APCORR and ABVEGAOFFSET row keys.

The imaging WCS (jwst's ``assign_wcs.fgs.imaging``): subarray offset, the ``distortion``
model (FGS has no filter offsets), velocity aberration and the pointing.  FGS has no
filters: the PHOTOM table's first row applies (no row keys).
"""

from dataclasses import dataclass

from jwcore.instrument import InstrumentPlugin
from jwcore.refs.rows import RowKey

IMAGING_EXPTYPES = frozenset({"FGS_IMAGE", "FGS_FOCUS"})

ROW_KEYS = {("photom", e): () for e in IMAGING_EXPTYPES}
# source_catalog: the APCORR table is one set (no keys), ABVEGAOFFSET rows by DETECTOR
ROW_KEYS["apcorr"] = ()
ROW_KEYS["abvegaoffset"] = (RowKey("detector", "meta.instrument.detector"),)


@dataclass(eq=False)
class FgsPlugin(InstrumentPlugin):
    """FGS's declarations (the imaging WCS is InstrumentPlugin's, from the declared EXP_TYPEs and filter-offset match)."""

    imaging_exptypes: frozenset = IMAGING_EXPTYPES

