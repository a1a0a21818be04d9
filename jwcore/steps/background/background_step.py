"""The ``bkg_subtract`` step (jwst's BackgroundStep) for imaging and non-WFSS modes.

Background exposures come from the level-2 association's ``background`` members (when the
run has an association), else from the ``bkg_list`` parameter.  WFSS and SOSS background
scaling (BKG reference) is not implemented: those exposures skip the step.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ...errors import BadInputError
from ...runner import Param, SkipStep
from ...runner.step import Step

log = logging.getLogger("jwcal.step.bkg_subtract")

WFSS_TYPES = {"NIS_WFSS", "NRC_WFSS", "MIR_WFSS", "NRC_GRISM"}
GWA_TOLERANCE = 1.0e-8


class BackgroundStep(Step):
    name = "bkg_subtract"
    class_alias = "BackgroundStep"
    description = "Subtract the sigma-clipped mean of the background exposures"
    spec = (
        Param("bkg_list", list, None, "Background files (used when there is no association)", nullable=True),
        Param("save_combined_background", bool, False, "Save the combined background as _combinedbackground"),
        Param("sigma", float, 3.0, "Clipping threshold (standard deviations)"),
        Param("maxiters", int, None, "Clipping iterations (None: until converged)", nullable=True),
    )
    reference_file_types = ()

    def background_paths(self) -> list:
        """The background exposures: association members first, then ``bkg_list``."""
        ctx = self.context
        asn = getattr(ctx, "association", None)
        product = getattr(ctx, "product", None)
        if asn is not None and product is not None:
            members = product.by_type("background")
            if members:
                return [asn.member_path(m) for m in members]
        return [Path(p) for p in (self.bkg_list or []) if str(p).strip()]

    def process(self, model, refs):
        from ...datamodel import open_model
        from .background import Background, average_background, subtract_background, window_from_meta

        exp_type = str(model.meta.exposure.type or "").upper()
        if exp_type in WFSS_TYPES or exp_type == "NIS_SOSS":
            raise SkipStep(f"{exp_type} background scaling (BKG reference) is not implemented")
        paths = self.background_paths()
        if not paths:
            raise SkipStep("no background exposures (association members or bkg_list)")
        target = window_from_meta(model.meta, model.data.shape)
        backgrounds = []
        for path in paths:
            log.info("Accumulate bkg from %s", path)
            with open_model(path) as bkg:
                if not _same_gwa_tilt(model.meta, bkg.meta):
                    raise SkipStep("GWA_XTIL and GWA_YTIL of the backgrounds differ from the target's")
                window = window_from_meta(bkg.meta, bkg.data.shape)
                if bkg.data.ndim != model.data.ndim:
                    raise BadInputError(f"{path}: a {bkg.data.ndim}-D background for a {model.data.ndim}-D exposure")
                backgrounds.append(Background(np.array(bkg.data), np.array(bkg.err), np.array(bkg.dq), window))
        data, err, dq = average_background(target, model.data.shape, backgrounds, self.sigma, self.maxiters)
        subtract_background(model.data, model.dq, data, dq)
        if self.save_combined_background:
            from ...datamodel import ImageModel

            combined = ImageModel(data=data, err=err, dq=dq)
            combined.copy_meta_from(model)
            self.context.save(combined, "combinedbackground", step=self)
        return model


def _same_gwa_tilt(target, bkg) -> bool:
    """True unless the target records GWA tilts (NIRSpec) that a background does not share."""
    tx, ty = target.get("instrument.gwa_xtilt"), target.get("instrument.gwa_ytilt")
    if tx is None and ty is None:
        return True
    bx, by = bkg.get("instrument.gwa_xtilt"), bkg.get("instrument.gwa_ytilt")
    try:
        return bool(np.allclose((tx, ty), (bx, by), atol=GWA_TOLERANCE, rtol=0))
    except TypeError:
        return False
