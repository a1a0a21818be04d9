"""Read and write models as jwst-style FITS: keywords per the schema table, one HDU per
array, and an ``ASDF`` extension carrying the metadata tree (including objects such as the
gwcs that have no FITS form).  ``stdatamodels`` reads these files and jwcal reads theirs.
"""

from __future__ import annotations

import io
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from astropy.io import fits

from ..atomic import atomic_path
from ..errors import BadInputError
from .keywords import KEYWORDS
from .models import DataModel, guess_model_class, model_class
from .node import _flatten

ASDF_EXTNAME = "ASDF"
_HEADER_HDUS = ("PRIMARY", "SCI")


def open_model(path, model_cls: type[DataModel] | None = None, memmap: bool = True) -> DataModel:
    """Open a FITS product or reference file lazily.  Bad files raise :class:`BadInputError`."""
    path = Path(path)
    if not path.exists():
        raise BadInputError(f"{path}: no such file")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hdul = fits.open(path, memmap=memmap, lazy_load_hdus=False, do_not_scale_image_data=True)
    except Exception as exc:  # astropy raises OSError/ValueError/TypeError for non-FITS
        raise BadInputError(f"{path}: not a readable FITS file ({type(exc).__name__}: {exc})") from None
    for w in caught:
        if "truncated" in str(w.message).lower():
            hdul.close()
            raise BadInputError(f"{path}: file is truncated ({w.message})")
    try:
        return _from_hdulist(hdul, path, model_cls)
    except BadInputError:
        hdul.close()
        raise
    except Exception as exc:
        hdul.close()
        raise BadInputError(f"{path}: cannot read as a JWST product ({type(exc).__name__}: {exc})") from None


def read_meta(path) -> dict:
    """Only the metadata of a file (headers and ASDF tree), without touching pixel data."""
    model = open_model(path)
    try:
        return model.meta.to_dict()
    finally:
        model.close()


def _from_hdulist(hdul, path: Path, model_cls):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)
        hdul.verify("silentfix")
    primary = hdul[0].header
    index = {}
    for i, hdu in enumerate(hdul):
        name = (hdu.name or ("PRIMARY" if i == 0 else "")).upper()
        if i == 0:
            continue
        index.setdefault(name, i)
    if model_cls is None:
        declared = primary.get("DATAMODL")
        model_cls = model_class(str(declared)) if declared else DataModel
        if model_cls is DataModel:
            model_cls = guess_model_class(primary, set(index))
    if model_cls.spec(model_cls.primary) is not None:
        ext = model_cls.spec(model_cls.primary).extname
        if ext not in index:
            raise BadInputError(f"{path}: no {ext} extension; not a {model_cls.model_type} file")

    tree = _read_asdf_tree(hdul, index)
    meta = tree.pop("meta", {}) if isinstance(tree.get("meta"), dict) else {}
    model = model_cls(meta=meta)
    for key, value in tree.items():
        if key not in ("asdf_library", "history", "_fits_hash"):
            model.tree[key] = value
    m = model.meta
    for hdu_name in _HEADER_HDUS:
        i = 0 if hdu_name == "PRIMARY" else index.get(hdu_name)
        if i is None:
            continue
        for card in hdul[i].header.cards:
            kw = card.keyword
            path_ = KEYWORDS.path_for(kw, hdu_name)
            if path_ is None or kw in ("", "COMMENT", "HISTORY"):
                continue
            value = card.value
            if isinstance(value, fits.card.Undefined):
                continue
            m.set(path_[len("meta."):], value)
    m.set("model_type", model_cls.model_type)
    object.__setattr__(model, "_source", (hdul, index))
    object.__setattr__(model, "_path", path)
    return model


def _read_asdf_tree(hdul, index) -> dict:
    i = index.get(ASDF_EXTNAME)
    if i is None:
        return {}
    import asdf

    raw = hdul[i].data["ASDF_METADATA"][0].tobytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        af = asdf.open(io.BytesIO(raw), lazy_load=True, memmap=False)
        try:
            return _plain(af.tree)
        finally:
            af.close()


def _plain(value):
    """Plain Python tree; arrays that live in FITS extensions (asdf "fits:" sources) are dropped."""
    from asdf.tags.core import NDArrayType

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not isinstance(v, NDArrayType)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# -- writing -------------------------------------------------------------------------------
def _fits_value(value):
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, (str, bool, int, float)):
        return value
    return None


def build_hdulist(model: DataModel) -> fits.HDUList:
    """The HDUList that :func:`write` would write (for in-memory use and tests)."""
    meta = model.meta
    meta.set("date", datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3])
    meta.set("model_type", model.model_type)
    headers = {"PRIMARY": fits.Header(), "SCI": fits.Header()}
    flat: dict = {}
    _flatten(model.tree["meta"], "meta", flat)
    for path, value in flat.items():
        where = KEYWORDS.keyword_for(path, reference=model.is_reference)
        if where is None:
            continue
        kw, hdu = where
        v = _fits_value(value)
        if v is None or hdu not in headers:
            continue
        headers[hdu][kw] = v

    hdus = [fits.PrimaryHDU(header=headers["PRIMARY"])]
    for spec in model.array_specs:
        if not model.has(spec.name):
            continue
        data = getattr(model, spec.name)
        if data is None:
            continue
        if spec.table:
            hdu = fits.BinTableHDU(np.asarray(data), name=spec.extname)
        else:
            header = headers["SCI"] if spec.extname == "SCI" else None
            hdu = fits.ImageHDU(np.asarray(data), header=header, name=spec.extname)
        hdus.append(hdu)
    hdus.append(_asdf_hdu(model))
    return fits.HDUList(hdus)


def _asdf_hdu(model: DataModel) -> fits.BinTableHDU:
    import asdf

    tree = {k: v for k, v in model.tree.items()}
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        asdf.AsdfFile(tree).write_to(buf)
    raw = np.frombuffer(buf.getvalue(), dtype=np.uint8)
    col = fits.Column(name="ASDF_METADATA", format=f"{raw.size}B", array=raw[None, :])
    return fits.BinTableHDU.from_columns([col], name=ASDF_EXTNAME)


def write(model: DataModel, path, overwrite: bool = True, protect=()) -> Path:
    """Write ``model`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    model.meta.set("filename", path.name)
    hdul = build_hdulist(model)
    with atomic_path(path, overwrite=overwrite, protect=protect) as tmp:
        hdul.writeto(tmp, overwrite=True, checksum=False)
    return path
