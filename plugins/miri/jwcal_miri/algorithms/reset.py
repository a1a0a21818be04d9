"""MIRI reset-anomaly correction, as ``jwst`` 3.0.0 ``reset`` does it.

The RESET reference cube holds a correction per (integration, group) for the first
``reset_ngroups`` groups of the first ``reset_nints`` integrations.  Group ``j`` of
integration ``i`` (counted within the exposure) has ``reset[min(i, reset_nints - 1), j]``
subtracted, for ``j < min(ngroups, reset_ngroups)``; later groups are untouched.  NaNs
in the reference count as 0.  The reference DQ is OR-ed into PIXELDQ.
"""

from __future__ import annotations

import numpy as np

__all__ = ["subtract_reset"]


def subtract_reset(
    data: np.ndarray,
    pixeldq: np.ndarray,
    reset_data: np.ndarray,
    reset_dq: np.ndarray,
    *,
    integration_start: int | None = None,
    reset_nints: int | None = None,
    reset_ngroups: int | None = None,
) -> None:
    """Subtract the reset-anomaly reference from a MIRI ramp, in place.

    Parameters
    ----------
    data : float32 array (nints, ngroups, ny, nx); modified in place.
    pixeldq : uint32 array (ny, nx); the reference DQ is OR-ed in.
    reset_data : reference SCI cube (reset_nints, reset_ngroups, ny, nx), same
        subarray as ``data``; not modified.
    reset_dq : reference DQ (ny, nx).
    integration_start : 1-based INTSTART of a segmented exposure (None = 1); the
        segment's integrations are ``integration_start .. integration_start + nints - 1``
        (``jwst`` reads the end from INTEND, which is the same for consistent files).
    reset_nints, reset_ngroups : the reference's NINTS / NGROUPS keywords, when they
        differ from the cube's shape (default: the shape).
    """
    nints, ngroups = data.shape[:2]
    if nints == 0:
        return
    rn = reset_data.shape[0] if reset_nints is None else int(reset_nints)
    rg = reset_data.shape[1] if reset_ngroups is None else int(reset_ngroups)
    first = 0 if integration_start is None else int(integration_start) - 1
    pixeldq |= reset_dq
    for k in range(nints):
        ir = min(first + k, rn - 1)
        for j in range(min(ngroups, rg)):
            ref = reset_data[ir, j]
            data[k, j] -= np.where(np.isnan(ref), 0, ref)
