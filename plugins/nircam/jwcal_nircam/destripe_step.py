"""The ``nircam_destripe`` step: 1/f stripe removal on NIRCam rate/cal images.

Not part of any pipeline by default; insert it by configuration, e.g. in a parameter file::

    [steps.nircam_destripe]
    insert_after = "flat_field"     # in image2
    method = "pca"

The arithmetic is in :mod:`jwcal_nircam.destripe`; masking, the per-integration loop and the
common parameters in :class:`jwcore.destripe.step.DestripeStepBase`.
"""

from __future__ import annotations

from jwcore.destripe.step import COMMON_DESTRIPE_PARAMS, DestripeStepBase
from jwcore.runner import Param

from .destripe import amplifier_labels, destripe


class NircamDestripeStep(DestripeStepBase):
    name = "nircam_destripe"
    class_alias = "NircamDestripeStep"
    description = "Remove 1/f noise stripes from NIRCam images (row medians per amplifier or robust PCA)"
    instrument = "NIRCAM"
    spec = COMMON_DESTRIPE_PARAMS + (
        Param("per_amplifier", bool, True, "Measure row stripes separately for each amplifier (output)"),
    )

    def destripe_image(self, data, valid, model):
        meta = model.meta
        labels = amplifier_labels(data.shape[1], meta.get("subarray.xstart") or 1, meta.get("exposure.noutputs"))
        return destripe(data, valid, labels, method=self.method, nsigma=self.nsigma, dilate=self.dilate,
                        mask_box=self.mask_box, per_amplifier=self.per_amplifier, columns=self.columns,
                        filter_scale=self.filter_scale, n_components=self.n_components,
                        min_pixels=self.min_pixels, threads=self._threads())


STEPS = (NircamDestripeStep,)
