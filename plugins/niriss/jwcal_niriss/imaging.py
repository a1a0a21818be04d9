"""NIRISS imaging: the WCS builder and the PHOTOM row keys.

The imaging WCS (jwst's ``assign_wcs.niriss.imaging``): subarray offset, the filter offset
of the ``filteroffset`` reference matched on FILTER and PUPIL (when CRDS has one), the
``distortion`` model, velocity aberration and the pointing.  PHOTOM rows are matched on
FILTER and PUPIL.
"""

from jwcore import hookimpl
from jwcore.instrument import InstrumentPlugin
from jwcore.refs.rows import RowKey

IMAGING_EXPTYPES = frozenset({"NIS_IMAGE", "NIS_AMI", "NIS_TACQ", "NIS_TACONFIRM", "NIS_FOCUS"})

PHOTOM_KEYS = (RowKey("filter", "meta.instrument.filter"), RowKey("pupil", "meta.instrument.pupil"))
ROW_KEYS = {("photom", e): PHOTOM_KEYS for e in IMAGING_EXPTYPES}

FILTER_OFFSET_MATCH = {"filter": "meta.instrument.filter", "pupil": "meta.instrument.pupil"}


class NirissPlugin(InstrumentPlugin):
    """NIRISS's declarations plus its imaging WCS and the ``jwcal niriss`` commands."""

    @hookimpl
    def jwcal_register_commands(self, cli):
        from .commands import niriss   # imported only when the CLI asks

        cli.add_command(niriss)

    @hookimpl
    def jwcal_build_wcs(self, model, references):
        meta = model.meta
        if str(meta.instrument.name or "").upper() != self.instrument:
            return None
        if str(meta.exposure.type or "").upper() not in IMAGING_EXPTYPES:
            return None
        from jwcore.wcs.builders import imaging_wcs_from_references

        return imaging_wcs_from_references(model, references, offset_match=FILTER_OFFSET_MATCH)
