"""Built-in plugin: pipelines that are the same for every instrument that uses them
(stage-2 and stage-3 imaging).  Instrument plugins may register their own variant of the
same name, which then wins for that instrument."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..runner.pipeline import PipelineSpec

# jwst 3.0's calwebb_image2: bkg_subtract (when the association has background members),
# assign_wcs, flat_field, photom, then resample to a single-exposure _i2d (resample is not in
# jwcal yet).  save_bsub keeps the background-subtracted product as _bsub.
IMAGE2 = PipelineSpec(
    "image2", ("bkg_subtract", "assign_wcs", "flat_field", "photom"), stage=2,
    aliases=("calwebb_image2",), suffix="cal", class_alias="Image2Pipeline",
    description="Stage-2 imaging: background, WCS, flat field, flux calibration",
    saves=(("save_bsub", "bkg_subtract", "bsub"),))

GENERIC_PIPELINES: tuple = (IMAGE2,)


@hookimpl
def jwcal_register_pipelines(register):
    for spec in GENERIC_PIPELINES:
        register(spec)
