"""Persistence flagging, as ``jwst`` 3.0.0's ``persistence`` step does it.

``jwst`` 3.0 no longer subtracts a trap-model persistence signal: it *flags* groups that
fall inside a "persistence window".  Each pixel carries the (Unix epoch) time at which its
window ends, 0 meaning no window.  Group ``g`` of integration ``i`` is stamped at
``start(i) + (g + 1) * group_time``; at each group, in order:

1. windows that ended before this time are closed (set to 0);
2. a pixel whose SATURATED count in this integration is exactly 1 (it saturated in this
   group, or saturated once earlier and not since) opens a window ending at
   ``time + persistence_time``;
3. with ``dn_threshold``, a pixel above it without an open window opens one too;
4. a window ending later than ``time + persistence_time`` (impossible going forward; it
   can come from a persistence array of a later exposure) is closed ("backwards flagging");
5. the group gets PERSISTENCE (and DO_NOT_USE with ``dnu``) where a window is open.

The SATURATED count restarts with every integration; the windows carry over between
integrations and, through the persistence array, between exposures.
"""

from __future__ import annotations

import numpy as np

from ... import dq

__all__ = ["mjd_to_epoch", "flag_persistence"]

_SAT = np.uint8(dq.SATURATED)


def mjd_to_epoch(mjd: float) -> float:
    """Modified Julian Date to Unix epoch seconds."""
    return (mjd - 40587.0) * 86400.0


def flag_persistence(
    groupdq,
    data,
    *,
    start_times,
    group_time: float,
    persistence_time: float,
    persistence_array=None,
    dn_threshold: float | None = None,
    dnu: bool = False,
):
    """Flag groups inside persistence windows, in place.

    Parameters
    ----------
    groupdq : uint8 ``(nints, ngroups, ny, nx)``; PERSISTENCE (| DO_NOT_USE) added in place.
    data : ``(nints, ngroups, ny, nx)``; only read with ``dn_threshold``.
    start_times : sequence of ``nints`` floats, the Unix epoch start of each integration.
    group_time : seconds per group (TGROUP).
    persistence_time : length of a window in seconds.
    persistence_array : float64 ``(ny, nx)`` window end times carried in (updated in place);
        ``None`` starts with no open window.
    dn_threshold : optional DN level above which a window opens as well.
    dnu : also flag DO_NOT_USE.

    Returns
    -------
    ndarray
        The persistence array (window end times, 0 = none) after the last group.
    """
    nints, ngroups, ny, nx = groupdq.shape
    windows = np.zeros((ny, nx), np.float64) if persistence_array is None else persistence_array
    flag = np.uint8(dq.PERSISTENCE | (dq.DO_NOT_USE if dnu else 0))
    for i in range(nints):
        now = float(start_times[i])
        sat_count = np.zeros((ny, nx), np.uint32)
        for g in range(ngroups):
            now = now + group_time
            windows[windows < now] = 0.0
            end = now + persistence_time
            plane = groupdq[i, g]
            sat_count += (plane & _SAT) > 0
            windows[sat_count == 1] = end
            if dn_threshold is not None:
                opens = (data[i, g] > dn_threshold) & ~(windows > 0.0)
                windows[opens] = end
            backwards = (windows != 0.0) & (windows - end > 0.0)
            windows[backwards] = 0.0
            plane[windows > 0.0] |= flag
    return windows
