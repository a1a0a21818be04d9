"""``gain_scale`` step: rescale rate products taken with a non-standard gain setting."""

from __future__ import annotations

from ...runner import SkipStep
from .._stepbase import RampStep
from .gain_scale import apply_gain_scale

__all__ = ["GainScaleStep"]


class GainScaleStep(RampStep):
    """Multiply SCI and ERR by GAINFACT and the variances by its square.

    GAINFACT comes from the model (``ramp_fit`` copies it from the GAIN reference) or else
    from the GAIN reference file's header (only then is GAIN selected, and none found counts
    as N/A); without it the step is SKIPPED (the usual case).  Sets
    ``meta.exposure.gain_factor`` when applied.  Works on rate (ImageModel) and rateints
    (CubeModel) products.
    """

    name = "gain_scale"
    class_alias = "gain_scale"
    description = "Rescale all integrations in an exposure by a gain factor"
    spec = ()
    reference_file_types = ("gain",)
    optional_references = ("gain",)
    input_model = None
    #: jwst's Detector1 also runs this step on the ``rateints`` product of ``ramp_fit``
    applies_to_extras = True

    def wanted_references(self, model) -> tuple:
        return () if model.meta.exposure.gain_factor is not None else ("gain",)

    def process(self, model, refs):
        factor = model.meta.exposure.gain_factor
        if factor is None:
            gain = refs.open("gain")
            if gain is not None:
                factor = gain.meta.get("exposure.gain_factor")
            if factor is None:
                raise SkipStep("GAINFACT not found in gain reference file")
        apply_gain_scale(
            model.data, model.err, factor,
            model.var_poisson if model.has("var_poisson") else None,
            model.var_rnoise if model.has("var_rnoise") else None,
        )
        model.meta.exposure.gain_factor = factor
        return model
