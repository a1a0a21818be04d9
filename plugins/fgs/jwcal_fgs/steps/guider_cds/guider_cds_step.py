"""``guider_cds`` step: GuiderRawModel ramp -> GuiderCalModel count rates."""

from __future__ import annotations

import numpy as np

from jwcore.datamodel import GuiderCalModel
from jwcore.runner import SkipStep, Step
from jwcore.steps._refs import cutout

from .guider_cds import guider_cds

__all__ = ["GuiderCdsStep"]

_TABLES = ("planned_star_table", "flight_star_table", "pointing_table", "centroid_table",
           "track_sub_table")


def _ref_array(ref, model, name: str = "data"):
    """The reference array over the data window; for ID-STACK data that do not fit the
    reference window, a constant plane of the reference's mean (as jwst does)."""
    arr = getattr(ref, name)
    shape = model.data.shape
    try:
        return cutout(arr, ref.meta, model.meta, shape)
    except ValueError:
        if "STACK" in str(model.meta.exposure.type).upper() and arr.shape != shape[-2:]:
            return np.full(shape[-2:], np.mean(arr), dtype=np.float32)
        raise


class GuiderCdsStep(Step):
    """Count rates of the FGS guiding modes from group differences (see the pure module).

    Output is a GuiderCalModel with the input's metadata, DQ and star tables, BUNIT DN/s.
    SKIPPED when GAIN or READNOISE is N/A.
    """

    name = "guider_cds"
    class_alias = "guider_cds"
    description = "Calculate the count rate for each pixel for FGS guiding modes"
    spec = ()
    reference_file_types = ("gain", "readnoise")
    optional_references = ("gain", "readnoise")
    input_model = None

    def process(self, model, refs):
        gain_ref = refs.open("gain")
        if gain_ref is None:
            raise SkipStep("No GAIN reference file found")
        rn_ref = refs.open("readnoise")
        if rn_ref is None:
            raise SkipStep("No READNOISE reference file found")
        meta = model.meta
        rate, err = guider_cds(model.data, meta.exposure.group_time, str(meta.exposure.type),
                               _ref_array(gain_ref, model), _ref_array(rn_ref, model))
        out = GuiderCalModel()
        out.copy_meta_from(model)
        out.data = rate
        out.err = err
        out.dq = model.dq
        for name in _TABLES:
            if model.has(name):
                setattr(out, name, getattr(model, name))
        out.meta.bunit_data = "DN/s"
        return out

