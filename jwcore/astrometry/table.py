"""Alignment tables: per-exposure, per-visit or per-observation sky corrections (FITS/ECSV/CSV).

One row per correction.  Which files a row applies to (the first column present wins for a
file, in this order of precedence):

``file``         an exposure or product name (``jw01234001001_01101_00001_nrca1`` - any
                 suffix and extension are ignored), or ``*`` for every file;
``visit``        ``jwPPPPPOOOVVV`` (program, observation, visit), e.g. ``jw01234001001``;
``observation``  ``jwPPPPP-oOOO``, e.g. ``jw01234-o001`` (also matches level-3 products).

The correction (see :mod:`jwcore.astrometry.correction`):

``dra``, ``ddec``        tangent-plane shift east / north (arcsec unless the column has a unit);
``rotation``             degrees from north towards east (default 0);
``scale``                (default 1);
``matrix``               optional 2x2 linear part instead of rotation/scale (a 4-vector or 2x2);
``ra0``, ``dec0``        optional centre of rotation/scale (deg; default: each image's reference
                         pixel - give it for a per-visit rotation so all exposures turn alike).

Column names are case-insensitive; ``delta_ra``/``shift_ra``/``xi`` and
``delta_dec``/``shift_dec``/``eta`` are accepted for the shifts, ``rot``/``theta`` for the
rotation, ``shift`` (a 2-vector) for both shifts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BadInputError
from .correction import SkyCorrection

__all__ = ["AlignmentTable", "read_alignment_table", "keys_for"]

ALIASES = {
    "file": ("file", "filename", "exposure", "product"),
    "visit": ("visit", "visit_id"),
    "observation": ("observation", "obs", "obs_id"),
    "dra": ("dra", "delta_ra", "shift_ra", "xi", "ra_offset"),
    "ddec": ("ddec", "delta_dec", "shift_dec", "eta", "dec_offset"),
    "rotation": ("rotation", "rot", "theta"),
    "scale": ("scale",),
    "matrix": ("matrix",),
    "shift": ("shift",),
    "ra0": ("ra0", "ra_center", "ra_centre"),
    "dec0": ("dec0", "dec_center", "dec_centre"),
}
MATCH_ORDER = ("file", "visit", "observation")
_VISIT = re.compile(r"^jw\d{11}$")
_OBS = re.compile(r"^jw\d{5}-o\d{3}$")


def _column(table, name):
    lower = {c.lower(): c for c in table.colnames}
    for alias in ALIASES[name]:
        if alias in lower:
            return table[lower[alias]]
    return None


def _values(col, unit, n):
    """Column values as floats in ``unit`` (``None``: the column as it is)."""
    if col is None:
        return None
    if unit is not None and getattr(col, "unit", None) is not None:
        return np.asarray(col.quantity.to_value(unit), float)
    return np.asarray(col, float)


def _clean_name(value) -> str:
    from ..runner.naming import basename

    text = str(value).strip()
    return text if text == "*" else basename(Path(text).name)


@dataclass
class AlignmentTable:
    """Rows indexed by how they match: ``{"file": {name: corr}, "visit": {...}, "observation": {...}}``."""

    path: Path | None
    rows: dict

    def __len__(self) -> int:
        return sum(len(v) for v in self.rows.values())

    def lookup(self, keys: dict) -> tuple[str, str, SkyCorrection] | None:
        """The correction for a file with match ``keys`` (see :func:`keys_for`): ``(column,
        value, correction)`` of the most specific matching row, or ``None``."""
        for what in MATCH_ORDER:
            table = self.rows.get(what, {})
            value = keys.get(what)
            if value is not None and value in table:
                return what, value, table[value]
        if "*" in self.rows.get("file", {}):
            return "file", "*", self.rows["file"]["*"]
        return None


def read_alignment_table(path) -> AlignmentTable:
    """Read an alignment table (any format astropy reads: FITS, ECSV, CSV...)."""
    from astropy import units as u
    from astropy.table import Table

    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"alignment table {path} does not exist")
    try:
        table = Table.read(path, format="ascii.ecsv") if path.suffix == ".ecsv" else Table.read(path)
    except Exception as exc:
        raise BadInputError(f"alignment table {path}: cannot read it ({type(exc).__name__}: {exc})") from None
    n = len(table)
    keys = {w: _column(table, w) for w in MATCH_ORDER}
    if all(c is None for c in keys.values()):
        raise BadInputError(f"alignment table {path}: needs a 'file', 'visit' or 'observation' column")
    dra = _values(_column(table, "dra"), u.arcsec, n)
    ddec = _values(_column(table, "ddec"), u.arcsec, n)
    shift = _column(table, "shift")
    if shift is not None:
        sh = np.asarray(shift.quantity.to_value(u.arcsec) if getattr(shift, "unit", None) is not None else shift,
                        float).reshape(n, 2)
        dra, ddec = sh[:, 0], sh[:, 1]
    rot = _values(_column(table, "rotation"), u.deg, n)
    scale = _values(_column(table, "scale"), None, n)
    matrix = _column(table, "matrix")
    ra0 = _values(_column(table, "ra0"), u.deg, n)
    dec0 = _values(_column(table, "dec0"), u.deg, n)
    if dra is None and ddec is None and rot is None and matrix is None and scale is None:
        raise BadInputError(f"alignment table {path}: no correction columns (dra, ddec, rotation, scale, matrix)")
    rows: dict = {w: {} for w in MATCH_ORDER}
    for i in range(n):
        mat = None
        if matrix is not None:
            mat = tuple(np.asarray(matrix[i], float).ravel().tolist())
            if len(mat) != 4:
                raise BadInputError(f"alignment table {path}: row {i + 1}: matrix must have 4 elements")
        corr = SkyCorrection(
            dra=0.0 if dra is None else float(dra[i]), ddec=0.0 if ddec is None else float(ddec[i]),
            rotation=0.0 if rot is None else float(rot[i]), scale=1.0 if scale is None else float(scale[i]),
            matrix=mat, ra0=None if ra0 is None or not np.isfinite(ra0[i]) else float(ra0[i]),
            dec0=None if dec0 is None or not np.isfinite(dec0[i]) else float(dec0[i]))
        for what in MATCH_ORDER:
            col = keys[what]
            if col is None:
                continue
            value = col[i]
            if np.ma.is_masked(value) or str(value).strip() in ("", "--"):
                continue
            name = _clean_name(value) if what == "file" else str(value).strip().lower()
            if what == "visit" and not _VISIT.match(name):
                raise BadInputError(f"alignment table {path}: row {i + 1}: visit {value!r} is not jwPPPPPOOOVVV")
            if what == "observation" and not _OBS.match(name):
                raise BadInputError(f"alignment table {path}: row {i + 1}: observation {value!r} is not jwPPPPP-oOOO")
            if name in rows[what]:
                raise BadInputError(f"alignment table {path}: {what} {name!r} appears twice")
            rows[what][name] = corr
            break
    return AlignmentTable(path, rows)


def keys_for(meta, filename=None) -> dict:
    """How a file can be matched: its name (``file``), ``visit`` and ``observation`` ids, from
    the metadata (program, observation and visit numbers) or, failing that, from the name."""
    name = _clean_name(filename or meta.get("filename") or "")
    obs = meta.get("observation") or {}
    prog, onum, vnum = obs.get("program_number"), obs.get("observation_number"), obs.get("visit_number")
    m = re.match(r"^jw(\d{5})(\d{3})(\d{3})_", name)
    m3 = re.match(r"^jw(\d{5})-o(\d{3})", name)
    if not (str(prog or "").isdigit() and str(onum or "").isdigit()):
        if m:
            prog, onum, vnum = m.group(1), m.group(2), m.group(3)
        elif m3:
            prog, onum = m3.group(1), m3.group(2)
    keys = {"file": name}
    if str(prog or "").isdigit() and str(onum or "").isdigit():
        keys["observation"] = f"jw{int(prog):05d}-o{int(onum):03d}"
        if str(vnum or "").isdigit() and not m3:
            keys["visit"] = f"jw{int(prog):05d}{int(onum):03d}{int(vnum):03d}"
    return keys
