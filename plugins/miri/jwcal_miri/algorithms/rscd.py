"""MIRI RSCD handling, as ``jwst`` 3.0.0 ``rscd`` does it.

In ``jwst`` 3.0.0 the RSCD step no longer applies the old baseline/enhanced exponential
correction: it flags the first groups of each integration DO_NOT_USE, a number read from
the RSCD reference table (``RSCD_GROUP_SKIP``: columns ``subarray``, ``readpatt``,
``group_skip1`` for integration 1 and ``group_skip`` for integrations 2 and later).

Rules (``ngroups`` = groups per integration, ``nints`` = integrations of the exposure):

* fewer than 3 groups: nothing is done (SKIPPED);
* ``ngroups <= 5``: one group is skipped in every integration;
* a negative ``group_skip1`` (older reference files) means 1;
* the number skipped is lowered to ``max(0, ngroups - 3)`` when fewer than
  ``skip + 3`` groups exist (for integrations 2+ only when ``nints > 1``);
* saturation back-off, per pixel and integration: while group ``skip + 1`` (0-based) is
  SATURATED (and group 0 is not), the pixel skips one group fewer, moving down one group
  each time; the loop for the whole integration range stops at the first level where no
  pixel needs lowering.  Pixels lowered in any integration of the range get
  FLUX_ESTIMATED in PIXELDQ.
* integration 1 (when the data start at integration 1) uses ``group_skip1``; the other
  integrations of the data use ``group_skip`` (only if ``nints > 1``).
"""

from __future__ import annotations

import numpy as np

from jwcore import dq

__all__ = ["rscd_group_skip", "flag_rscd"]

_SAT = np.uint8(dq.GROUP["SATURATED"])
_DNU = np.uint8(dq.GROUP["DO_NOT_USE"])


def _text(v):
    return v.decode() if isinstance(v, bytes) else v


def rscd_group_skip(table, subarray: str, readpatt: str):
    """Look up (group_skip1, group_skip) for a subarray / readout pattern.

    ``table`` is the RSCD_GROUP_SKIP table: a structured array, FITS record array or an
    iterable of mappings with ``subarray``, ``readpatt``, ``group_skip1``, ``group_skip``.
    The old LRS name SUBPRISM is treated as SLITLESSPRISM.  Returns None when no row
    matches (``jwst`` then marks the step SKIPPED).
    """
    if subarray.upper() == "SUBPRISM":
        subarray = "SLITLESSPRISM"
    for row in table:
        if _text(row["subarray"]) == subarray and _text(row["readpatt"]) == readpatt:
            return int(row["group_skip1"]), int(row["group_skip"])
    return None


def _skip_counts(gdq, skip, pixeldq):
    """Per-pixel number of groups to skip for a block of integrations (n, ny, nx)."""
    counts = np.full((gdq.shape[0],) + gdq.shape[2:], skip, dtype=np.int32)
    level = skip + 2  # 1-based group checked for saturation
    if counts.size == 0:
        return counts, 0, 0
    g1_sat = (gdq[:, 0] & _SAT) > 0
    problem = ((gdq[:, level - 1] & _SAT) > 0) & ~g1_sat
    if not problem.any():
        return counts, 0, 0
    while level > 1 and problem.any():
        counts[problem] = np.maximum(counts[problem] - 1, 0)
        level -= 1
        problem = ((gdq[:, level - 1] & _SAT) > 0) & ~g1_sat
    lowered = np.any(counts < skip, axis=0)
    if lowered.any():
        pixeldq[lowered] |= np.uint32(dq.FLUX_ESTIMATED)
    only_one = int(np.any(counts == 0, axis=0).sum())
    return counts, int(lowered.sum()), only_one


def _apply(gdq, counts):
    top = int(counts.max()) if counts.size else 0
    for g in range(min(top, gdq.shape[1])):
        gdq[:, g] |= np.where(counts > g, _DNU, np.uint8(0))


def flag_rscd(
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    *,
    skip_int1: int,
    skip_int2p: int,
    nints: int | None = None,
    integration_start: int | None = None,
) -> dict:
    """Flag RSCD-affected initial groups DO_NOT_USE, in place.

    Parameters
    ----------
    groupdq : uint8 array (nints_in_data, ngroups, ny, nx); modified in place.
    pixeldq : uint32 array (ny, nx); FLUX_ESTIMATED added where the count was lowered.
    skip_int1, skip_int2p : ``group_skip1`` / ``group_skip`` from :func:`rscd_group_skip`.
    nints : NINTS of the whole exposure (default: the data's integrations).
    integration_start : 1-based INTSTART of a segmented exposure (None = 1).

    Returns
    -------
    dict with ``status`` ("COMPLETE" / "SKIPPED") and the ``meta.rscd`` values ``jwst``
    records: ``ngroups_skip_int1``, ``keep_bright_firstgroup_int1``,
    ``keep_groups_saturation_int1`` and the same with ``int2p`` (None when not set).
    """
    result = {
        "status": "SKIPPED",
        "ngroups_skip_int1": None,
        "keep_bright_firstgroup_int1": None,
        "keep_groups_saturation_int1": None,
        "ngroups_skip_int2p": None,
        "keep_bright_firstgroup_int2p": None,
        "keep_groups_saturation_int2p": None,
    }
    n_data, ngroups = groupdq.shape[:2]
    n_exp = n_data if nints is None else int(nints)
    start = 1 if integration_start is None else int(integration_start)
    skip1 = 1 if skip_int1 < 0 else int(skip_int1)
    skip2 = int(skip_int2p)
    if ngroups < 3:
        return result
    if ngroups <= 5:
        skip1 = skip2 = 1
    if ngroups < skip1 + 3:
        skip1 = max(0, ngroups - 3)
    if n_exp > 1 and ngroups < skip2 + 3:
        skip2 = max(0, ngroups - 3)

    if start == 1:
        block = groupdq[0:1]
        counts, lowered, one = _skip_counts(block, skip1, pixeldq)
        _apply(block, counts)
        result.update(
            ngroups_skip_int1=skip1,
            keep_bright_firstgroup_int1=one,
            keep_groups_saturation_int1=lowered,
        )
    if n_exp > 1:
        first = 1 if start == 1 else 0
        block = groupdq[first:]
        counts, lowered, one = _skip_counts(block, skip2, pixeldq)
        _apply(block, counts)
        result.update(
            ngroups_skip_int2p=skip2,
            keep_bright_firstgroup_int2p=one,
            keep_groups_saturation_int2p=lowered,
        )
    result["status"] = "COMPLETE"
    return result
