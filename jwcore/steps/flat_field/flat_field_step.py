"""The ``flat_field`` step (imaging modes; NIRSpec spectroscopic flats are not handled)."""

from __future__ import annotations

import logging

import numpy as np

from ...errors import ReferenceFileError
from ...runner import Param, SkipStep, Step
from .._subarray import extract

log = logging.getLogger("jwcal.step.flat_field")

# jwst 3.0: NIRSpec spectroscopic exposures need the f/s/d flats (not in jwcal yet).
NIRSPEC_SPECTRAL = {"NRS_AUTOWAVE", "NRS_BRIGHTOBJ", "NRS_FIXEDSLIT", "NRS_IFU", "NRS_LAMP", "NRS_MSASPEC"}
# extract_2d may only precede flat_field for these.
EXTRACT_2D_IS_OK = {"NRS_BRIGHTOBJ", "NRS_FIXEDSLIT", "NRS_LAMP", "NRS_MSASPEC", "NRS_AUTOWAVE", "NRS_AUTOFLAT"}


def reference_window(sci_meta, sci_shape, ref_meta, ref_shape):
    """The ``(xstart, ystart, xsize, ysize, ref_xstart, ref_ystart)`` to cut from a reference.

    ``None`` when the reference already covers exactly the science subarray.  A reference
    without corner keywords starts at pixel (1, 1) (jwst accepts that only for a full-frame
    array); the sizes are the arrays' own (as jwst, when keywords and shapes disagree).
    """
    rx = ref_meta.get("subarray.xstart") or 1
    ry = ref_meta.get("subarray.ystart") or 1
    sx, sy = sci_meta.get("subarray.xstart"), sci_meta.get("subarray.ystart")
    if sx is None or sy is None:
        raise ReferenceFileError("science data has no subarray keywords (SUBSTRT1/2)")
    rsx, rsy = ref_shape[-1], ref_shape[-2]
    ssx, ssy = sci_shape[-1], sci_shape[-2]
    if (rx, ry, rsx, rsy) == (sx, sy, ssx, ssy):
        return None
    return int(sx), int(sy), int(ssx), int(ssy), int(rx), int(ry)


def cut(array, window):
    """``array`` cut to ``window`` (see :func:`reference_window`); ``None`` stays ``None``."""
    if array is None or window is None:
        return array
    sx, sy, nx, ny, rx, ry = window
    return extract(array, sx, sy, nx, ny, ref_xstart=rx, ref_ystart=ry)


class FlatFieldStep(Step):
    name = "flat_field"
    class_alias = "FlatFieldStep"
    description = "Divide by the flat field; VAR_FLAT and ERR; flag NO_FLAT_FIELD pixels"
    spec = (
        Param("save_interpolated_flat", bool, False, "Save the interpolated NIRSpec flat (not used for imaging)"),
        Param("user_supplied_flat", str, None, "A flat to use instead of the FLAT reference", nullable=True),
        Param("inverse", bool, False, "Multiply by the flat instead (undo a flat field)"),
    )
    reference_file_types = ("flat",)

    def select_references(self, model, ctx):
        if self.user_supplied_flat is not None and self.override_flat is None:
            self.override_flat = self.user_supplied_flat
        return super().select_references(model, ctx)

    def process(self, model, refs):
        from .flat_field import apply_flat

        exp_type = str(model.meta.exposure.type or "").upper()
        if exp_type in NIRSPEC_SPECTRAL and str(model.meta.instrument.lamp_mode or "").upper() != "IMAGE":
            raise SkipStep(f"flat fielding of NIRSpec spectroscopic data ({exp_type}) is not implemented")
        if model.meta.get("cal_step.extract_2d") == "COMPLETE" and exp_type not in EXTRACT_2D_IS_OK:
            raise SkipStep(f"extract_2d should not have run for {exp_type} data")
        flat_model = refs.open("flat")
        if flat_model is None:
            raise SkipStep("no FLAT reference")
        flat = flat_model.data
        if model.data.shape[-1] > flat.shape[-1] or model.data.shape[-2] > flat.shape[-2]:
            raise SkipStep("the FLAT reference is smaller than the science data")
        window = reference_window(model.meta, model.data.shape, flat_model.meta, flat.shape)
        if window is not None:
            log.info("Extracting matching subarray from flat")
        fdq = flat_model.dq if flat_model.has("dq") else None
        ferr = flat_model.err if flat_model.has("err") else None
        guider = model.model_type == "GuiderCalModel"
        res = apply_flat(
            model.data, model.dq, cut(flat, window), cut(fdq, window), cut(ferr, window),
            err=model.err if guider else None,
            var_poisson=None if guider else _array(model, "var_poisson"),
            var_rnoise=None if guider else _array(model, "var_rnoise"),
            guider=guider, inverse=self.inverse)
        model.data, model.dq, model.err = res.data, res.dq, res.err
        if type(model).spec("var_flat") is not None:
            model.var_flat = res.var_flat
        if not guider:
            model.var_poisson, model.var_rnoise = res.var_poisson, res.var_rnoise
        return model


def _array(model, name):
    if not model.has(name):
        return None
    a = getattr(model, name)
    return None if a is None or np.size(a) == 0 else a
