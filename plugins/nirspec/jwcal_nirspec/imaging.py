"""NIRSpec imaging modes: the WCS hook.

jwst builds the NIRSpec imaging WCS from the spectrograph's optical model (the ``fpa``,
``camera``, ``disperser``, ``collimator``, ``fore``, ``ote`` and ``wavelengthrange``
references: detector -> GWA -> MSA -> OTE image plane -> V2V3), not from a ``distortion``
file.  That chain is not in jwcal yet, so the hook answers for NIRSpec imaging exposures with
a clear "not implemented" (assign_wcs is then SKIPPED) instead of letting no plugin answer.
NIRSpec imaging modes have no PHOTOM rows (CRDS: N/A), so no row keys are declared.
"""

import logging

from jwcore import hookimpl
from jwcore.instrument import InstrumentPlugin

log = logging.getLogger("jwcal.nirspec")

IMAGING_EXPTYPES = frozenset({"NRS_IMAGE", "NRS_FOCUS", "NRS_MIMF", "NRS_CONFIRM", "NRS_TACQ",
                              "NRS_TACONFIRM", "NRS_TASLIT", "NRS_MSATA", "NRS_WATA", "NRS_VERIFY"})

ROW_KEYS: dict = {}


class NirspecPlugin(InstrumentPlugin):
    """NIRSpec's declarations plus its (not yet available) imaging WCS."""

    @hookimpl
    def jwcal_build_wcs(self, model, references):
        meta = model.meta
        if str(meta.instrument.name or "").upper() != self.instrument:
            return None
        exp_type = str(meta.exposure.type or "").upper()
        if exp_type in IMAGING_EXPTYPES:
            log.warning("NIRSpec %s WCS (optical model chain) is not implemented in jwcal", exp_type)
        return None
