"""Dark-current subtraction of ramps (jwst ``dark_current`` step / stcal algorithm).

The dark reference is a ramp of single frames (NFRAMES=1, GROUPGAP=0 in practice),
``(ngroups_dark, ny, nx)`` or, for MIRI, per integration ``(nints_dark, ngroups_dark, ny, nx)``.
Science group ``g`` spans dark planes ``g*(NFRAMES+GROUPGAP)`` up to ``+NFRAMES``; their
mean is subtracted (or the planes themselves when the readout patterns agree).

Details kept from jwst:

* a dark shorter than the science ramp is extended linearly with the slope of its last
  two planes (this makes the whole dark float64 in jwst, so it is done in float64 here);
* NaNs in the dark count as 0;
* the step is skipped when the dark's NFRAMES or GROUPGAP exceed the science ones;
* the dark plane index counts dark *groups* whatever the dark's own NFRAMES;
* MIRI: science integration ``i`` uses dark integration ``i`` if it exists and
  INTSTART is 1, else the last one (when averaging, dark integrations beyond the
  science NINTS are never averaged and count as 0).

The frame-averaged dark is never materialised: each science group's dark plane is
built, subtracted from every integration, and dropped.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._ramp_util import run_parallel

__all__ = ["extrapolated_groups", "apply_dark", "averaged_dark"]


def extrapolated_groups(ngroups, nframes, groupgap, dark_ngroups, dark_nframes, dark_groupgap) -> int:
    """Number of planes jwst appends to a dark too short for the science ramp (0 if none)."""
    sci_frames = ngroups * nframes + (ngroups - 1) * groupgap
    dark_frames = dark_ngroups * dark_nframes + (dark_ngroups - 1) * dark_groupgap
    if sci_frames <= dark_frames:
        return 0
    return int(np.ceil((sci_frames - dark_frames + dark_groupgap) / (dark_nframes + dark_groupgap)))


class _DarkPlanes:
    """Access to the (possibly extended, NaN-free) planes of one dark integration."""

    def __init__(self, ramp, n_extra):
        self.ramp = ramp  # (ngroups_dark, ny, nx)
        self.n = ramp.shape[0]
        self.n_extra = n_extra
        self.length = self.n + n_extra
        if n_extra:
            self.last = ramp[-1].astype(np.float64)
            self.slope = (ramp[-1] - ramp[-2]).astype(np.float64)

    def _plane(self, k):
        if not self.n_extra:
            return self.ramp[k]
        if k < self.n:
            return self.ramp[k].astype(np.float64)
        return (k - self.n + 1) * self.slope + self.last

    @staticmethod
    def _nan_to_zero(a):
        bad = np.isnan(a)
        if bad.any():
            a = np.where(bad, np.zeros((), a.dtype), a)
        return a

    def plane(self, k):
        """Plane ``k`` (float32, or float64 when the dark was extended)."""
        if k < 0:
            k += self.length
        if not 0 <= k < self.length:
            raise IndexError(f"dark plane {k} is beyond the {self.length} available")
        return self._nan_to_zero(self._plane(k))

    def mean(self, start, stop):
        """Mean of planes ``start:stop`` (clipped like a slice; empty gives NaN)."""
        stop = min(stop, self.length)
        if not self.n_extra:
            stack = self.ramp[start:stop]
            if np.isnan(stack).any():
                stack = self._nan_to_zero(stack)
        else:
            ks = range(start, stop)
            stack = np.empty((len(ks),) + self.ramp.shape[1:], dtype=np.float64)
            for j, k in enumerate(ks):
                stack[j] = self._plane(k)
            stack = self._nan_to_zero(stack)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return stack.mean(axis=0)


def _group_plane(planes, g, nframes, groupgap, matched):
    """Dark plane subtracted from science group ``g``."""
    if matched:
        return planes.plane(g)
    start = g * (nframes + groupgap)
    if nframes == 1:
        plane = planes.plane(start)
    else:
        plane = planes.mean(start, start + nframes)
    # jwst stores the averaged dark in a float32 array
    return plane.astype(np.float32, copy=False)


def _combined_dq(dark, dark_dq):
    dark_dq = np.asarray(dark_dq)
    if dark.ndim == 4 and dark_dq.ndim == 4:
        return np.bitwise_or.reduce(dark_dq[:, 0], axis=0)
    return dark_dq


def apply_dark(
    data,
    pixeldq,
    dark,
    dark_dq,
    *,
    nframes: int,
    groupgap: int,
    dark_nframes: int,
    dark_groupgap: int,
    int_start: int | None = 1,
) -> bool:
    """Subtract the dark from a ramp, in place.

    Parameters
    ----------
    data : ndarray (float32)
        SCI ramp ``(nints, ngroups, ny, nx)``; modified in place.
    pixeldq : ndarray (uint32)
        PIXELDQ ``(ny, nx)``; modified in place: ``pixeldq |= dark DQ`` (for a 4-D MIRI
        dark DQ, the OR over its integrations of the first group).
    dark : ndarray or array-like
        Dark SCI ``(ngroups_dark, ny, nx)`` or ``(nints_dark, ngroups_dark, ny, nx)``, cut
        to the science subarray; not modified.  Anything with ``ndim``/``shape`` whose
        ``dark[k]`` and ``dark[a:b]`` give arrays along the first axis works too (e.g. a
        :class:`jwcore.datamodel.lazy.LazyArray`: planes are then read as they are used).
    dark_dq : ndarray
        Dark DQ in standard flags: ``(ny, nx)`` or, with a 4-D dark, 4-D.
    nframes, groupgap : int
        Science NFRAMES and GROUPGAP.
    dark_nframes, dark_groupgap : int
        The dark's NFRAMES and GROUPGAP.
    int_start : int or None
        Science INTSTART (1-based first integration of a segment; None means 1).

    Returns
    -------
    bool
        False when jwst skips the step (dark NFRAMES or GROUPGAP larger than the
        science ones): nothing is modified.  True otherwise.
    """
    if int_start is None:
        int_start = 1
    nints, ngroups = data.shape[:2]
    if not hasattr(dark, "ndim"):
        dark = np.asarray(dark)
    four_d = dark.ndim == 4
    dark_ngroups = dark.shape[1] if four_d else dark.shape[0]
    n_extra = extrapolated_groups(ngroups, nframes, groupgap, dark_ngroups, dark_nframes, dark_groupgap)

    if dark_nframes > nframes or dark_groupgap > groupgap:
        return False

    matched = nframes == dark_nframes and groupgap == dark_groupgap
    pixeldq |= _combined_dq(dark, dark_dq).astype(pixeldq.dtype)

    if not four_d:
        planes = _DarkPlanes(dark, n_extra)

        def work(g):
            plane = _group_plane(planes, g, nframes, groupgap, matched)
            for i in range(nints):
                data[i, g] -= plane

        run_parallel(work, range(ngroups))
        return True

    dark_nints = dark.shape[0]
    averaged_ints = dark_nints if matched else min(dark_nints, nints)
    per_int = [_DarkPlanes(dark[k], n_extra) for k in range(dark_nints)]

    def work(job):
        i, g = job
        k = i if (i < dark_nints and int_start == 1) else dark_nints - 1
        if k >= averaged_ints:
            return  # jwst leaves that averaged dark integration at 0
        data[i, g] -= _group_plane(per_int[k], g, nframes, groupgap, matched)

    run_parallel(work, [(i, g) for i in range(nints) for g in range(ngroups)])
    return True


def averaged_dark(dark, ngroups, nframes, groupgap, *, dark_nframes=1, dark_groupgap=0, nints=None):
    """The dark ramp as jwst would subtract it (for writing an optional dark product).

    Returns a float32 array ``(ngroups, ny, nx)`` (or ``(nints_dark, ngroups, ny, nx)``
    for a 4-D dark; ``nints`` limits which integrations are averaged, as in jwst).
    Holds the whole averaged dark in memory; :func:`apply_dark` does not need it.
    """
    dark = np.asarray(dark)
    four_d = dark.ndim == 4
    dark_ngroups = dark.shape[1] if four_d else dark.shape[0]
    n_extra = extrapolated_groups(ngroups, nframes, groupgap, dark_ngroups, dark_nframes, dark_groupgap)
    if not four_d:
        planes = _DarkPlanes(dark, n_extra)
        return np.stack([_group_plane(planes, g, nframes, groupgap, False) for g in range(ngroups)])
    out = np.zeros((dark.shape[0], ngroups) + dark.shape[2:], dtype=np.float32)
    n_avg = dark.shape[0] if nints is None else min(dark.shape[0], nints)
    for k in range(n_avg):
        planes = _DarkPlanes(dark[k], n_extra)
        for g in range(ngroups):
            out[k, g] = _group_plane(planes, g, nframes, groupgap, False)
    return out
