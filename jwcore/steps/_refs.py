"""Reading reference files the way the ramp steps need them (shared by the ``*_step.py``).

* :func:`cutout`: a reference array cut to the science (sub)array, from the SUBSTRT/SUBSIZE
  keywords of both files (``jwst``'s ``ref_matches_sci`` / ``get_subarray_model``: the
  array sizes win over SUBSIZE keywords; a reference without corner keywords starts at 1, 1).
* :func:`standard_dq`: a reference DQ array in the standard flags (its DQ_DEF table applied,
  as stdatamodels does when it opens a reference file).
* :func:`extra_array`: an extension the jwcal model class does not declare (read from the file).
"""

from __future__ import annotations

import numpy as np

from ._subarray import extract

__all__ = ["science_window", "cutout", "standard_dq", "extra_array", "is_irs2", "irs2_rows"]


def is_irs2(shape) -> bool:
    """NIRSpec IRS2 readout: an image axis longer than 2048 (as ``jwst`` decides it)."""
    return max(shape[-1], shape[-2]) > 2048


def irs2_rows(meta, shape):
    """Boolean mask of the normal rows of IRS2 data (see :mod:`jwcore.steps._irs2`), oriented
    by FASTAXIS (negative: reversed).  IRS2 data without FASTAXIS are a BadInputError: the
    orientation of the interleaved rows cannot be guessed."""
    from ..errors import BadInputError
    from ._irs2 import irs2_normal_rows

    fastaxis = meta.get("subarray.fastaxis")
    if fastaxis is None:
        raise BadInputError("IRS2 data need the FASTAXIS keyword (meta.subarray.fastaxis) to place "
                            "the interleaved reference rows")
    return irs2_normal_rows(
        length=shape[-2],
        nrs_normal=meta.get("exposure.nrs_normal") or 16,
        nrs_reference=meta.get("exposure.nrs_reference") or 4,
        fastaxis=int(fastaxis),
    )


def science_window(meta, shape) -> tuple:
    """``(xstart, ystart, xsize, ysize)`` of science data of ``shape`` (1-based corner).

    Missing corner keywords count as 1.  The sizes are the array's own, except for IRS2
    data, whose SUBSIZE2 (normal pixels) is kept.
    """
    xstart = meta.get("subarray.xstart") or 1
    ystart = meta.get("subarray.ystart") or 1
    ysize = shape[-2]
    if is_irs2(shape) and meta.get("subarray.ysize"):
        ysize = meta.get("subarray.ysize")
    return int(xstart), int(ystart), int(shape[-1]), int(ysize)


def _reference_rows(shape, ref_meta) -> int:
    """Rows a reference array covers in normal-pixel space: its own, except for an IRS2-layout
    reference (more than 2048 rows, e.g. an IRS2 superbias or mask of 3200 rows), whose
    SUBSIZE2 (the normal rows) counts, as ``jwst``'s ``ref_matches_sci`` allows."""
    rows = int(shape[-2])
    kw = ref_meta.get("subarray.ysize")
    if is_irs2(shape) and kw and int(kw) < rows:
        return int(kw)
    return rows


def cutout(array, ref_meta, sci_meta, sci_shape, *, copy: bool = False):
    """The part of a reference ``array`` (``(..., ny, nx)``) that the science data see.

    Returns the array itself when it already matches (same corner and size), else a view
    (a copy with ``copy=True``).  Raises :class:`~jwcore.errors.ReferenceShapeError` (a
    ReferenceFileError and a ValueError, naming the file) when the science window is not inside.

    NIRSpec IRS2: a reference in the IRS2 layout (3200 rows, SUBSIZE2 = 2048: CRDS's IRS2
    MASK and SUPERBIAS) matches IRS2 science data (3200 rows, SUBSIZE2 = 2048) and is returned
    whole, interleaved reference rows included; a normal-pixel reference (2048 rows: SATURATION,
    LINEARITY, DARK, ...) matches it too, as in ``jwst``, and is returned as it is (the step maps
    it onto the normal rows, or the data have lost their reference rows in ``refpix``).  An
    IRS2-layout reference cannot be cut to a smaller window nor serve data without the
    interleaved rows (ValueError; ``jwst`` fails there too).
    """
    if array is None:
        return None
    try:
        return _cutout(array, ref_meta, sci_meta, sci_shape, copy)
    except ValueError as exc:
        from ..errors import ReferenceShapeError

        name = ref_meta.get("filename") or ref_meta.get("reftype") or "reference"
        raise ReferenceShapeError(f"{name}: {exc}") from None


def _cutout(array, ref_meta, sci_meta, sci_shape, copy):
    xs, ys, xsize, ysize = science_window(sci_meta, sci_shape)
    rx = ref_meta.get("subarray.xstart") or 1
    ry = ref_meta.get("subarray.ystart") or 1
    if (_reference_rows(array.shape, ref_meta), array.shape[-1]) == (ysize, xsize) and (rx, ry) == (xs, ys):
        if is_irs2(array.shape) and array.shape[-2] != sci_shape[-2]:
            raise ValueError(f"IRS2-layout reference ({array.shape[-2]} rows) for data of {sci_shape[-2]} rows")
        return array
    if is_irs2(array.shape):
        raise ValueError(f"IRS2-layout reference ({array.shape[-2]} rows) does not match the science "
                         f"window x={xs}+{xsize}, y={ys}+{ysize}")
    out = extract(array, xs, ys, xsize, ysize, ref_xstart=int(rx), ref_ystart=int(ry))
    return out.copy() if copy else out


def _dq_def_columns(table):
    names = table.dtype.names or ()
    lower = {n.lower(): n for n in names}
    if "name" not in lower or "value" not in lower:
        return None
    return list(table[lower["name"]]), [int(v) % (1 << 32) for v in table[lower["value"]]]


def standard_dq(ref, name: str = "dq"):
    """``ref.<name>`` translated to the standard DQ flags with the file's DQ_DEF table.

    ``None`` when the array is absent; unchanged when there is no (usable) DQ_DEF.
    """
    from .dq_init import map_dq_def

    if not ref.has(name):
        return None
    arr = getattr(ref, name)
    table = _file_dq_def(ref)
    if table is None:
        table = ref.dq_def if type(ref).spec("dq_def") is not None and ref.has("dq_def") else None
    if table is None or len(table) == 0:
        return arr
    cols = _dq_def_columns(table)
    if cols is None:
        return arr
    return map_dq_def(arr, cols[0], cols[1])


def _file_dq_def(ref):
    """The DQ_DEF table read with astropy from the file the reference came from.

    Its VALUE column is uint32, stored as int32 with TZERO = 2**31; astropy's column access
    applies the offset (a plain ``numpy.asarray`` of the table would not).
    """
    path = getattr(ref, "path", None)
    if path is None or str(path).endswith(".asdf"):
        return None
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        if "DQ_DEF" not in hdul or hdul["DQ_DEF"].data is None:
            return None
        rec = hdul["DQ_DEF"].data
        lower = {n.lower(): n for n in rec.names}
        if "name" not in lower or "value" not in lower:
            return None
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in rec[lower["name"]]]
        values = np.asarray(rec[lower["value"]]).astype(np.int64)
    out = np.zeros(len(names), dtype=[("NAME", "U40"), ("VALUE", "i8")])
    out["NAME"] = names
    out["VALUE"] = values
    return out


def extra_array(ref, path, extname: str, attr: str | None = None):
    """An array of a reference file: ``ref.<attr>`` if the model declares it, else the FITS
    extension ``extname`` read from ``path`` (``None`` when absent or empty)."""
    attr = attr or extname.lower()
    if type(ref).spec(attr) is not None:
        return getattr(ref, attr) if ref.has(attr) else None
    if path is None or str(path).endswith(".asdf"):
        return None
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        if extname not in hdul:
            return None
        data = hdul[extname].data
        if data is None:
            return None
        if isinstance(data, fits.FITS_rec):
            return np.asarray(data).copy()
        return np.asarray(data, dtype=data.dtype.newbyteorder("=")).copy()
