"""Product and reference-file models, laid out as ``jwst`` lays them out in FITS.

A model is metadata (:class:`~jwcore.datamodel.node.Node` tree under ``model.meta``) plus
named arrays and tables, each tied to a FITS extension.  Arrays are read lazily from a
memory-mapped file on first access; an array that the file lacks but that the layout gives a
default (``err``, ``dq``, ...) is created on first access with the shape ``jwst`` would give it.

Spectroscopic products (several slits, s2d, s3d, x1d) fit the same scheme: a model class
declares its arrays, and a model with per-slit parts holds a list of sub-models whose
extensions are written with EXTVER 1..n (see ``docs/architecture.md``).

>>> m = ImageModel(data=np.zeros((4, 5), np.float32))
>>> m.meta.instrument.name = "NIRCAM"
>>> m.dq.shape, m.dq.dtype
((4, 5), dtype('uint32'))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .node import Node


@dataclass(frozen=True)
class ArraySpec:
    """One array of a model: attribute name, FITS EXTNAME, dtype, and how to make a default.

    ``ndim`` is the number of trailing axes of the primary array a default takes
    (``None``: the whole primary shape); ``default=None`` means no default (absent stays absent).
    ``table=True`` marks a binary table (a numpy structured array).
    """

    name: str
    extname: str
    dtype: str | None = "float32"
    ndim: int | None = None
    default: Any = 0
    table: bool = False


_MODEL_TYPES: dict[str, type["DataModel"]] = {}


def model_class(name: str) -> type["DataModel"]:
    """The model class for a ``DATAMODL`` value (``"RampModel"``); ``DataModel`` if unknown."""
    return _MODEL_TYPES.get(name, DataModel)


def register_model(cls):
    """Class decorator: make ``cls`` openable by its ``model_type`` name."""
    _MODEL_TYPES[cls.model_type] = cls
    return cls


class DataModel:
    """Base class.  Subclasses set ``model_type`` and ``array_specs``."""

    model_type: ClassVar[str] = "DataModel"
    array_specs: ClassVar[tuple[ArraySpec, ...]] = ()
    primary: ClassVar[str] = "data"
    is_reference: ClassVar[bool] = False

    def __init__(self, meta: dict | None = None, **arrays: Any):
        object.__setattr__(self, "_tree", {"meta": meta if meta is not None else {}})
        object.__setattr__(self, "_arrays", {})
        object.__setattr__(self, "_source", None)  # (HDUList, {extname: hdu index})
        object.__setattr__(self, "_path", None)
        self._tree["meta"].setdefault("model_type", self.model_type)
        for name, value in arrays.items():
            setattr(self, name, value)

    # -- metadata ------------------------------------------------------------------
    @property
    def meta(self) -> Node:
        return Node(self._tree["meta"], "meta")

    @property
    def tree(self) -> dict:
        """The whole ASDF-style tree (``meta`` and any extra top-level entries)."""
        return self._tree

    @property
    def path(self):
        """The file this model was read from, if any."""
        return self._path

    # -- arrays ----------------------------------------------------------------------
    @classmethod
    def spec(cls, name: str) -> ArraySpec | None:
        for s in cls.array_specs:
            if s.name == name:
                return s
        return None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        spec = type(self).spec(name)
        if spec is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        arrays = self._arrays
        if name in arrays:
            return arrays[name]
        loaded = self._load(spec)
        if loaded is None:
            loaded = self._default(spec)
            if loaded is None:
                return None
        arrays[name] = loaded
        return loaded

    def __setattr__(self, name: str, value: Any) -> None:
        spec = type(self).spec(name)
        if spec is None:
            object.__setattr__(self, name, value)
            return
        if value is None:
            self._arrays.pop(name, None)
            self._arrays[name] = None
            return
        if not spec.table:
            value = np.asarray(value)
            if spec.dtype is not None and value.dtype != np.dtype(spec.dtype):
                value = value.astype(spec.dtype)
        self._arrays[name] = value

    def has(self, name: str) -> bool:
        """True if the array is set, or present in the source file (no default is made)."""
        if name in self._arrays:
            return self._arrays[name] is not None
        spec = type(self).spec(name)
        return spec is not None and self._source is not None and spec.extname in self._source[1]

    def present_arrays(self) -> list[str]:
        """Names of the arrays this model would write, in layout order."""
        return [s.name for s in self.array_specs if self.has(s.name)]

    @property
    def shape(self) -> tuple[int, ...]:
        data = getattr(self, self.primary)
        return tuple(data.shape) if data is not None else ()

    def lazy(self, name: str):
        """Array ``name`` as a :class:`~jwcore.datamodel.lazy.LazyArray` read from the file on
        demand (plane by plane), without loading it; the in-memory array when it is already
        loaded or set; ``None`` when absent.  For big arrays a step only streams through
        (a dark reference, the raw ramp)."""
        if name in self._arrays:
            return self._arrays[name]
        spec = type(self).spec(name)
        if spec is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        if self._source is not None and not spec.table:
            hdul, index = self._source
            i = index.get(spec.extname)
            if i is None:
                return getattr(self, name)
            from .lazy import image_source

            src = image_source(hdul, i, self._path, spec.dtype)
            if src is not None:
                return src
        return getattr(self, name)

    def _load(self, spec: ArraySpec):
        if self._source is None:
            return None
        hdul, index = self._source
        i = index.get(spec.extname)
        if i is None:
            return None
        if not spec.table:
            # positional reads, chunk by chunk: no memory-mapped pages stay resident
            from .lazy import image_source

            src = image_source(hdul, i, self._path, spec.dtype)
            if src is not None:
                return src.read()
        hdu = hdul[i]
        data = hdu.data
        if data is None:
            return None
        if spec.table:
            return _table_array(hdu)
        return _native(data, hdu.header, spec.dtype)

    def _default(self, spec: ArraySpec):
        if spec.default is None or spec.table or spec.name == self.primary:
            return None
        primary = getattr(self, self.primary)
        if primary is None:
            return None
        shape = primary.shape if spec.ndim is None else primary.shape[-spec.ndim:]
        return np.full(shape, spec.default, dtype=spec.dtype)

    # -- lifecycle -----------------------------------------------------------------
    def load_all(self) -> "DataModel":
        """Read every present array into memory (so the source file can be closed)."""
        for name in self.present_arrays():
            getattr(self, name)
        return self

    def close(self) -> None:
        if self._source is not None:
            self._source[0].close()
            object.__setattr__(self, "_source", None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def copy_meta_from(self, other: "DataModel") -> None:
        """Copy all metadata (deeply) from ``other``, keeping this model's type."""
        from .node import _deepcopy_dicts

        self._tree["meta"].clear()
        self._tree["meta"].update(_deepcopy_dicts(other._tree["meta"]))
        self._tree["meta"]["model_type"] = self.model_type
        for key, value in other._tree.items():
            if key != "meta":
                self._tree[key] = value

    def save(self, path, overwrite: bool = True):
        """Write the model as a jwst-style FITS file (atomically).  Returns the path."""
        from .fitsio import write

        return write(self, path, overwrite=overwrite)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.shape} {self.meta.get('filename', '')}>"


def _native(raw, header, dtype):
    """Raw (memory-mapped, big-endian, possibly BZERO-offset) FITS data as a native array.

    FITS stores unsigned integers as signed with BZERO = 2**(bits-1); flipping the sign bit
    gives the unsigned value without a float detour.  One pass, one output array.
    """
    bzero = header.get("BZERO", 0)
    bscale = header.get("BSCALE", 1)
    want = np.dtype(dtype) if dtype else None
    if raw.dtype.kind == "i" and bscale == 1 and bzero == 2 ** (raw.dtype.itemsize * 8 - 1):
        unsigned = np.dtype(f"u{raw.dtype.itemsize}")
        out = raw.view(raw.dtype.newbyteorder(">").str.replace("i", "u")).astype(unsigned)
        out ^= unsigned.type(bzero)
        return out if want is None or want == unsigned else out.astype(want)
    if bzero != 0 or bscale != 1:
        out = raw.astype(np.float64) * bscale + bzero
        return out.astype(want) if want is not None else out
    target = (want or raw.dtype).newbyteorder("=")
    return np.asarray(raw, dtype=target) if raw.dtype != target else np.array(raw)


def _table_array(hdu):
    """A binary table as a native-byte-order structured array.

    Column by column through the FITS_rec, so TZERO/TSCAL columns (uint32 DQ values) are
    applied, as astropy's ``Table(data).as_array()`` gives them (without importing
    astropy.table); tables with TNULL columns go through astropy's Table (masked values).
    """
    data = hdu.data
    if any(c.null is not None for c in hdu.columns):
        from astropy.table import Table

        return Table(data).as_array()
    names = data.dtype.names or ()
    cols = []
    for name in names:
        col = np.asarray(data[name])
        if col.dtype.byteorder not in ("=", "|"):
            col = col.astype(col.dtype.newbyteorder("="))
        cols.append(col)
    out = np.empty(len(data), dtype=[(n, c.dtype, c.shape[1:]) for n, c in zip(names, cols)])
    for name, col in zip(names, cols):
        out[name] = col
    return out


def _specs(*specs: ArraySpec) -> tuple[ArraySpec, ...]:
    return specs


INT_TIMES = ArraySpec("int_times", "INT_TIMES", None, table=True, default=None)
GROUP_TABLE = ArraySpec("group", "GROUP", None, table=True, default=None)


@register_model
class Level1bModel(DataModel):
    """Raw ramp (``_uncal``): uint16 SCI (nints, ngroups, ny, nx)."""

    model_type = "Level1bModel"
    array_specs = _specs(
        ArraySpec("data", "SCI", "uint16", 4),
        ArraySpec("zeroframe", "ZEROFRAME", "uint16", 3, default=None),
        ArraySpec("refout", "REFOUT", "uint16", 4, default=None),
        GROUP_TABLE,
        INT_TIMES,
    )


@register_model
class RampModel(DataModel):
    """Calibrated ramp (``_ramp``): float32 SCI, PIXELDQ, GROUPDQ, ERR."""

    model_type = "RampModel"
    array_specs = _specs(
        ArraySpec("data", "SCI", "float32", 4),
        ArraySpec("pixeldq", "PIXELDQ", "uint32", 2),
        ArraySpec("groupdq", "GROUPDQ", "uint8", None),
        ArraySpec("err", "ERR", "float32", None),
        ArraySpec("zeroframe", "ZEROFRAME", "float32", 3, default=None),
        ArraySpec("refout", "REFOUT", "float32", 4, default=None),
        ArraySpec("average_dark_current", "AVDRKCUR", "float32", 2, default=None),
        GROUP_TABLE,
        INT_TIMES,
    )


@register_model
class ImageModel(DataModel):
    """2-D image: ``_rate``, ``_cal``, ``_crf``, ``_bsub``; with CON/WHT also ``_i2d``."""

    model_type = "ImageModel"
    array_specs = _specs(
        ArraySpec("data", "SCI", "float32", 2),
        ArraySpec("dq", "DQ", "uint32", None),
        ArraySpec("err", "ERR", "float32", None),
        ArraySpec("zeroframe", "ZEROFRAME", "float32", None, default=None),
        ArraySpec("area", "AREA", "float32", None, default=None),
        ArraySpec("con", "CON", "int32", None, default=None),
        ArraySpec("wht", "WHT", "float32", None, default=None),
        ArraySpec("var_poisson", "VAR_POISSON", "float32", None, default=None),
        ArraySpec("var_rnoise", "VAR_RNOISE", "float32", None, default=None),
        ArraySpec("var_flat", "VAR_FLAT", "float32", None, default=None),
    )


@register_model
class CubeModel(DataModel):
    """Per-integration images (``_rateints``, ``_calints``): (nints, ny, nx)."""

    model_type = "CubeModel"
    array_specs = _specs(
        ArraySpec("data", "SCI", "float32", 3),
        ArraySpec("dq", "DQ", "uint32", None),
        ArraySpec("err", "ERR", "float32", None),
        ArraySpec("zeroframe", "ZEROFRAME", "float32", None, default=None),
        ArraySpec("area", "AREA", "float32", 2, default=None),
        ArraySpec("var_poisson", "VAR_POISSON", "float32", None, default=None),
        ArraySpec("var_rnoise", "VAR_RNOISE", "float32", None, default=None),
        ArraySpec("var_flat", "VAR_FLAT", "float32", None, default=None),
        INT_TIMES,
    )


_GUIDER_TABLES = (
    ArraySpec("planned_star_table", "PLANNED REFERENCE STARS", None, table=True, default=None),
    ArraySpec("flight_star_table", "FLIGHT REFERENCE STARS", None, table=True, default=None),
    ArraySpec("pointing_table", "POINTING", None, table=True, default=None),
    ArraySpec("centroid_table", "FGS CENTROID PACKET", None, table=True, default=None),
    ArraySpec("track_sub_table", "TRACK SUBARRAY TABLE", None, table=True, default=None),
)

#: EXP_TYPEs of the FGS guiding modes (their raw files open as GuiderRawModel)
FGS_GUIDE_EXP_TYPES = frozenset(
    ("FGS_ACQ1", "FGS_ACQ2", "FGS_FINEGUIDE", "FGS_ID-IMAGE", "FGS_ID-STACK", "FGS_TRACK"))


@register_model
class GuiderCalModel(DataModel):
    """FGS guider product (``_cal`` of calwebb_guider): SCI (nints, ny, nx), 2-D DQ, star tables."""

    model_type = "GuiderCalModel"
    array_specs = _specs(
        ArraySpec("data", "SCI", "float32", 3),
        ArraySpec("err", "ERR", "float32", None),
        ArraySpec("dq", "DQ", "uint32", 2),
        *_GUIDER_TABLES,
    )


@register_model
class GuiderRawModel(DataModel):
    """FGS guider raw ramp: SCI (nints, ngroups, ny, nx), 2-D DQ, star tables.

    SCI keeps the file's type (uint16 counts in ``_uncal`` files, float32 from jwst's
    GuiderRawModel); ``guider_cds`` works in float32 either way.
    """

    model_type = "GuiderRawModel"
    array_specs = _specs(
        ArraySpec("data", "SCI", None, 4),
        ArraySpec("err", "ERR", "float32", None, default=None),
        ArraySpec("dq", "DQ", "uint32", 2),
        *_GUIDER_TABLES,
    )


# -- reference files -------------------------------------------------------------------
DQ_DEF = ArraySpec("dq_def", "DQ_DEF", None, table=True, default=None)


class ReferenceFileModel(DataModel):
    """Base of reference-file models (REFTYPE, USEAFTER, PEDIGREE in the primary header)."""

    model_type = "ReferenceFileModel"
    is_reference = True
    reftype: ClassVar[str] = ""


_REFERENCE_TYPES: dict[str, type[ReferenceFileModel]] = {}


def reference_model_class(reftype: str) -> type[ReferenceFileModel]:
    """The model class for a REFTYPE value (``"SUPERBIAS"``)."""
    return _REFERENCE_TYPES.get(reftype.upper(), ReferenceFileModel)


def _reference(model_type: str, reftype: str, *specs: ArraySpec, primary: str = "data"):
    cls = type(model_type, (ReferenceFileModel,), {
        "model_type": model_type, "reftype": reftype, "array_specs": specs, "primary": primary,
        "__doc__": f"``{reftype.lower()}`` reference file ({model_type}).",
    })
    register_model(cls)
    _REFERENCE_TYPES[reftype] = cls
    return cls


_SCI2 = ArraySpec("data", "SCI", "float32", None)
_ERR = ArraySpec("err", "ERR", "float32", None, default=None)
_DQ = ArraySpec("dq", "DQ", "uint32", 2, default=None)

MaskModel = _reference("MaskModel", "MASK", ArraySpec("dq", "DQ", "uint32", None), DQ_DEF, primary="dq")
SaturationModel = _reference("SaturationModel", "SATURATION", _SCI2, _DQ, DQ_DEF)
SuperBiasModel = _reference("SuperBiasModel", "SUPERBIAS", _SCI2, _ERR, _DQ, DQ_DEF)
LinearityModel = _reference("LinearityModel", "LINEARITY", ArraySpec("coeffs", "COEFFS", "float32", None), _DQ, DQ_DEF, primary="coeffs")
DarkModel = _reference("DarkModel", "DARK", _SCI2, _ERR, ArraySpec("dq", "DQ", "uint32", None, default=None), DQ_DEF)
GainModel = _reference("GainModel", "GAIN", _SCI2)
ReadnoiseModel = _reference("ReadnoiseModel", "READNOISE", _SCI2)
IPCModel = _reference("IPCModel", "IPC", _SCI2)
FlatModel = _reference("FlatModel", "FLAT", _SCI2, _ERR, _DQ, DQ_DEF)
PixelAreaModel = _reference("PixelAreaModel", "AREA", _SCI2)
PhotomModel = _reference("PhotomModel", "PHOTOM", ArraySpec("phot_table", "PHOTOM", None, table=True), primary="phot_table")
ResetModel = _reference("ResetModel", "RESET", _SCI2, _ERR, _DQ, DQ_DEF)
RSCDModel = _reference("RSCDModel", "RSCD", ArraySpec("rscd_group_skip_table", "RSCD_GROUP_SKIP", None, table=True),
                       primary="rscd_group_skip_table")
TrapDensityModel = _reference("TrapDensityModel", "TRAPDENSITY", _SCI2, _DQ, DQ_DEF)
TrapParsModel = _reference("TrapParsModel", "TRAPPARS", ArraySpec("trappars_table", "TRAPPARS", None, table=True), primary="trappars_table")
PersistenceSatModel = _reference("PersistenceSatModel", "PERSAT", _SCI2, _DQ, DQ_DEF)


def guess_model_class(primary_header, extnames: set[str]) -> type[DataModel]:
    """Pick a model class for a file without (or with an unknown) DATAMODL keyword."""
    reftype = primary_header.get("REFTYPE")
    if reftype:
        return reference_model_class(str(reftype))
    if str(primary_header.get("EXP_TYPE", "")).strip().upper() in FGS_GUIDE_EXP_TYPES:
        return GuiderRawModel if "PIXELDQ" not in extnames else RampModel
    if "PIXELDQ" in extnames or "GROUPDQ" in extnames:
        return RampModel
    return DataModel
