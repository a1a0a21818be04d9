"""MIRI imager: the WCS builder and the PHOTOM, APCORR and ABVEGAOFFSET row keys.

The imager WCS (jwst's ``assign_wcs.miri.imaging``): subarray offset, then the imager's
filter-dependent boresight shift from the ``filteroffset`` reference (matched on FILTER
alone; the file is required), applied to full-frame pixels in front of the ``distortion``
model (which carries the imager's bounding box), velocity aberration and the pointing.
PHOTOM rows are matched on FILTER and SUBARRAY, falling back to ``SUBARRAY=GENERIC`` rows
(older files).
"""

from dataclasses import dataclass, field

from jwcore.instrument import InstrumentPlugin
from jwcore.refs.rows import RowKey

IMAGING_EXPTYPES = frozenset({"MIR_IMAGE", "MIR_TACQ", "MIR_LYOT", "MIR_4QPM", "MIR_CORONCAL",
                              "MIR_TACONFIRM"})

PHOTOM_KEYS = (RowKey("subarray", "meta.subarray.name", fallback="GENERIC"),
               RowKey("filter", "meta.instrument.filter"))
ROW_KEYS = {("photom", e): PHOTOM_KEYS for e in IMAGING_EXPTYPES}
# source_catalog: APCORR rows by FILTER and SUBARRAY, ABVEGAOFFSET rows by FILTER
ROW_KEYS["apcorr"] = (RowKey("filter", "meta.instrument.filter"), RowKey("subarray", "meta.subarray.name"))
ROW_KEYS["abvegaoffset"] = (RowKey("filter", "meta.instrument.filter"),)

FILTER_OFFSET_MATCH = {"filter": "meta.instrument.filter"}


@dataclass(eq=False)
class MiriPlugin(InstrumentPlugin):
    """MIRI's declarations (the imaging WCS is InstrumentPlugin's, from the declared EXP_TYPEs and filter-offset match)."""

    imaging_exptypes: frozenset = IMAGING_EXPTYPES
    filter_offset_match: dict | None = field(default_factory=lambda: dict(FILTER_OFFSET_MATCH))
    filter_offset_required: bool = True

