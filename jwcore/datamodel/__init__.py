"""jwcal's data models: jwst-compatible FITS/ASDF products and reference files."""

from .fitsio import build_hdulist, open_model, read_meta, write
from .keywords import KEYWORDS
from .models import (
    ArraySpec, CubeModel, DataModel, DarkModel, FlatModel, GainModel, GuiderCalModel,
    GuiderRawModel, ImageModel, IPCModel, Level1bModel, LinearityModel, MaskModel,
    PersistenceSatModel, PhotomModel, PixelAreaModel, RampModel, ReadnoiseModel,
    ReferenceFileModel, ResetModel, RSCDModel, SaturationModel, SuperBiasModel,
    TrapDensityModel, TrapParsModel, model_class, reference_model_class, register_model,
)
from .node import Node

__all__ = [n for n in dir() if not n.startswith("_")]
