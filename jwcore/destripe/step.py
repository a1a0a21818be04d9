"""A base for instrument destriping steps (``nircam_destripe``, ``miri_destripe``).

The base does what every destriping step needs around the instrument's pure function: it
checks the instrument, builds the mask of usable pixels from DQ (DO_NOT_USE, NON_SCIENCE,
REFERENCE_PIXEL and saturated pixels are never used to measure stripes), runs once per
integration of a ``CubeModel`` (``_rateints``/``_calints``), subtracts the stripe model from
all science pixels (reference pixels are left as they are) and, with ``save_model``, writes
the model as ``<name>_stripes.fits``.  ERR, DQ and the variance arrays are not changed: the
correction is a subtraction of a smooth estimate.

A subclass sets ``name``, ``instrument`` and implements :meth:`destripe_image`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .. import dq as dqflags
from ..runner import Param, SkipStep, Step

__all__ = ["COMMON_DESTRIPE_PARAMS", "DestripeStepBase", "usable_pixels"]

NEVER_USE = dqflags.DO_NOT_USE | dqflags.NON_SCIENCE | dqflags.REFERENCE_PIXEL | dqflags.SATURATED
NOT_CORRECTED = dqflags.REFERENCE_PIXEL

COMMON_DESTRIPE_PARAMS = (
    Param("method", str, "median", "median: masked row/column medians; pca: robust PCA of row segments",
          choices=("median", "pca")),
    Param("nsigma", float, 3.0, "Source-mask threshold (sigma above the background)"),
    Param("dilate", int, 2, "Grow the source mask by this many pixels"),
    Param("mask_box", int, 0, "Cell size of a background removed before masking (0: none)"),
    Param("columns", bool, True, "Also remove column (vertical) stripes"),
    Param("filter_scale", int, 0, "Keep structure larger than this many rows/columns (0: remove all stripes)"),
    Param("n_components", int, 4, "Principal components per segment (method=pca)"),
    Param("min_pixels", int, 8, "Fewest unmasked pixels a row segment needs for its own estimate"),
    Param("save_model", bool, False, "Save the subtracted stripe model as _stripes"),
)


def usable_pixels(dq: np.ndarray | None, data: np.ndarray) -> np.ndarray:
    """Pixels that may be used to measure stripes: finite and without a NEVER_USE flag."""
    ok = np.isfinite(data)
    if dq is not None:
        ok &= (np.asarray(dq) & NEVER_USE) == 0
    return ok


class DestripeStepBase(Step):
    """Common parameters and the per-integration loop of a destriping step."""

    instrument: ClassVar[str] = ""
    spec = COMMON_DESTRIPE_PARAMS
    reference_file_types = ()

    def destripe_image(self, data: np.ndarray, valid: np.ndarray, model) -> tuple:  # pragma: no cover
        """Return ``(cleaned, stripe_model, source_mask)`` for one 2-D image."""
        raise NotImplementedError

    def process(self, model, refs):
        inst = str(model.meta.instrument.name or "").upper()
        if self.instrument and inst != self.instrument:
            raise SkipStep(f"{self.name} applies to {self.instrument} data, not {inst or 'unknown instrument'}")
        if model.model_type not in ("ImageModel", "CubeModel"):
            raise SkipStep(f"{self.name} handles images (rate/cal), not {model.model_type}")
        data = np.asarray(model.data, np.float32)
        dq = model.dq if model.has("dq") else None
        cube = data if data.ndim == 3 else data[None]
        dqc = None if dq is None else (dq if dq.ndim == cube.ndim else np.broadcast_to(dq, cube.shape))
        out = np.empty_like(cube)
        stripes = np.zeros_like(cube)
        for i in range(cube.shape[0]):
            plane_dq = None if dqc is None else dqc[i]
            valid = usable_pixels(plane_dq, cube[i])
            if valid.sum() < 16:
                raise SkipStep(f"{self.name}: too few usable pixels")
            _, stripe_model, mask = self.destripe_image(cube[i], valid, model)
            if plane_dq is not None:
                stripe_model = np.where((plane_dq & NOT_CORRECTED) != 0, 0.0, stripe_model)
            stripe_model = np.where(np.isfinite(stripe_model), stripe_model, 0.0).astype(np.float32)
            out[i] = cube[i] - stripe_model
            stripes[i] = stripe_model
            self.log.info("%s: integration %d, %s method, %.1f%% of pixels masked, stripe rms %.4g",
                          self.name, i + 1, self.method, 100.0 * mask.mean(), float(np.std(stripe_model)))
        model.data = out if data.ndim == 3 else out[0]
        if self.save_model and self.context is not None:
            from ..datamodel import CubeModel, ImageModel

            saved = (CubeModel if data.ndim == 3 else ImageModel)(data=stripes if data.ndim == 3 else stripes[0])
            saved.copy_meta_from(model)
            self.context.save(saved, "stripes", step=self)
        return model

    def _threads(self) -> int:
        from ..parallel import threads

        return threads()
