"""Choosing a row of a reference table (PHOTOM, filter offsets...) from an exposure's metadata.

Which columns select the row is instrument knowledge, so instrument plugins *declare* it
(``InstrumentPlugin(row_keys={"photom": (RowKey("filter", "meta.instrument.filter"), ...)})``,
served through the ``jwcal_reference_row_keys`` hook); the code here only applies the
declaration.

>>> import numpy as np
>>> table = np.array([("F200W", "CLEAR", 0.2), ("F150W", "CLEAR", 0.3)],
...                  dtype=[("filter", "U12"), ("pupil", "U12"), ("photmjsr", "f4")])
>>> keys = (RowKey("filter", "meta.instrument.filter"), RowKey("pupil", "meta.instrument.pupil"))
>>> find_row(table, {"filter": "F150W", "pupil": "CLEAR"})
1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ReferenceFileError

__all__ = ["RowKey", "find_row", "select_row", "row_values"]


@dataclass(frozen=True)
class RowKey:
    """One selection column of a reference table.

    ``column``: the table column (case-insensitive).  ``path``: the exposure metadata it is
    compared with (``"meta.instrument.filter"``).  ``optional``: skip this key when the table
    has no such column (older reference files).  ``fallback``: if no row matches, try again
    with this value in place of the exposure's (MIRI's ``subarray="GENERIC"`` rows).
    """

    column: str
    path: str
    optional: bool = False
    fallback: object = None


def _column(table, name: str):
    names = table.dtype.names or ()
    for n in names:
        if n.lower() == name.lower():
            return table[n]
    return None


def _normalise(values):
    values = np.asarray(values)
    if values.dtype.kind in "SU":
        if values.dtype.kind == "S":
            values = np.char.decode(values, "ascii")
        return np.char.upper(np.char.strip(values))
    return values


def _value(v):
    return v.strip().upper() if isinstance(v, str) else v


def find_row(table, match: dict) -> int | None:
    """Index of the one row whose columns equal ``match`` (strings compared case-insensitively).

    ``None`` if no row matches; :class:`ReferenceFileError` if several do or a column is
    missing.  An empty ``match`` selects the first row.
    """
    n = len(table)
    if not match:
        return 0 if n else None
    ok = np.ones(n, dtype=bool)
    for name, value in match.items():
        col = _column(table, name)
        if col is None:
            raise ReferenceFileError(f"reference table has no column {name!r}")
        ok &= _normalise(col) == _value(value)
    rows = np.flatnonzero(ok)
    if rows.size > 1:
        raise ReferenceFileError(f"{rows.size} reference table rows match {match}; expected one")
    return int(rows[0]) if rows.size else None


def row_values(keys, meta, table) -> dict:
    """``{column: exposure value}`` for ``keys`` (optional keys absent from ``table`` dropped)."""
    out = {}
    for key in keys:
        if key.optional and _column(table, key.column) is None:
            continue
        path = key.path[len("meta."):] if key.path.startswith("meta.") else key.path
        out[key.column] = meta.get(path)
    return out


def select_row(table, keys, meta) -> tuple[int | None, dict]:
    """The row for an exposure: exact match first, then each key's ``fallback`` value.

    Returns ``(row or None, the match that was tried last)``.
    """
    match = row_values(keys, meta, table)
    row = find_row(table, match)
    if row is not None:
        return row, match
    fallbacks = {k.column: k.fallback for k in keys if k.fallback is not None and k.column in match}
    if fallbacks:
        match = {**match, **fallbacks}
        row = find_row(table, match)
    return row, match
