"""MIRI last-frame flagging, as ``jwst`` 3.0.0 ``lastframe`` does it: with more than two
groups, the last group of every integration gets DO_NOT_USE in GROUPDQ."""

from __future__ import annotations

import numpy as np

from jwcore import dq

__all__ = ["flag_last_group"]


def flag_last_group(groupdq: np.ndarray) -> str:
    """Flag the last group of a MIRI ramp, in place (uint8 (nints, ngroups, ny, nx)).

    Returns ``"COMPLETE"``, or ``"SKIPPED"`` when there are two groups or fewer.
    """
    if groupdq.shape[1] <= 2:
        return "SKIPPED"
    groupdq[:, -1] |= np.uint8(dq.GROUP["DO_NOT_USE"])
    return "COMPLETE"
