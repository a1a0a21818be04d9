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
    ramp = RampModel(data=_float32_ramp(model))
    ramp.copy_meta_from(model)
    for name in ("zeroframe", "refout"):
        if model.has(name):
            setattr(ramp, name, np.asarray(getattr(model, name), dtype=np.float32))
    for name in ("group", "int_times"):
        if model.has(name):
            setattr(ramp, name, getattr(model, name))
    object.__setattr__(ramp, "_path", model.path)
    return ramp


def _float32_ramp(model: DataModel) -> np.ndarray:
    """The raw SCI ramp as a new float32 array.

    Read straight from the file into the float32 array, a few rows at a time on the run's
    threads, when the raw data are not loaded yet: neither the uint16 ramp nor its memory
    map is ever held whole (the float32 ramp is the only copy).
    """
    from ..parallel import threads

    src = model.lazy("data")
    if src is None or isinstance(src, np.ndarray):
        return np.asarray(model.data, dtype=np.float32)
    out = np.empty(src.shape, np.float32)
    return src.read_into(out, threads=threads())


CONVERTERS = {"RampModel": to_ramp}


def ensure(model, model_type: str | None):
    """Convert ``model`` to ``model_type`` if a converter exists and it is not already one."""
    if model_type is None or getattr(model, "model_type", None) == model_type:
        return model
    conv = CONVERTERS.get(model_type)
    return conv(model) if conv else model
