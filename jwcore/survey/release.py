"""Flatten a run's products into a clean release folder with a manifest.

Products are found (recursively) under the source folders by their suffix (default: the
stage-3 ``i2d``, ``segm`` and ``cat``; add ``cal`` or others as needed) and copied (or
hard-linked) into one folder under a readable name::

    <target>_<instrument>_<filter>[_<pupil>]_<suffix>.<ext>      e.g. ngc0628_nircam_f200w_i2d.fits

per-exposure products (``cal``, ``rate``, a single exposure's ``i2d``...) keep their own name,
prefixed by the target, and so does any product whose readable name another one would share.  ``manifest.json`` lists every
file with its SHA-256, size, source path and metadata (target, instrument, filter, pupil,
program, observation, product type), and the run records found beside the products are copied
under ``provenance/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

from ..atomic import atomic_path
from ..errors import BadInputError

__all__ = ["DEFAULT_SUFFIXES", "find_products", "release", "MANIFEST"]

DEFAULT_SUFFIXES = ("i2d", "segm", "cat")
LEVEL3 = {"i2d", "segm", "cat", "crf", "s2d", "s3d", "x1d", "c1d", "psfsub", "phot"}
MANIFEST = "manifest.json"
FORMAT = "jwcal-release-1"


def _suffix_ext(path: Path) -> tuple[str, str]:
    name = path.name
    for ext in (".fits", ".ecsv", ".asdf", ".json"):
        if name.endswith(ext):
            stem = name[: -len(ext)]
            return stem.rsplit("_", 1)[-1].lower(), ext
    return "", path.suffix


def find_products(folders, suffixes=DEFAULT_SUFFIXES) -> list[Path]:
    """Files under ``folders`` whose product suffix is one of ``suffixes``, sorted."""
    want = {s.lower() for s in suffixes}
    out = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise BadInputError(f"{folder}: no such folder")
        for p in sorted(folder.rglob("*")):
            if p.is_file() and _suffix_ext(p)[0] in want and "provenance" not in p.parts:
                out.append(p)
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _meta_for(path: Path, ext: str) -> dict:
    """Target, instrument, filter... of a FITS product, or of the FITS product it belongs to
    (a catalog ``..._cat.ecsv`` takes the ``..._i2d.fits`` beside it)."""
    from ..datamodel import read_meta

    source = path
    if ext != ".fits":
        stem = path.name[: -len(ext)].rsplit("_", 1)[0]
        source = next((c for c in (path.with_name(f"{stem}_i2d.fits"), path.with_name(f"{stem}_segm.fits"))
                       if c.exists()), None)
        if source is None:
            return {}
    try:
        meta = read_meta(source)
    except Exception:   # not a jwcal/jwst product: release it without metadata
        return {}
    inst = meta.get("instrument") or {}
    obs = meta.get("observation") or {}
    tgt = meta.get("target") or {}
    return {"target": tgt.get("catalog_name") or tgt.get("proposer_name"), "instrument": inst.get("name"),
            "filter": inst.get("filter"), "pupil": inst.get("pupil"), "program": obs.get("program_number"),
            "observation": obs.get("observation_number"), "exp_type": (meta.get("exposure") or {}).get("type")}


def _is_exposure(path: Path) -> bool:
    """``jw01234001001_01101_00001_nrca1_...``: a per-exposure product (not a combined one)."""
    return re.match(r"^jw\d{11}_\d{5}_\d{5}_", path.name) is not None


def _release_name(path: Path, suffix: str, ext: str, info: dict, target_override: str | None) -> str:
    from .config import slug

    target = slug(target_override or info.get("target") or "")
    if suffix in LEVEL3 and info.get("instrument") and not _is_exposure(path):
        elems = [str(info["instrument"]).lower()]
        for key in ("filter", "pupil"):
            v = info.get(key)
            if v and str(v).upper() not in ("CLEAR", "N/A", "NONE", "ANY"):
                elems.append(str(v).lower())
        return f"{target}_{'_'.join(elems)}_{suffix}{ext}"
    return f"{target}_{path.name}"


def release(sources, dest, *, suffixes=DEFAULT_SUFFIXES, name: str = "release", link: bool = False,
            target: str | None = None, overwrite: bool = False) -> Path:
    """Copy (or hard-link) the products under ``sources`` into ``dest``; write the manifest.

    Returns the manifest path.  ``dest`` must be empty or not exist unless ``overwrite``;
    a product is never written over one of the sources.
    """
    from .. import __version__

    dest = Path(dest)
    products = find_products(sources, suffixes)
    if not products:
        raise BadInputError(f"no products with suffix {', '.join(suffixes)} under {', '.join(map(str, sources))}")
    if dest.exists() and any(dest.iterdir()) and not overwrite:
        raise BadInputError(f"{dest} is not empty (use --overwrite to release into it anyway)")
    resolved_sources = [Path(s).resolve() for s in sources]
    if any(dest.resolve() == s or s in dest.resolve().parents for s in resolved_sources):
        raise BadInputError(f"{dest} is inside a source folder; release into a separate folder")
    dest.mkdir(parents=True, exist_ok=True)
    planned: dict[str, list] = {}
    entries = []
    for p in products:
        suffix, ext = _suffix_ext(p)
        info = _meta_for(p, ext)
        entries.append((p, suffix, ext, info))
        planned.setdefault(_release_name(p, suffix, ext, info, target), []).append(p)
    files = []
    for p, suffix, ext, info in entries:
        new = _release_name(p, suffix, ext, info, target)
        if len(planned[new]) > 1:    # two products would share a name: add the product's own name
            from .config import slug

            new = f"{slug(target or info.get('target') or '')}_{p.name}"
        out = dest / new
        if out.exists() and not overwrite:
            raise BadInputError(f"two products would be released as {new}: {p} and another")
        if link:
            if out.exists():
                out.unlink()
            os.link(p, out)
        else:
            with atomic_path(out, overwrite=True) as tmp:
                shutil.copyfile(p, tmp)
        files.append({"file": new, "source": str(p.resolve()), "sha256": _sha256(out), "bytes": out.stat().st_size,
                      "product": suffix, **{k: v for k, v in info.items() if v not in (None, "")}})
    runs = []
    prov = dest / "provenance"
    for src in map(Path, sources):
        for rec in sorted(src.rglob("jwcal_run_latest.json")):
            prov.mkdir(exist_ok=True)
            rel = rec.parent.relative_to(src)
            label = "_".join(rel.parts) or src.name
            target_file = prov / f"{label}_run.json"
            shutil.copyfile(rec, target_file)
            runs.append({"file": str(target_file.relative_to(dest)), "source": str(rec.resolve()),
                         "sha256": _sha256(target_file)})
    doc = {"format": FORMAT, "name": name, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "jwcal_version": __version__, "sources": [str(s) for s in resolved_sources],
           "files": files, "runs": runs}
    manifest = dest / MANIFEST
    with atomic_path(manifest, overwrite=True) as tmp:
        tmp.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    return manifest
