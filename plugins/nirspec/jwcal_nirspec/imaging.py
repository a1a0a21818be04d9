"""NIRSpec imaging modes: which references the WCS reads, and the WCS hook.

NIRSpec's imaging WCS comes from the spectrograph's optical model (``fpa``, ``camera``,
``disperser``, ``collimator``, ``wavelengthrange``, ``fore``, ``ote``), not from a
``distortion`` file: :mod:`.imaging_wcs` builds it.  The spectroscopic modes (fixed slit,
MOS, IFU) are not built yet: the hook says so and assign_wcs is then SKIPPED.
NIRSpec imaging modes have no PHOTOM rows (CRDS: N/A), so no row keys are declared.
"""

import logging

from jwcore import hookimpl
from jwcore.instrument import InstrumentPlugin

from .imaging_wcs import OPTICAL_REFERENCES, imaging_wcs

log = logging.getLogger("jwcal.nirspec")

# jwst builds the imaging chain for these EXP_TYPEs (assign_wcs/nirspec.py's mode table).
IMAGING_EXPTYPES = frozenset({"NRS_IMAGE", "NRS_FOCUS", "NRS_MIMF", "NRS_CONFIRM", "NRS_TACQ",
                              "NRS_TACONFIRM", "NRS_TASLIT", "NRS_MSATA", "NRS_WATA", "NRS_VERIFY"})

ROW_KEYS: dict = {}

# Reference types CRDS answers N/A for on the imaging EXP_TYPEs (the nirspec photom and area
# rmaps list only the spectroscopic modes).
IMAGING_NOT_APPLICABLE = frozenset({"photom", "area"})


def _is_mine(meta, instrument) -> bool:
    return str(meta.get("instrument.name") or "").upper() == instrument


class NirspecPlugin(InstrumentPlugin):
    """NIRSpec's declarations plus its optical-model imaging WCS."""

    @hookimpl
    def jwcal_wcs_reference_types(self, meta):
        """Every NIRSpec exposure's WCS reads the optical model (as jwst's assign_wcs selects it)."""
        if not _is_mine(meta, self.instrument):
            return None
        return OPTICAL_REFERENCES

    @hookimpl
    def jwcal_select_reference(self, reftype, meta):
        """CRDS has no PHOTOM/AREA for NIRSpec's imaging modes (photom is skipped, as in jwst)."""
        if (_is_mine(meta, self.instrument) and reftype in IMAGING_NOT_APPLICABLE
                and str(meta.get("exposure.type") or "").upper() in IMAGING_EXPTYPES):
            return "N/A"
        return super().jwcal_select_reference(reftype, meta)

    @hookimpl
    def jwcal_build_wcs(self, model, references):
        meta = model.meta
        if not _is_mine(meta, self.instrument):
            return None
        exp_type = str(meta.get("exposure.type") or "").upper()
        if exp_type not in IMAGING_EXPTYPES:
            log.warning("NIRSpec %s WCS (slits, MSA, IFU) is not implemented in jwcal", exp_type)
            return None
        return imaging_wcs(meta, {r: references.path(r) for r in OPTICAL_REFERENCES})
