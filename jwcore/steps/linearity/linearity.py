"""Classic non-linearity correction of ramps (jwst ``linearity`` step / stcal algorithm).

Every group value ``x`` that is not SATURATED becomes ``sum_k c_k x**k`` with the
pixel's coefficients ``c`` (``(ncoeffs, ny, nx)``).  Pixels whose correction is not
available get identity coefficients (``c_1 = 1``, others 0) and NO_LIN_CORR:

* NO_LIN_CORR already set in the reference DQ,
* any NaN coefficient,
* a zero linear coefficient.

Read-level mode (jwst uses it when the reference has inverse coefficients, NFRAMES > 1
and no per-read times): groups are averages of several frames, and the average of a
non-linear ramp is not the non-linear value of the average.  The linearised first and
last usable groups give a count rate per frame; each frame of a group is predicted from
that rate, pushed back to raw counts with the inverse polynomial, shifted so the mean
matches the measured group, linearised frame by frame and averaged again.
"""

from __future__ import annotations

import numpy as np

from ... import dq
from .._ramp_util import row_blocks, run_parallel

__all__ = ["prepare_coefficients", "evaluate_polynomial", "apply_linearity"]

_SAT = dq.SATURATED
_NLC = dq.NO_LIN_CORR

#: Rows per block in read-level mode (bounds the float64 per-frame work arrays).
READ_LEVEL_ROWS = 64


def prepare_coefficients(coeffs, lin_dq, pixeldq):
    """Replace unusable coefficients by the identity and collect NO_LIN_CORR.

    Parameters
    ----------
    coeffs : ndarray ``(ncoeffs, ny, nx)``
        Coefficients (forward or inverse), cut to the science subarray; not modified.
    lin_dq : ndarray ``(ny, nx)``
        Linearity reference DQ in standard flags.
    pixeldq : ndarray ``(ny, nx)``
        PIXELDQ to start from; not modified.

    Returns
    -------
    (coeffs, pixeldq)
        The fixed coefficients (a new array of the input dtype, or ``coeffs`` itself when
        no pixel needs the identity: treat it as read-only) and, new,
        ``pixeldq | lin_dq | NO_LIN_CORR`` (for NaN / zero-linear-term pixels).
    """
    lin_dq = np.asarray(lin_dq)
    out_dq = np.bitwise_or(pixeldq, lin_dq)
    identity = np.zeros(coeffs.shape[0], dtype=np.float64)
    identity[1] = 1.0

    flagged = (lin_dq & _NLC) == _NLC
    # which pixels get the identity, found without copying the coefficients: NaN in any
    # coefficient, or a zero linear term (after replacing the flagged ones)
    nan_pix = np.zeros(coeffs.shape[1:], dtype=bool)
    for plane in coeffs:
        nan_pix |= np.isnan(plane)
    nan_pix &= ~flagged
    zero_pix = (coeffs[1] == 0) & ~flagged & ~nan_pix
    bad = nan_pix | zero_pix
    replace = bad | flagged
    if replace.any():
        fixed = np.array(coeffs, copy=True)
        fixed[:, replace] = identity[:, None]
    else:
        fixed = np.asarray(coeffs)   # nothing to replace: the input is used as it is (read only)
    if bad.any():
        np.bitwise_or(out_dq, np.multiply(bad, _NLC, dtype=out_dq.dtype), out=out_dq)
    return fixed, out_dq


def evaluate_polynomial(x, coeffs):
    """``coeffs[0] + coeffs[1]*x + ... + coeffs[n]*x**n`` by Horner's rule.

    ``coeffs`` is ``(ncoeffs, ...)`` broadcastable against ``x``; the arithmetic dtype
    follows numpy promotion of ``x`` and ``coeffs`` (float32 for float32 inputs).
    """
    n = coeffs.shape[0]
    acc = coeffs[n - 1] * x
    for k in range(n - 2, 0, -1):
        acc += coeffs[k]
        acc *= x
    acc += coeffs[0]
    return acc


def _correct_groups(data, gdq, coeffs):
    """Group-by-group correction of one integration block ``(ngroups, rows, nx)``, in place."""
    for g in range(data.shape[0]):
        x = data[g]
        y = evaluate_polynomial(x, coeffs)
        keep = (gdq[g] & _SAT) != 0
        np.copyto(y, x, where=keep)
        x[...] = y


def _correct_reads(data, gdq, coeffs, inv_coeffs, read_pattern, satval):
    """Read-level correction of one integration block ``(ngroups, rows, nx)``, in place."""
    ngroups = data.shape[0]
    mean_frame = np.array([np.mean(frames) for frames in read_pattern])

    # last usable group: one before the last unsaturated one, at least index 1
    n_ok = ((gdq & _SAT) == 0).sum(axis=0, dtype=np.int32) - 1
    np.maximum(n_ok, 2, out=n_ok)
    last = (n_ok - 1)[None]

    def linearised(x, flags):
        y = evaluate_polynomial(x, coeffs)
        return np.where((flags & _SAT) != 0, x, y)

    first_lin = linearised(data[0], gdq[0])
    last_lin = linearised(
        np.take_along_axis(data, last, axis=0)[0], np.take_along_axis(gdq, last, axis=0)[0]
    )
    rate = (last_lin - first_lin) / (mean_frame[last[0]] - mean_frame[0])
    cap = None if satval is None else 1.2 * satval

    for g in range(ngroups):
        t = np.asarray(read_pattern[g]) - mean_frame[0]
        frames = first_lin[None] + rate[None] * t[:, None, None]
        raw = evaluate_polynomial(frames, inv_coeffs)
        raw += (data[g] - raw.mean(axis=0))[None]
        if cap is not None:
            np.minimum(raw, cap[None], out=raw)
        corrected = evaluate_polynomial(raw, coeffs[:, None]).mean(axis=0)
        keep = (gdq[g] & _SAT) != 0
        data[g] = np.where(keep, data[g], corrected)


def apply_linearity(
    data,
    groupdq,
    pixeldq,
    coeffs,
    lin_dq,
    *,
    inv_coeffs=None,
    read_pattern=None,
    zeroframe=None,
    satval=None,
):
    """Linearity-correct a ramp in place.

    Parameters
    ----------
    data : ndarray (float32)
        SCI ramp ``(nints, ngroups, ny, nx)``; corrected in place (SATURATED groups
        are left as they are).
    groupdq : ndarray
        GROUPDQ, same shape; read only.
    pixeldq : ndarray ``(ny, nx)``
        PIXELDQ; read only (the updated one is returned).
    coeffs : ndarray ``(ncoeffs, ny, nx)``
        Linearity coefficients cut to the subarray; not modified.
    lin_dq : ndarray ``(ny, nx)``
        Linearity reference DQ in standard flags.
    inv_coeffs : ndarray or None
        Inverse coefficients; with ``read_pattern`` this selects read-level mode.
        (jwst passes them only when NFRAMES > 1 and the exposure has no read times;
        their bad pixels are fixed and flagged like the forward ones.)
    read_pattern : list of lists or None
        1-based frame numbers of each group (required with ``inv_coeffs``), e.g.
        :func:`jwcore.steps._ramp_util.frame_read_pattern` ``(ngroups, NFRAMES)``.
    zeroframe : ndarray or None
        ZEROFRAME ``(nints, ny, nx)``; corrected group-by-group in place, values that
        were 0 (bad) stay 0.
    satval : ndarray or None
        Saturation values ``(ny, nx)``; in read-level mode predicted raw frames are
        capped at ``1.2 * satval`` (jwst passes None).

    Returns
    -------
    pixeldq : ndarray
        New PIXELDQ: input | lin_dq | NO_LIN_CORR for unusable coefficients.
    """
    if inv_coeffs is not None and read_pattern is None:
        raise ValueError("inv_coeffs needs read_pattern")
    fixed, new_pdq = prepare_coefficients(coeffs, lin_dq, pixeldq)
    if inv_coeffs is not None:
        inv_fixed, new_pdq = prepare_coefficients(inv_coeffs, lin_dq, new_pdq)

    nints, ngroups, ny, nx = data.shape
    if inv_coeffs is None:
        blocks = row_blocks(ny, nx)

        def work(job):
            i, rows = job
            _correct_groups(data[i, :, rows], groupdq[i, :, rows], fixed[:, rows])

    else:
        blocks = row_blocks(ny, nx, READ_LEVEL_ROWS * nx)

        def work(job):
            i, rows = job
            _correct_reads(
                data[i, :, rows],
                groupdq[i, :, rows],
                fixed[:, rows],
                inv_fixed[:, rows],
                read_pattern,
                None if satval is None else np.asarray(satval)[rows],
            )

    run_parallel(work, [(i, r) for i in range(nints) for r in blocks])

    if zeroframe is not None:
        for i in range(zeroframe.shape[0]):
            z = zeroframe[i]
            bad = z == 0.0
            y = evaluate_polynomial(z, fixed)
            y[bad] = 0.0
            z[...] = y
    return new_pdq
