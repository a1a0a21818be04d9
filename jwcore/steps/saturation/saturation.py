"""Saturation flagging of ramps (the jwst ``saturation`` step, non-IRS2 readouts).

What is flagged, for every integration:

1. A group whose value reaches the pixel's threshold is SATURATED, and so is every
   later group of that pixel.  Values <= 0 get AD_FLOOR | DO_NOT_USE in that group only.
   Thresholds that are NaN, or whose reference DQ has NO_SAT_CHECK, are never reached
   (they are set above the 16-bit A/D limit) and NaN ones get NO_SAT_CHECK in PIXELDQ.
2. SATURATED is grown to the ``n_pix_grow_sat`` ring of neighbours (a square box,
   clipped at the array edges), group by group.
3. With a read pattern (frames averaged into groups), a group that is not yet flagged,
   whose next group is SATURATED and whose value exceeds the threshold scaled by the
   group's dilution ``mean(frames)/last frame`` is marked DO_NOT_USE (grown like 2.).
4. Also with a read pattern and at least three groups: group 2 gets DO_NOT_USE where
   group 3 is SATURATED but group 2 is not, the jump from group 1 to 2 is larger than
   ``(threshold - group1) / frames_in_group2`` (a saturating charge spill in the last
   frame of group 2), and the (bias-subtracted) group 1 extrapolated to the last frame
   of group 3 would stay below the threshold.
5. ZEROFRAME values reaching the threshold (grown) or <= 0 are set to 0.
"""

from __future__ import annotations

import numpy as np

from ... import dq
from .._ramp_util import row_blocks, run_parallel

__all__ = ["ATOD_LIMIT", "dilate", "flag_saturation", "flag_saturation_irs2"]

#: Largest value of the 16-bit A/D converter (DN).
ATOD_LIMIT = 65535.0

_SAT = dq.SATURATED
_DNU = dq.DO_NOT_USE
_FLOOR = dq.AD_FLOOR | dq.DO_NOT_USE
_NSC = dq.NO_SAT_CHECK


def dilate(mask, n: int):
    """Grow a boolean mask ``(..., ny, nx)`` by a ``(2n+1) x (2n+1)`` box, clipped at edges."""
    if n <= 0:
        return mask.copy()
    rows = mask.copy()
    for k in range(1, n + 1):
        rows[..., k:, :] |= mask[..., :-k, :]
        rows[..., :-k, :] |= mask[..., k:, :]
    out = rows.copy()
    for k in range(1, n + 1):
        out[..., :, k:] |= rows[..., :, :-k]
        out[..., :, :-k] |= rows[..., :, k:]
    return out


def _or_flag(target, mask, flag):
    """``target |= flag`` where ``mask`` (bool), in place, without a temporary int array of flags."""
    np.bitwise_or(target, np.multiply(mask, flag, dtype=target.dtype), out=target)


def flag_saturation(
    data,
    groupdq,
    pixeldq,
    sat_thresh,
    sat_dq,
    *,
    n_pix_grow_sat: int = 1,
    read_pattern=None,
    bias=None,
    zeroframe=None,
    atod_limit: float = ATOD_LIMIT,
):
    """Flag saturation and A/D floor in ``groupdq`` (in place).

    Parameters
    ----------
    data : ndarray (float32)
        SCI ramp ``(nints, ngroups, ny, nx)``; not modified.
    groupdq : ndarray (uint8)
        GROUPDQ, same shape; modified in place (SATURATED, AD_FLOOR, DO_NOT_USE).
    pixeldq : ndarray (uint32)
        PIXELDQ ``(ny, nx)``; modified in place: ``pixeldq |= sat_dq`` plus NO_SAT_CHECK
        where the threshold is NaN.
    sat_thresh : ndarray
        Saturation threshold ``(ny, nx)``, cut to the science subarray; not modified.
    sat_dq : ndarray
        Saturation reference DQ ``(ny, nx)`` in standard flags; not modified.
    n_pix_grow_sat : int
        Rings of neighbours that also get the flag (0: none).
    read_pattern : list of lists or None
        1-based frame numbers in each group (jwst's ``use_readpatt=True`` passes
        :func:`jwcore.steps._ramp_util.frame_read_pattern` ``(ngroups, NFRAMES)``);
        None disables steps 3 and 4 of the module description.
    bias : ndarray or None
        Superbias ``(ny, nx)`` cut to the subarray (NaNs kept), used only by step 4;
        None means 0.
    zeroframe : ndarray or None
        ZEROFRAME ``(nints, ny, nx)``; flagged values are set to 0 in place.
    atod_limit : float
        A/D limit; unchecked pixels get the threshold ``atod_limit + 1``.

    Returns
    -------
    (groupdq, pixeldq)
        The same arrays, updated.

    Notes
    -----
    Superstripe ramps (a different detector stripe per integration) are handled by
    calling this once per integration (``data[i:i+1]``) with that stripe's reference
    arrays.  NIRSpec IRS2 readouts: :func:`flag_saturation_irs2`.
    """
    nints, ngroups, ny, nx = data.shape
    thresh = np.array(sat_thresh, copy=True)
    nan_thresh = np.isnan(thresh)
    unchecked = ((np.asarray(sat_dq) & _NSC) == _NSC) | nan_thresh
    thresh[unchecked] = atod_limit + 1

    # -- 1. threshold crossings (carried forward) and A/D floor, in row blocks
    def forward(job):
        i, rows = job
        thr = thresh[rows]
        seen = np.zeros(thr.shape, dtype=bool)
        hit = np.empty(thr.shape, dtype=bool)
        for g in range(ngroups):
            plane = data[i, g, rows]
            gdq = groupdq[i, g, rows]
            np.greater_equal(plane, thr, out=hit)
            seen |= hit
            _or_flag(gdq, seen, _SAT)
            np.less_equal(plane, 0, out=hit)
            _or_flag(gdq, hit, _FLOOR)

    run_parallel(forward, [(i, r) for i in range(nints) for r in row_blocks(ny, nx)])

    # -- 2. grow SATURATED plane by plane (planes are independent once step 1 is done)
    if n_pix_grow_sat > 0:

        def grow(job):
            i, g = job
            gdq = groupdq[i, g]
            sat = (gdq & _SAT) != 0
            if sat.any():
                _or_flag(gdq, dilate(sat, n_pix_grow_sat), _SAT)

        run_parallel(grow, [(i, g) for i in range(nints) for g in range(ngroups)])

    if read_pattern is not None:
        # -- 3. groups diluted by frame averaging, just before a saturated group
        def diluted(job):
            i, g = job
            frames = read_pattern[g]
            factor = np.mean(frames) / frames[-1]
            if factor == 1:
                return
            limit = thresh.astype(np.float64) * factor
            limit[unchecked] = thresh[unchecked]
            gdq = groupdq[i, g]
            cand = data[i, g] >= limit
            cand &= (gdq & (_SAT | _DNU)) == 0
            cand &= (groupdq[i, g + 1] & _SAT) != 0
            if n_pix_grow_sat > 0 and cand.any():
                cand = dilate(cand, n_pix_grow_sat)
            _or_flag(gdq, cand, _DNU)

        # a group only reads the SATURATED bits of the next one, which this pass never
        # changes, so the groups can be done in any order
        run_parallel(diluted, [(i, g) for i in range(nints) for g in range(ngroups - 1)])

        # -- 4. charge spill saturating in the last frame of group 2
        if ngroups > 2:
            first_mean = float(np.mean(read_pattern[0]))
            third_last = read_pattern[2][-1]
            n_second = len(read_pattern[1])
            bias_arr = None if bias is None else np.asarray(bias)

            def spill_block(job):
                # element-wise, so row blocks (bounded float64 temporaries) change nothing
                i, rows = job
                g1 = data[i, 0, rows]
                thr = thresh[rows]
                offset = 0.0 if bias_arr is None else bias_arr[rows]
                expected = (g1 - offset).astype(np.float64) / first_mean * third_last + offset
                spill = expected < thr
                spill &= (data[i, 1, rows] - g1) > (thr - g1) / n_second
                spill &= (groupdq[i, 2, rows] & _SAT) != 0
                spill &= (groupdq[i, 1, rows] & _SAT) == 0
                _or_flag(groupdq[i, 1, rows], spill, _DNU)

            run_parallel(spill_block, [(i, r) for i in range(nints) for r in row_blocks(ny, nx)])

    # -- 5. ZEROFRAME: flagged values become 0
    if zeroframe is not None:
        for i in range(zeroframe.shape[0]):
            z = zeroframe[i]
            bad = z >= thresh
            if n_pix_grow_sat > 0 and bad.any():
                bad = dilate(bad, n_pix_grow_sat)
            bad |= z <= 0
            z[bad] = 0.0

    pixeldq |= np.asarray(sat_dq).astype(pixeldq.dtype)
    _or_flag(pixeldq, nan_thresh, _NSC)
    return groupdq, pixeldq


def flag_saturation_irs2(
    data,
    groupdq,
    pixeldq,
    sat_thresh,
    sat_dq,
    normal_rows,
    *,
    n_pix_grow_sat: int = 1,
    read_pattern=None,
    bias=None,
    zeroframe=None,
    atod_limit: float = ATOD_LIMIT,
):
    """Saturation flagging of NIRSpec IRS2 ramps (jwst's ``irs2_flag_saturation``), in place.

    Only the normal rows (``normal_rows``, a boolean mask along axis -2, see
    :func:`jwcore.steps._irs2.irs2_normal_rows`, reversed for a negative FASTAXIS) are examined; the
    interleaved reference rows are never flagged.  jwst's IRS2 variant differs from
    :func:`flag_saturation`:

    * a crossing in group ``g`` is grown first, then ORed into groups ``g`` and later
      (SATURATED flags already present in ``groupdq`` are not grown);
    * there is no dilution pass (step 3 of the module description);
    * the group-2 charge-spill test (read pattern and >= 3 groups) marks group 2
      SATURATED (grown), not DO_NOT_USE, and requires only that group 3 itself crosses
      the threshold.

    Parameters are as for :func:`flag_saturation`, except: ``sat_thresh`` and ``sat_dq``
    are in normal-pixel space (``normal_rows.sum()`` rows); ``bias`` is the superbias in
    IRS2 space (same rows as ``data``) or None; ``pixeldq`` is in IRS2 space and only
    its normal rows get ``sat_dq`` (and NO_SAT_CHECK for NaN thresholds).
    """
    normal_rows = np.asarray(normal_rows, dtype=bool)
    nints, ngroups = data.shape[:2]
    thresh = np.array(sat_thresh, copy=True)
    nan_thresh = np.isnan(thresh)
    unchecked = ((np.asarray(sat_dq) & _NSC) == _NSC) | nan_thresh
    thresh[unchecked] = atod_limit + 1
    offset = 0.0 if bias is None else np.asarray(bias)[..., normal_rows, :]
    spill_test = read_pattern is not None and ngroups > 2

    def grown(mask):
        return dilate(mask, n_pix_grow_sat) if n_pix_grow_sat > 0 and mask.any() else mask

    def one_integration(i):
        seen = np.zeros(thresh.shape, dtype=bool)
        for g in range(ngroups):
            sci = data[i, g][normal_rows]
            hit = sci >= thresh
            if g == 2 and spill_test:
                g1 = data[i, 0][normal_rows]
                expected = (g1 - offset).astype(np.float64) / float(np.mean(read_pattern[0]))
                expected = expected * read_pattern[2][-1] + offset
                spill = expected < thresh
                jump = (data[i, 1] - data[i, 0])[normal_rows]
                spill &= jump > (thresh - g1) / len(read_pattern[1])
                spill &= hit
                if spill.any():
                    gdq1 = groupdq[i, 1][normal_rows]
                    _or_flag(gdq1, grown(spill), _SAT)
                    groupdq[i, 1][normal_rows] = gdq1
            seen |= grown(hit)
            gdq = groupdq[i, g][normal_rows]
            _or_flag(gdq, seen, _SAT)
            _or_flag(gdq, sci <= 0, _FLOOR)
            groupdq[i, g][normal_rows] = gdq

        if zeroframe is not None:
            z = zeroframe[i][normal_rows]
            bad = grown(z >= thresh) | (z <= 0)
            z[bad] = 0.0
            zeroframe[i][normal_rows] = z

    run_parallel(one_integration, range(nints))

    pdq = pixeldq[normal_rows]
    pdq |= np.asarray(sat_dq).astype(pdq.dtype)
    _or_flag(pdq, nan_thresh, _NSC)
    pixeldq[normal_rows] = pdq
    return groupdq, pixeldq
