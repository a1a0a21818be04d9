"""``dq_init`` step: fold the MASK reference into the science DQ arrays."""

from __future__ import annotations

import numpy as np

from ...errors import BadInputError
from ...runner import Param
from .._refs import cutout, is_irs2, standard_dq
from .._stepbase import RampStep
from .dq_init import apply_dq_init

__all__ = ["DQInitStep"]


def _guider_like(model) -> bool:
    """A product that carries one ``dq`` array and no PIXELDQ/GROUPDQ (FGS guiding modes).

    ``jwst`` recognises these by a list of FGS EXP_TYPEs and opens them as GuiderRawModel;
    jwcal lets the model class say it: such a model declares a ``dq`` array and no
    ``pixeldq``, and its DQ is updated in place of PIXELDQ/GROUPDQ.
    """
    cls = type(model)
    return cls.spec("dq") is not None and cls.spec("pixeldq") is None and cls.spec("data") is not None


class DQInitStep(RampStep):
    """OR the MASK DQ (cut to the subarray, DQ_DEF applied) into PIXELDQ, and its DO_NOT_USE
    into every group of GROUPDQ.  A ``user_supplied_dq`` FITS image (primary HDU, the mask's
    shape after cutting) is OR-ed into the mask first.  SKIPPED when MASK is N/A.

    NIRSpec IRS2 data (3200 rows) take the MASK in the IRS2 layout (3200 rows, SUBSIZE2 =
    2048, as CRDS delivers it for NRSIRS2/NRSIRS2RAPID), OR-ed in whole, interleaved reference
    rows included, as ``jwst`` does; a 2048-row mask is an error (``jwst`` fails to broadcast).
    """

    name = "dq_init"
    class_alias = "dq_init"
    description = "Initialize the Data Quality extension from the mask reference file"
    spec = (Param("user_supplied_dq", str, None, "FITS user-supplied DQ file", nullable=True),)
    reference_file_types = ("mask",)

    def run(self, model, ctx=None):
        # guider products keep their own model type (no conversion to a RampModel)
        self.input_model = None if _guider_like(model) else type(self).input_model
        return super().run(model, ctx)

    def process(self, model, refs):
        mask_ref = self.require(refs, "mask")
        guider = _guider_like(model)
        shape = model.data.shape
        mask = standard_dq(mask_ref, "dq")
        if mask is None:
            raise BadInputError(f"MASK reference {refs.path('mask')} has no DQ array")
        # the mask is only read below (apply_dq_init ORs it into the science DQ)
        mask = cutout(mask, mask_ref.meta, model.meta, shape)
        if not guider and is_irs2(shape) and mask.shape[-2:] != shape[-2:]:
            # jwst ORs the mask into PIXELDQ as it is: IRS2 data need an IRS2-layout MASK
            raise BadInputError(f"MASK reference {refs.path('mask')} is {mask.shape[-2:]}, but the IRS2 "
                                f"data are {shape[-2:]}: use a MASK in the IRS2 layout (READPATT NRSIRS2*)")
        user = None
        if self.user_supplied_dq is not None:
            from astropy.io import fits

            self.log.info("User-supplied DQ %s given; adding it to DQ initialization", self.user_supplied_dq)
            user = fits.getdata(self.user_supplied_dq)
        if guider:
            dq_arr = model.dq
            if dq_arr is None or dq_arr.shape != mask.shape:
                dq_arr = np.zeros(mask.shape, dtype=np.uint32)
            apply_dq_init(dq_arr, None, mask, user)
            model.dq = dq_arr
            return model
        pixeldq = model.pixeldq
        if pixeldq.shape != shape[-2:]:
            self.log.warning("Setting input pixel DQ to default array")
            pixeldq = np.zeros(shape[-2:], dtype=np.uint32)
        groupdq = model.groupdq
        if groupdq.shape != shape:
            self.log.warning("Setting input group DQ to default array")
            groupdq = np.zeros(shape, dtype=np.uint8)
        apply_dq_init(pixeldq, groupdq, mask, user)
        model.pixeldq = pixeldq
        model.groupdq = groupdq
        return model
