"""Imaging flat field: divide by the FLAT, propagate its DQ and its error into VAR_FLAT.

Arithmetic (float32 throughout, as jwst 3.0's ``apply_flat_field``):

* flat pixels that are NaN or 0 get ``NO_FLAT_FIELD | DO_NOT_USE``; pixels flagged
  ``NO_FLAT_FIELD`` also get ``DO_NOT_USE``; every ``DO_NOT_USE`` flat pixel is set to 1
  (no correction);
* ``SCI /= flat``; ``VAR_FLAT = SCI_out**2 / flat**2 * flat_err**2``;
* ``VAR_POISSON /= flat**2``, ``VAR_RNOISE /= flat**2``,
  ``ERR = sqrt(VAR_POISSON + VAR_RNOISE + VAR_FLAT)``; a guider product (no Poisson/read-noise
  variances) gets ``ERR = sqrt(ERR**2 + VAR_FLAT)``;
* ``DQ |= flat DQ``; then NaN and ``DO_NOT_USE`` are made consistent across SCI, ERR, the
  variances and DQ (:func:`match_nans_and_flags`).

``inverse=True`` multiplies instead (VAR_FLAT becomes 0).  Cubes (nints, ny, nx) take a 2-D
flat by broadcasting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import dq as dqflags

__all__ = ["FlatResult", "prepare_flat", "apply_flat", "match_nans_and_flags"]


@dataclass
class FlatResult:
    """The updated science arrays (``var_poisson``/``var_rnoise`` ``None`` for guider data)."""

    data: np.ndarray
    dq: np.ndarray
    err: np.ndarray
    var_flat: np.ndarray
    var_poisson: np.ndarray | None = None
    var_rnoise: np.ndarray | None = None


def prepare_flat(flat, flat_dq=None):
    """A float32 copy of ``flat`` with bad pixels set to 1, and the updated flat DQ.

    Returns ``(flat, flat_dq)``; the inputs are not modified.
    """
    flat = np.array(flat, dtype=np.float32, copy=True)
    fdq = np.zeros(flat.shape, np.uint32) if flat_dq is None else np.array(flat_dq, dtype=np.uint32, copy=True)
    bad = np.uint32(dqflags.DO_NOT_USE | dqflags.NO_FLAT_FIELD)
    fdq[np.isnan(flat) | (flat == 0.0)] |= bad
    fdq[(fdq & dqflags.NO_FLAT_FIELD) != 0] |= np.uint32(dqflags.DO_NOT_USE)
    flat[(fdq & dqflags.DO_NOT_USE) != 0] = 1.0
    return flat, fdq


def apply_flat(data, dq, flat, flat_dq=None, flat_err=None, *, err=None, var_poisson=None,
               var_rnoise=None, guider=False, inverse=False) -> FlatResult:
    """Flat-field science arrays; ``data``, ``dq`` and the variances are updated in place.

    ``flat``, ``flat_dq``, ``flat_err``: the reference cut to the science subarray (2-D);
    ``flat_err``/``flat_dq`` ``None`` mean zeros.  ``err`` is only read for ``guider=True``.
    For non-guider data, missing variances are taken as zeros (new arrays are returned).
    """
    flat, fdq = prepare_flat(flat, flat_dq)
    ferr = np.zeros(flat.shape, np.float32) if flat_err is None else np.asarray(flat_err, np.float32)
    flat2 = flat * flat
    if not inverse:
        data /= flat
        var_flat = data**2 / flat2 * ferr**2
    else:
        data *= flat
        var_flat = np.zeros_like(data)
    if not guider:
        if var_poisson is None:
            var_poisson = np.zeros_like(data)
        if var_rnoise is None:
            var_rnoise = np.zeros_like(data)
        if not inverse:
            var_poisson /= flat2
            var_rnoise /= flat2
            err = np.sqrt(var_poisson + var_rnoise + var_flat)
        else:
            var_poisson *= flat2
            var_rnoise *= flat2
            err = np.sqrt(var_poisson + var_rnoise)
    elif not inverse:
        err = np.sqrt(np.asarray(err, np.float32) ** 2 + var_flat)
    dq |= fdq
    out = FlatResult(data=data, dq=dq, err=err, var_flat=var_flat,
                     var_poisson=None if guider else var_poisson,
                     var_rnoise=None if guider else var_rnoise)
    match_nans_and_flags(out.data, out.dq, out.err, out.var_poisson, out.var_rnoise, out.var_flat)
    return out


def match_nans_and_flags(data, dq, *others) -> None:
    """Make NaN and ``DO_NOT_USE`` agree, in place.

    A pixel that is NaN in ``data`` or in any of ``others`` (ERR, variances; ``None`` or
    differently-shaped arrays are ignored), or flagged ``DO_NOT_USE`` in ``dq``, becomes NaN
    everywhere and gets ``DO_NOT_USE``.
    """
    arrays = [data] + [a for a in others if a is not None and np.shape(a) == np.shape(data)]
    bad = np.isnan(data)
    for a in arrays[1:]:
        bad |= np.isnan(a)
    if dq is not None and np.shape(dq) == np.shape(data):
        bad |= (dq & dqflags.DO_NOT_USE) != 0
        dq[bad] |= np.uint32(dqflags.DO_NOT_USE)
    for a in arrays:
        a[bad] = np.nan
