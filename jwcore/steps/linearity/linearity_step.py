"""``linearity`` step: polynomial classic-nonlinearity correction."""

from __future__ import annotations

import numpy as np

from .._ramp_util import frame_read_pattern
from .._refs import cutout, extra_array, standard_dq
from .._stepbase import RampStep
from .linearity import apply_linearity

__all__ = ["LinearityStep"]


class LinearityStep(RampStep):
    """Linearise every unsaturated group with the LINEARITY coefficients (cut to the
    subarray; NaN / zero-linear-term / NO_LIN_CORR pixels left alone and flagged).

    With inverse coefficients in the reference (INV_COEFFS), NFRAMES > 1 and no per-read
    times, the read-level correction of frame-averaged groups is used, as in ``jwst``.
    ZEROFRAME is corrected too when ``meta.exposure.zero_frame``.  SKIPPED when LINEARITY
    is N/A.
    """

    name = "linearity"
    class_alias = "linearity"
    description = "Perform a correction for non-linear detector response, using the polynomial method"
    spec = ()
    reference_file_types = ("linearity",)

    def process(self, model, refs):
        ref = self.require(refs, "linearity")
        meta = model.meta
        shape = model.data.shape
        coeffs = cutout(ref.coeffs, ref.meta, meta, shape)
        lin_dq = standard_dq(ref, "dq")
        lin_dq = (np.zeros(shape[-2:], np.uint32) if lin_dq is None
                  else cutout(lin_dq, ref.meta, meta, shape))
        inv = extra_array(ref, refs.path("linearity"), "INV_COEFFS", "inv_coeffs")
        nframes = meta.exposure.nframes or 1
        read_times = meta.get("exposure.read_times")
        read_pattern = None
        if inv is not None and nframes > 1 and not read_times:
            inv = cutout(inv, ref.meta, meta, shape)
            read_pattern = frame_read_pattern(meta.exposure.ngroups or shape[1], nframes)
            self.log.info("Using inverse coefficients and the read pattern (read-level correction)")
        else:
            inv = None
        zeroframe = model.zeroframe if meta.exposure.zero_frame and model.has("zeroframe") else None
        model.pixeldq = apply_linearity(model.data, model.groupdq, model.pixeldq, coeffs, lin_dq,
                                        inv_coeffs=inv, read_pattern=read_pattern, zeroframe=zeroframe)
        return model
