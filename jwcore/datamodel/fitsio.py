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
        elif model_cls.model_type == "Level1bModel":
            # FGS guiding-mode raw files say Level1bModel; like jwst, read them as GuiderRawModel
            guessed = guess_model_class(primary, set(index))
            if guessed.model_type == "GuiderRawModel":
                model_cls = guessed
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
    raw = hdul[i].data["ASDF_METADATA"][0].tobytes()
    plain = _plain_yaml_tree(raw)
    if plain is not None:
        return plain
    import asdf

    # Schema validation of the tree on read costs more than converting it (a gwcs of a few
    # hundred transforms: 0.5 s vs 0.15 s per open); the converters still check what they
    # build, and jwcal writes these trees itself or reads jwst's, which validated them.
    with warnings.catch_warnings(), asdf.config_context() as config:
        warnings.simplefilter("ignore")
        config.validate_on_read = False
        af = asdf.open(io.BytesIO(raw), lazy_load=True, memmap=False)
        try:
            return _plain(af.tree)
        finally:
            af.close()


# -- the ASDF tree without the asdf machinery, when it holds only plain values ------------
# Opening the first ASDF file of a process makes asdf load every installed extension
# (asdf-astropy, gwcs, stdatamodels, ...): about 2 s.  Stage-1 products and reference
# files carry only plain metadata (mappings, lists, strings, numbers), which YAML alone
# reads and writes; asdf is used as soon as anything else (a gwcs, a Time, ...) appears.
_ASDF_TAG = "tag:stsci.edu:asdf/"
_PLAIN_CORE_TAGS = ("core/asdf-", "core/software-", "core/extension_metadata-", "core/history_entry-")
_NDARRAY_TAG = "core/ndarray-"
_YAML_BLOCK_END = b"\n..."


class _NotPlain(Exception):
    """The tree holds something YAML alone does not reproduce: let asdf read it."""


class _Dropped:
    """Stands for an array whose data live outside the tree (dropped, as :func:`_plain` does)."""


def _yaml_loader():
    import yaml

    base = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader

    class Loader(base):
        pass

    def construct_tagged(loader, node):
        tag = node.tag or ""
        local = tag[len(_ASDF_TAG):] if tag.startswith(_ASDF_TAG) else None
        if local is not None and local.startswith(_NDARRAY_TAG):
            return _Dropped()
        if local is None or not local.startswith(_PLAIN_CORE_TAGS):
            raise _NotPlain(tag)
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    def not_plain(loader, node):
        raise _NotPlain(node.tag)

    Loader.add_constructor(None, construct_tagged)
    Loader.add_constructor("tag:yaml.org,2002:omap", not_plain)   # asdf makes an OrderedDict
    return Loader


_LOADER = None


def _strip_dropped(value):
    if isinstance(value, dict):
        return {k: _strip_dropped(v) for k, v in value.items() if not isinstance(v, _Dropped)}
    if isinstance(value, list):
        if any(isinstance(v, _Dropped) for v in value):
            raise _NotPlain("array in a list")
        return [_strip_dropped(v) for v in value]
    return value


def _plain_yaml_tree(raw: bytes) -> dict | None:
    """The tree of an ASDF block read with YAML alone, or ``None`` if it needs asdf."""
    global _LOADER
    import yaml

    if not raw.startswith(b"#ASDF "):
        return None
    end = raw.find(_YAML_BLOCK_END)
    if end < 0:
        return None
    text = raw[: end + len(_YAML_BLOCK_END)]
    if _LOADER is None:
        _LOADER = _yaml_loader()
    try:
        tree = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader plus plain core tags
        if not isinstance(tree, dict):
            return None
        return _strip_dropped(tree)
    except _NotPlain:
        return None
    except yaml.YAMLError:
        return None


_PLAIN_SCALARS = (str, bool, int, float, type(None))


def _is_plain(value) -> bool:
    import datetime

    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    if type(value) in _PLAIN_SCALARS or isinstance(value, (np.bool_, np.integer, np.floating, np.str_)):
        return True
    return type(value) in (datetime.date, datetime.datetime)


def _plain_yaml_bytes(tree: dict) -> bytes:
    """An ASDF block (YAML only, no binary blocks) for a tree of plain values."""
    import yaml

    from .. import __version__ as jwcal_version

    base = yaml.CSafeDumper if getattr(yaml, "__with_libyaml__", False) else yaml.SafeDumper

    class Dumper(base):
        pass

    class Tagged(dict):
        def __init__(self, tag, items):
            super().__init__(items)
            self.tag = tag

    Dumper.add_representer(Tagged, lambda d, v: d.represent_mapping(v.tag, dict(v)))
    Dumper.add_representer(np.bool_, lambda d, v: d.represent_bool(bool(v)))
    Dumper.add_representer(np.str_, lambda d, v: d.represent_str(str(v)))
    for t in (np.float16, np.float32, np.float64, np.longdouble):
        Dumper.add_representer(t, lambda d, v: d.represent_float(float(v)))
    for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64):
        Dumper.add_representer(t, lambda d, v: d.represent_int(int(v)))

    library = Tagged(_ASDF_TAG + "core/software-1.0.0",
                     {"name": "jwcal", "version": str(jwcal_version)})
    root = Tagged(_ASDF_TAG + "core/asdf-1.1.0", {"asdf_library": library, **tree})
    text = yaml.dump(root, Dumper=Dumper, default_flow_style=None, explicit_start=True, explicit_end=True,
                     version=(1, 1), tags={"!": _ASDF_TAG}, allow_unicode=True)
    return b"#ASDF 1.0.0\n#ASDF_STANDARD 1.5.0\n" + text.encode("utf-8")


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


def build_hdulist(model: DataModel, date: str | None = None) -> fits.HDUList:
    """The HDUList that :func:`write` would write (for in-memory use and tests).

    DATE is the time of writing, as jwst stamps it, unless ``date`` is given (reproducible
    output, e.g. the simulator's same-seed-same-bytes promise).  DATAMODL is the model's
    class unless ``meta.model_type`` names a more specific jwst model (``NrcImgPhotomModel``).
    """
    meta = model.meta
    meta.set("date", date or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3])
    if not meta.get("model_type"):
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
            hdu = _bintable_hdu(np.asarray(data), spec.extname)
        else:
            header = headers["SCI"] if spec.extname == "SCI" else None
            data = np.asarray(data)
            if not data.flags.c_contiguous:   # e.g. a broadcast constant plane
                data = np.ascontiguousarray(data)
            hdu = fits.ImageHDU(data, header=header, name=spec.extname)
        hdus.append(hdu)
    hdus.append(_asdf_hdu(model))
    return fits.HDUList(hdus)


def _asdf_hdu(model: DataModel) -> fits.BinTableHDU:
    tree = {k: v for k, v in model.tree.items()}
    if _is_plain(tree) and not ({"asdf_library", "history"} & set(tree)):
        raw = np.frombuffer(_plain_yaml_bytes(tree), dtype=np.uint8)
    else:
        import asdf

        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            asdf.AsdfFile(tree).write_to(buf)
        raw = np.frombuffer(buf.getvalue(), dtype=np.uint8)
    col = fits.Column(name="ASDF_METADATA", format=f"{raw.size}B", array=raw[None, :])
    return _bintable_hdu(fits.FITS_rec.from_columns(fits.ColDefs([col])), ASDF_EXTNAME)


def _bintable_hdu(data, name: str) -> fits.BinTableHDU:
    """``fits.BinTableHDU(data, name=name)`` for a structured array, built without the
    constructor's check for an astropy Table (which imports astropy.table, and through it
    asdf-astropy: a few tenths of a second for a process that never needs them)."""
    hdu = fits.BinTableHDU()
    hdu.data = data if isinstance(data, fits.FITS_rec) else fits.FITS_rec.from_columns(data)
    hdu.name = name
    return hdu


def write(model: DataModel, path, overwrite: bool = True, protect=(), date: str | None = None) -> Path:
    """Write ``model`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    model.meta.set("filename", path.name)
    hdul = build_hdulist(model, date=date)
    with atomic_path(path, overwrite=overwrite, protect=protect) as tmp:
        hdul.writeto(tmp, overwrite=True, checksum=False)
    return path
