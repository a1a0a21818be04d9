"""Ramp segments of one integration for a block of pixels.

A segment is a run of consecutive usable groups (group DQ zero once PERSISTENCE is
ignored).  A group flagged with JUMP_DET alone that is directly followed by a usable
group opens the next segment (the jump group is its first sample).  Any other flagged
group ends the current segment.

Pruning follows the ramp-fitting rule: when a ramp has a segment of two or more groups,
its one-group segments are dropped; when all its segments are one group long, only the
first one is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jwcore import dq


@dataclass
class Segments:
    """Kept segments of a ``(ngroups, npix)`` block.

    ``flat``/``start``/``pix``/``length`` describe the segments of two or more groups, in
    (start group, pixel) order, with ``flat = start * npix + pix``.  ``one_pix`` and
    ``one_start`` list the pixels whose only kept segment is a single group.
    ``count`` is the number of kept segments per pixel; ``list_size`` the segment-list
    size ramp fitting reports for the optional product's segment axis (for ramps with
    only one-group segments it is the number of those segments, although one is used).
    """

    flat: np.ndarray
    start: np.ndarray
    pix: np.ndarray
    length: np.ndarray
    one_pix: np.ndarray
    one_start: np.ndarray
    count: np.ndarray
    kept_mask: np.ndarray | None = None  # (ngroups, npix) bool, long segment starts
    list_size: np.ndarray | None = None


def find_segments(gdq: np.ndarray, exclude: np.ndarray | None = None, want_sizes: bool = False) -> Segments:
    """Segments of ``gdq`` (uint8 ``(ngroups, npix)``); ``exclude`` pixels get none."""
    ngroups, npix = gdq.shape
    qn = gdq & np.uint8(0xFF & ~dq.PERSISTENCE)
    good = qn == 0
    member = good.copy()
    if ngroups > 1:
        member[:-1] |= (qn[:-1] == dq.JUMP_DET) & good[1:]
    del qn
    if exclude is not None:
        member &= ~exclude[None, :]

    # cont[g]: group g extends the segment holding group g-1.
    cont = np.zeros_like(member)
    if ngroups > 1:
        np.logical_and(member[1:], member[:-1], out=cont[1:])
        cont[1:] &= good[1:]
    del good
    start = member & ~cont

    # runlen[g]: number of segment groups from g to the end of its segment.
    dtype = np.int16 if ngroups < 32000 else np.int32
    runlen = np.zeros((ngroups, npix), dtype=dtype)
    runlen[-1] = member[-1]
    for g in range(ngroups - 2, -1, -1):
        row = runlen[g]
        np.multiply(runlen[g + 1], cont[g + 1], out=row)
        row += 1
        row *= member[g]
    del cont, member

    maxrun = runlen.max(axis=0)
    long_start = start & (runlen >= 2)
    flat = np.flatnonzero(long_start)
    seg_start = flat // npix
    pix = flat - seg_start * npix
    length = runlen.reshape(-1)[flat].astype(np.int64)

    one_pix = np.flatnonzero(maxrun == 1)
    if one_pix.size:
        one_start = np.argmax(start[:, one_pix], axis=0)
    else:
        one_start = np.zeros(0, dtype=np.int64)

    count = np.bincount(pix, minlength=npix)
    count[one_pix] += 1

    list_size = None
    if want_sizes:
        list_size = count.copy()
        if one_pix.size:
            list_size[one_pix] = np.count_nonzero(start[:, one_pix], axis=0)

    return Segments(
        flat=flat,
        start=seg_start,
        pix=pix,
        length=length,
        one_pix=one_pix,
        one_start=one_start,
        count=count,
        kept_mask=long_start if want_sizes else None,
        list_size=list_size,
    )
