"""Built-in plugin: pipelines that are the same for every instrument that uses them
(stage-2 and stage-3 imaging).  Instrument plugins may register their own variant of the
same name, which then wins for that instrument."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..runner.pipeline import PipelineSpec, StepUse

# jwst 3.0's calwebb_image2: bkg_subtract (when the association has background members),
# assign_wcs, flat_field, photom, then resample to a single-exposure _i2d.  The pipeline's
# product is the _cal; resample (extra_product=True) hands the input on unchanged and returns
# the _i2d as an extra product, which the pipeline saves beside it.  save_bsub keeps the
# background-subtracted product as _bsub.
IMAGE2 = PipelineSpec(
    "image2", ("bkg_subtract", "assign_wcs", "flat_field", "photom",
               StepUse("resample", {"extra_product": True})), stage=2,
    aliases=("calwebb_image2",), suffix="cal", class_alias="Image2Pipeline",
    description="Stage-2 imaging: background, WCS, flat field, flux calibration, single-exposure _i2d",
    saves=(("save_bsub", "bkg_subtract", "bsub"),))

# jwst 3.0's calwebb_image3 on a level-3 association (a library of _cal exposures, opened one
# at a time): align (tweakreg), sky levels (skymatch), outliers (outlier_detection, which
# writes the _crf exposures), the mosaic (resample -> _i2d, the product) and its catalog.
IMAGE3 = PipelineSpec(
    "image3", ("tweakreg", "skymatch", StepUse("outlier_detection", {"save_results": True}), "resample",
               "source_catalog"), stage=3,
    aliases=("calwebb_image3",), suffix="i2d", class_alias="Image3Pipeline",
    description="Stage-3 imaging: alignment, sky matching, outlier flagging, drizzled mosaic, source catalog")

GENERIC_PIPELINES: tuple = (IMAGE2, IMAGE3)


def _available(spec: PipelineSpec) -> PipelineSpec:
    """``spec`` without the steps of it that no generic step module provides (yet).

    A pipeline naming an unregistered step would mark this whole built-in plugin broken, so
    while tweakreg and source_catalog are not in GENERIC_STEPS, image3 runs without them.
    """
    from dataclasses import replace

    from .generic_steps import step_classes

    names = {cls.name for cls in step_classes()}
    kept = tuple(u for u in spec.steps if u.step in names)
    return spec if len(kept) == len(spec.steps) else replace(spec, steps=kept)


@hookimpl
def jwcal_register_pipelines(register):
    register(_available(IMAGE2))
    register(_available(IMAGE3))
