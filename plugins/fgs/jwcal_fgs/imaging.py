"""FGS imaging: the WCS builder and the PHOTOM row keys.

The imaging WCS (jwst's ``assign_wcs.fgs.imaging``): subarray offset, the ``distortion``
model (FGS has no filter offsets), velocity aberration and the pointing.  FGS has no
filters: the PHOTOM table's first row applies (no row keys).
"""

from jwcore import hookimpl
from jwcore.instrument import InstrumentPlugin

IMAGING_EXPTYPES = frozenset({"FGS_IMAGE", "FGS_FOCUS"})

ROW_KEYS = {("photom", e): () for e in IMAGING_EXPTYPES}


class FgsPlugin(InstrumentPlugin):
    """FGS's declarations plus its imaging WCS."""

    @hookimpl
    def jwcal_build_wcs(self, model, references):
        meta = model.meta
        if str(meta.instrument.name or "").upper() != self.instrument:
            return None
        if str(meta.exposure.type or "").upper() not in IMAGING_EXPTYPES:
            return None
        from jwcore.wcs.builders import imaging_wcs_from_references

        return imaging_wcs_from_references(model, references, offset_match=None)
