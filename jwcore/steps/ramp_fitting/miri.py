"""MIRI group trimming done by ramp fitting.

For MIRI exposures with more than one group, ramp fitting ignores the leading groups
that are DO_NOT_USE in every pixel of every integration (clearing JUMP_DET on the group
that becomes first), then the last group if it is DO_NOT_USE everywhere.  If fewer than
two groups remain nothing is fitted.  :func:`~jwcore.steps.ramp_fitting.fit_ramps`
applies this with ``instrument="MIRI"``; this module only finds the group range.
"""

from __future__ import annotations

import numpy as np

from jwcore import dq

_DNU = np.uint8(dq.DO_NOT_USE)


def miri_group_range(groupdq: np.ndarray) -> tuple[int, int] | None:
    """``(first, stop)``: the groups ``first:stop`` that MIRI ramp fitting keeps.

    ``groupdq`` is ``(nints, ngroups, ny, nx)``.  ``None`` when fewer than two groups
    remain.  Data with a single group are returned whole.
    """
    ngroups = groupdq.shape[1]
    if ngroups <= 1:
        return 0, ngroups
    first = 0
    while np.all(groupdq[:, first] & _DNU):
        first += 1
        if first >= ngroups:
            return None
    stop = ngroups
    if np.all(groupdq[:, stop - 1] & _DNU):
        stop -= 1
    if stop - first < 2:
        return None
    return first, stop
