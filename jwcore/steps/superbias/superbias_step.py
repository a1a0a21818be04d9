"""``superbias`` step: subtract the bias image from every group."""

from __future__ import annotations

import numpy as np

from ...errors import BadInputError
from .._refs import cutout, is_irs2, standard_dq
from .._stepbase import RampStep
from .superbias import apply_superbias

__all__ = ["SuperBiasStep"]


class SuperBiasStep(RampStep):
    """Subtract the SUPERBIAS image (cut to the subarray; NaN counts as 0) from every group
    and OR its DQ into PIXELDQ; ZEROFRAME too when ``meta.exposure.zero_frame``.  SKIPPED
    when SUPERBIAS is N/A.

    NIRSpec IRS2 data (3200 rows) take the SUPERBIAS in the IRS2 layout (3200 rows, SUBSIZE2
    = 2048), subtracted from every row, reference rows included, as ``jwst`` does.
    """

    name = "superbias"
    class_alias = "superbias"
    description = "Subtract super-bias reference data from the input science data model"
    spec = ()
    reference_file_types = ("superbias",)

    def process(self, model, refs):
        ref = self.require(refs, "superbias")
        shape = model.data.shape
        bias = cutout(ref.data, ref.meta, model.meta, shape)
        if is_irs2(shape) and bias.shape[-2:] != shape[-2:]:
            raise BadInputError(f"SUPERBIAS reference {refs.path('superbias')} is {bias.shape[-2:]}, but the "
                                f"IRS2 data are {shape[-2:]}: use a SUPERBIAS in the IRS2 layout")
        bias_dq = standard_dq(ref, "dq")
        bias_dq = np.uint32(0) if bias_dq is None else cutout(bias_dq, ref.meta, model.meta, shape)
        zeroframe = model.zeroframe if model.meta.exposure.zero_frame and model.has("zeroframe") else None
        apply_superbias(model.data, model.pixeldq, bias, bias_dq, zeroframe=zeroframe)
        return model
