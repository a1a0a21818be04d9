"""MIRI first-frame flagging, as ``jwst`` 3.0.0 ``firstframe`` does it.

(``jwst`` deprecates the step, ``skip = True`` by default, because the RSCD step now
flags the first group; this is kept for callers that still run it.)

With more than three groups, group 1 of every integration gets DO_NOT_USE in GROUPDQ.
With ``bright_use_group1`` (the step's default), pixels whose group 3 is SATURATED in an
integration keep group 1 usable in that integration, and pixels where that happens in
any integration get FLUX_ESTIMATED in PIXELDQ.
"""

from __future__ import annotations

import numpy as np

from jwcore import dq

__all__ = ["flag_first_group"]


def flag_first_group(
    groupdq: np.ndarray, pixeldq: np.ndarray, *, bright_use_group1: bool = True
) -> str:
    """Flag the first group of a MIRI ramp, in place.

    Parameters
    ----------
    groupdq : uint8 array (nints, ngroups, ny, nx); modified in place.
    pixeldq : uint32 array (ny, nx); modified in place (only with ``bright_use_group1``).
    bright_use_group1 : the FirstFrameStep parameter (step default True; note that
        ``jwst``'s ``firstframe_sub.do_correction`` itself defaults to False).

    Returns
    -------
    ``"COMPLETE"``, or ``"SKIPPED"`` when there are three groups or fewer (nothing done).
    """
    if groupdq.shape[1] <= 3:
        return "SKIPPED"
    dnu = np.uint8(dq.GROUP["DO_NOT_USE"])
    if bright_use_group1:
        sat3 = (groupdq[:, 2] & np.uint8(dq.GROUP["SATURATED"])) > 0
        first = groupdq[:, 0]
        first |= np.where(sat3, np.uint8(0), dnu)
        kept = np.any(sat3, axis=0)
        pixeldq[kept] |= np.uint32(dq.FLUX_ESTIMATED)
    else:
        groupdq[:, 0] |= dnu
    return "COMPLETE"
