"""NIRISS imaging: the WCS builder and the PHOTOM, APCORR and ABVEGAOFFSET row keys.

The imaging WCS (jwst's ``assign_wcs.niriss.imaging``): subarray offset, the filter offset
of the ``filteroffset`` reference matched on FILTER and PUPIL (when CRDS has one), the
``distortion`` model, velocity aberration and the pointing.  PHOTOM rows are matched on
FILTER and PUPIL.
"""

from jwcore import hookimpl
from dataclasses import dataclass, field

from jwcore.instrument import InstrumentPlugin
from jwcore.refs.rows import RowKey

IMAGING_EXPTYPES = frozenset({"NIS_IMAGE", "NIS_AMI", "NIS_TACQ", "NIS_TACONFIRM", "NIS_FOCUS"})

PHOTOM_KEYS = (RowKey("filter", "meta.instrument.filter"), RowKey("pupil", "meta.instrument.pupil"))
ROW_KEYS = {("photom", e): PHOTOM_KEYS for e in IMAGING_EXPTYPES}
# source_catalog: APCORR rows by FILTER and PUPIL, ABVEGAOFFSET rows by FILTER and PUPIL
ROW_KEYS["apcorr"] = (RowKey("filter", "meta.instrument.filter"), RowKey("pupil", "meta.instrument.pupil"))
ROW_KEYS["abvegaoffset"] = (RowKey("filter", "meta.instrument.filter"), RowKey("pupil", "meta.instrument.pupil"))

FILTER_OFFSET_MATCH = {"filter": "meta.instrument.filter", "pupil": "meta.instrument.pupil"}


@dataclass(eq=False)
class NirissPlugin(InstrumentPlugin):
    """NIRISS's declarations and the ``jwcal niriss`` commands (the imaging WCS is InstrumentPlugin's, from the declared EXP_TYPEs and filter-offset match)."""

    imaging_exptypes: frozenset = IMAGING_EXPTYPES
    filter_offset_match: dict | None = field(default_factory=lambda: dict(FILTER_OFFSET_MATCH))

    @hookimpl
    def jwcal_register_commands(self, cli):
        from .commands import niriss   # imported only when the CLI asks

        cli.add_command(niriss)

