"""Subtract the superbias reference image from a ramp and propagate its DQ."""

from __future__ import annotations

import numpy as np

from .._ramp_util import row_blocks, run_parallel

__all__ = ["apply_superbias"]


def apply_superbias(data, pixeldq, bias, bias_dq, zeroframe=None):
    """Subtract ``bias`` from every group of every integration, in place.

    Parameters
    ----------
    data : ndarray (float32)
        SCI ramp ``(nints, ngroups, ny, nx)``; modified in place.
    pixeldq : ndarray (uint32)
        PIXELDQ; modified in place: ``pixeldq |= bias_dq`` (e.g. UNRELIABLE_BIAS).
    bias : ndarray
        Superbias ``(ny, nx)`` already cut to the science subarray; for superstripe
        ramps ``(nstripe, ny, nx)`` where integration ``i`` uses stripe ``i % nstripe``.
        NaN bias values count as 0 (nothing is subtracted there, no flag added).
        Not modified.
    bias_dq : ndarray
        Superbias DQ in standard flags, broadcastable to ``pixeldq``.
    zeroframe : ndarray or None
        ZEROFRAME ``(nints, ny, nx)``; if given the bias is subtracted in place too, but
        pixels that were exactly 0 (bad) stay 0.

    Returns
    -------
    pixeldq : ndarray
        The updated ``pixeldq`` (same object).
    """
    pixeldq |= np.asarray(bias_dq).astype(pixeldq.dtype, copy=False)
    bias = np.asarray(bias)
    if np.isnan(bias).any():
        bias = np.where(np.isnan(bias), np.zeros((), bias.dtype), bias)
    stripes = bias.ndim == 3
    nints, ngroups, ny, nx = data.shape

    def plane_bias(i):
        return bias[i % bias.shape[0]] if stripes else bias

    jobs = [(i, rows) for i in range(nints) for rows in row_blocks(ny, nx, max(1, (1 << 20) // ngroups))]

    def work(job):
        i, rows = job
        data[i, :, rows] -= plane_bias(i)[rows]

    run_parallel(work, jobs)

    if zeroframe is not None:
        for i in range(zeroframe.shape[0]):
            zero = zeroframe[i] == 0.0
            zeroframe[i] -= plane_bias(i)
            zeroframe[i][zero] = 0.0
    return pixeldq
