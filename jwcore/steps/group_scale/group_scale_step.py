"""``group_scale`` step: rescale ramps whose on-board frame average used FRMDIVSR != NFRAMES."""

from __future__ import annotations

from ...runner import SkipStep
from .._stepbase import RampStep
from .group_scale import apply_group_scale

__all__ = ["GroupScaleStep"]


class GroupScaleStep(RampStep):
    """Multiply every group by FRMDIVSR/NFRAMES.

    Skipped (as in ``jwst``) when NFRAMES is missing, when FRMDIVSR is missing (NFRAMES a
    power of two or not), or when the two are equal.  Nothing else in the model changes.
    """

    name = "group_scale"
    class_alias = "group_scale"
    description = "Rescale group data to account for on-board frame averaging"
    spec = ()
    reference_file_types = ()

    def process(self, model, refs):
        nframes = model.meta.exposure.nframes
        divisor = model.meta.exposure.frame_divisor
        if nframes is None:
            raise SkipStep("NFRAMES value not found")
        if divisor is None:
            if nframes & (nframes - 1) == 0:
                raise SkipStep(f"NFRAMES={nframes} is a power of 2; correction not needed")
            raise SkipStep("FRMDIVSR not found; necessary meta data missing")
        if nframes == divisor:
            raise SkipStep("NFRAMES and FRMDIVSR are equal; correction not needed")
        scale = apply_group_scale(model.data, nframes, divisor)
        self.log.info("Rescaled all groups by FRMDIVSR/NFRAMES = %s/%s = %g", divisor, nframes, scale)
        return model
