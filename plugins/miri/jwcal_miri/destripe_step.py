"""The ``miri_destripe`` step: row/column stripe removal on MIRI imager rate/cal images.

Not in any pipeline by default; insert it by configuration (``[steps.miri_destripe]`` with
``insert_after = "flat_field"``).  The arithmetic is in :mod:`jwcal_miri.destripe`.
"""

from __future__ import annotations

from jwcore.destripe.step import COMMON_DESTRIPE_PARAMS, DestripeStepBase
from jwcore.runner import Param

from .destripe import destripe


class MiriDestripeStep(DestripeStepBase):
    name = "miri_destripe"
    class_alias = "MiriDestripeStep"
    description = "Remove row and column stripes from MIRI imager images (medians or robust PCA)"
    instrument = "MIRI"
    spec = COMMON_DESTRIPE_PARAMS + (
        Param("rows", bool, True, "Remove row (horizontal) stripes"),
    )

    def destripe_image(self, data, valid, model):
        return destripe(data, valid, method=self.method, nsigma=self.nsigma, dilate=self.dilate,
                        mask_box=self.mask_box, rows=self.rows, columns=self.columns,
                        filter_scale=self.filter_scale, n_components=self.n_components,
                        min_pixels=self.min_pixels, threads=self._threads())


STEPS = (MiriDestripeStep,)
