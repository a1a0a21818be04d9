"""Conversions between product types that pipelines need (as jwst's model constructors do)."""

from __future__ import annotations

import numpy as np

from .models import DataModel, Level1bModel, RampModel


def to_ramp(model: DataModel) -> RampModel:
    """A raw ``Level1bModel`` (uint16) as a float32 ``RampModel``; a RampModel is returned as is.

    The pixel data is converted once (uint16 -> float32); metadata and tables are shared.
    """
    if isinstance(model, RampModel):
        return model
    if not isinstance(model, Level1bModel):
        from ..errors import BadInputError

        raise BadInputError(f"expected a raw ramp (Level1bModel/RampModel), got a {model.model_type}")
    ramp = RampModel(data=np.asarray(model.data, dtype=np.float32))
    ramp.copy_meta_from(model)
    for name in ("zeroframe", "refout"):
        if model.has(name):
            setattr(ramp, name, np.asarray(getattr(model, name), dtype=np.float32))
    for name in ("group", "int_times"):
        if model.has(name):
            setattr(ramp, name, getattr(model, name))
    object.__setattr__(ramp, "_path", model.path)
    return ramp


CONVERTERS = {"RampModel": to_ramp}


def ensure(model, model_type: str | None):
    """Convert ``model`` to ``model_type`` if a converter exists and it is not already one."""
    if model_type is None or getattr(model, "model_type", None) == model_type:
        return model
    conv = CONVERTERS.get(model_type)
    return conv(model) if conv else model
