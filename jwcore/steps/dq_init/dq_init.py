"""Pure algorithms of the dq_init step.

* :func:`map_dq_def` turns a reference file's own DQ bit layout (its DQ_DEF table)
  into the standard JWST flag values of :mod:`jwcore.dq` (what stdatamodels does when a
  reference model with a DQ_DEF table is opened), or back (``inverse=True``).
* :func:`apply_dq_init` ORs the (already mapped, already subarray-matched) MASK DQ
  into PIXELDQ and copies its DO_NOT_USE bit into every group of GROUPDQ.

Use :func:`jwcore.steps._subarray.extract` to cut a full-frame mask to the science
subarray first.
"""

from __future__ import annotations

import numpy as np

from ... import dq

__all__ = ["map_dq_def", "unknown_dq_def_names", "apply_dq_init"]


def _lookup(name, aliases: bool):
    if isinstance(name, bytes):
        name = name.decode("ascii", "replace")
    key = str(name).strip()
    if key in dq.PIXEL:
        return dq.PIXEL[key]
    if aliases:
        key = dq.ALIASES.get(key.upper(), key.upper())
        return dq.PIXEL.get(key)
    return None


def unknown_dq_def_names(names, *, aliases: bool = False) -> list[str]:
    """Names in a DQ_DEF table that have no standard flag (they are ignored by the mapping)."""
    return [
        (n.decode("ascii", "replace") if isinstance(n, bytes) else str(n)).strip()
        for n in names
        if _lookup(n, aliases) is None
    ]


def map_dq_def(ref_dq, names, values, *, inverse: bool = False, aliases: bool = False):
    """Translate a reference DQ array between its DQ_DEF bit layout and the standard flags.

    Parameters
    ----------
    ref_dq : ndarray of unsigned int
        The reference file DQ array as stored (``inverse=False``) or in standard flags
        (``inverse=True``).
    names, values : sequences
        The DQ_DEF table columns NAME and VALUE (one entry per bit plane).  With an
        empty table the input array itself is returned (no copy), as jwst does.
    inverse : bool
        False: file layout -> standard flags.  True: standard flags -> file layout.
    aliases : bool
        Also accept the aliases of :data:`jwcore.dq.ALIASES` (e.g. UNRELIABLE_ERROR).
        jwst does not, it skips such rows, so the default is False for parity.
        Names are matched exactly after stripping blanks (case-sensitive, as jwst).

    Returns
    -------
    ndarray
        A new array (unknown names contribute nothing): of ``ref_dq``'s dtype, widened
        to at least uint32 when decoding.
    """
    names = list(names)
    values = list(values)
    if len(names) == 0:
        return ref_dq
    ref_dq = np.asarray(ref_dq)
    # standard flags need 32 bits: widen narrow (uint8/uint16) file layouts when decoding
    out_dtype = ref_dq.dtype if inverse else np.result_type(ref_dq.dtype, np.uint32)
    pairs = []
    for name, value in zip(names, values):
        std = _lookup(name, aliases)
        if std is not None:
            pairs.append((std, int(value)) if inverse else (int(value), std))
    if all(src == dst and src > 0 and src & (src - 1) == 0 for src, dst in pairs):
        # every row maps one bit onto itself (the usual table): keep those bits, in one pass
        keep = 0
        for src, _ in pairs:
            keep |= src
        out = np.empty(ref_dq.shape, dtype=out_dtype)
        np.bitwise_and(ref_dq, np.asarray(keep).astype(ref_dq.dtype), out=out, casting="unsafe")
        return out
    out = np.zeros(ref_dq.shape, dtype=out_dtype)
    for src, dst in pairs:
        hit = (ref_dq & np.asarray(src).astype(ref_dq.dtype)) != 0
        out[hit] |= np.asarray(dst).astype(out_dtype)
    return out


def apply_dq_init(pixeldq, groupdq, mask_dq, user_dq=None, *, num_superstripe: int | None = None):
    """OR the MASK reference DQ into the science DQ, in place.

    Parameters
    ----------
    pixeldq : ndarray (uint32)
        PIXELDQ ``(ny, nx)`` (or ``(nstripe, ny, nx)`` for superstripe data, or the DQ of
        a guider product); modified in place: ``pixeldq |= mask``.
    groupdq : ndarray (uint8) or None
        GROUPDQ ``(nints, ngroups, ny, nx)``; modified in place:
        ``groupdq |= mask & DO_NOT_USE``.  Pass None for FGS guide-star products
        (jwst only updates their DQ there).
    mask_dq : ndarray
        MASK DQ already in standard flags and cut to the science subarray.
        It is not modified.
    user_dq : ndarray or None
        Optional user-supplied DQ of the same shape as ``mask_dq``; it is cast to the
        mask dtype and ORed into the mask.
    num_superstripe : int or None
        For superstripe ramps ``mask_dq`` is ``(nstripe, ny, nx)``; integration ``i``
        uses stripe ``i % nstripe``.

    Returns
    -------
    (pixeldq, groupdq)
        The same arrays, updated.
    """
    mask = np.asarray(mask_dq)
    if user_dq is not None:
        user_dq = np.asarray(user_dq)
        if user_dq.shape != mask.shape:
            raise ValueError(f"user_dq has shape={user_dq.shape} but expecting {mask.shape}")
        mask = mask | user_dq.astype(mask.dtype)

    pixeldq |= mask.astype(pixeldq.dtype, copy=False)
    if groupdq is not None:
        dnu = mask & np.asarray(dq.DO_NOT_USE).astype(mask.dtype)
        if num_superstripe:
            nstripe = mask.shape[0]
            for i in range(groupdq.shape[0]):
                groupdq[i] |= dnu[i % nstripe].astype(groupdq.dtype)
        else:
            dnu = dnu.astype(groupdq.dtype)
            for i in range(groupdq.shape[0]):
                groupdq[i] |= dnu
    return pixeldq, groupdq
