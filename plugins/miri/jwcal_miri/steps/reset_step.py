"""``reset`` step: subtract the MIRI reset-anomaly reference."""

from __future__ import annotations

import numpy as np

from jwcore.steps._refs import cutout, standard_dq
from jwcore.steps._stepbase import RampStep

from ..algorithms.reset import subtract_reset
from ._common import require_miri


class ResetStep(RampStep):
    """Subtract the RESET reference (per integration and group, first NINTS/NGROUPS of the
    reference; NaN counts as 0) and OR its DQ into PIXELDQ.  SKIPPED for non-MIRI data or
    when RESET is N/A."""

    name = "reset"
    class_alias = "reset"
    description = "Subtract the reset correction reference data from MIRI science data"
    spec = ()
    reference_file_types = ("reset",)

    def process(self, model, refs):
        require_miri(model, "Reset")
        ref = self.require(refs, "reset")
        meta = model.meta
        shape = model.data.shape
        data = cutout(ref.data, ref.meta, meta, shape)
        ref_dq = standard_dq(ref, "dq")
        ref_dq = np.uint32(0) if ref_dq is None else cutout(ref_dq, ref.meta, meta, shape)
        subtract_reset(
            model.data, model.pixeldq, data, np.asarray(ref_dq, dtype=np.uint32),
            integration_start=meta.exposure.integration_start,
            reset_nints=ref.meta.get("exposure.nints"), reset_ngroups=ref.meta.get("exposure.ngroups"),
        )
        return model
