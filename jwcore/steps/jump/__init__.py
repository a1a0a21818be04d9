"""Jump detection: the pure algorithm behind jwst's ``jump`` step.

:func:`detect_jumps` takes the ramp and its DQ arrays plus the step parameters (names and
defaults of jwst 3.0's ``JumpStep`` spec) and returns the new GROUPDQ.  It reproduces what
jwst's step hands to stcal 1.20's ``detect_jumps_data`` and what that computes with the default
``maximum_cores='1'``:

1. two-point difference detection (:mod:`.twopoint`): iterative clipping for ramps with fewer
   than ``min_diffs_single_pass`` usable differences, one pass otherwise, astropy sigma clipping
   across integrations when there are ``minimum_sigclip_groups`` integrations (or groups with
   ``only_use_ints=False``); then neighbour flagging and after-jump flagging;
2. JUMP removed where the group is also SATURATED or DO_NOT_USE;
3. snowballs (``expand_large_events``) and MIRI showers (``find_showers``) in
   :mod:`.large_events`.

Differences from the peer that are by design: the inputs are not modified unless asked
(``in_place=True``, as the peer updates the group and pixel DQ of its model), and
parallelism uses threads over row blocks
(``max_workers``) instead of processes; the result does not depend on ``max_workers``.
"""

from __future__ import annotations

import numpy as np

from jwcore import dq

from .large_events import flag_showers, flag_snowballs
from .twopoint import TwoPointConfig, find_crs, flat_nonzero

__all__ = ["detect_jumps", "JumpResult"]

_JUMP = np.uint8(dq.JUMP_DET)
_SAT_OR_DNU = np.uint8(dq.SATURATED | dq.DO_NOT_USE)

# Step parameters that are accepted for compatibility and have no effect here.
_IGNORED = {"maximum_cores", "use_ellipses"}


class JumpResult(tuple):
    """``(groupdq, pixeldq, n_primary_jumps, n_extended_events)`` from ``return_info=True``."""

    __slots__ = ()

    def __new__(cls, groupdq, pixeldq, n_primary, n_extended):
        return super().__new__(cls, (groupdq, pixeldq, n_primary, n_extended))

    groupdq = property(lambda self: self[0])
    pixeldq = property(lambda self: self[1])
    n_primary = property(lambda self: self[2])
    n_extended = property(lambda self: self[3])


def detect_jumps(
    data,
    groupdq,
    pixeldq,
    readnoise,
    gain,
    *,
    frame_time,
    group_time,
    nframes,
    rejection_threshold=4.0,
    three_group_rejection_threshold=6.0,
    four_group_rejection_threshold=5.0,
    flag_4_neighbors=True,
    max_jump_to_flag_neighbors=1000.0,
    min_jump_to_flag_neighbors=10.0,
    after_jump_flag_dn1=0.0,
    after_jump_flag_time1=0.0,
    after_jump_flag_dn2=0.0,
    after_jump_flag_time2=0.0,
    minimum_groups=3,
    minimum_sigclip_groups=100,
    only_use_ints=True,
    min_diffs_single_pass=10,
    expand_large_events=False,
    min_sat_area=1.0,
    min_jump_area=5.0,
    expand_factor=2.0,
    use_ellipses=False,
    sat_required_snowball=True,
    min_sat_radius_extend=2.5,
    sat_expand=2,
    edge_size=25,
    mask_snowball_core_next_int=True,
    snowball_time_masked_next_int=4000,
    max_extended_radius=200,
    find_showers=False,
    max_shower_amplitude=4.0,
    extend_snr_threshold=1.2,
    extend_min_area=90,
    extend_inner_radius=1.0,
    extend_outer_radius=2.6,
    extend_ellipse_expand_ratio=1.1,
    time_masked_after_shower=15.0,
    max_workers=1,
    return_info=False,
    in_place=False,
    **kw,
):
    """Detect jumps in a ramp; return the new GROUPDQ (uint8, same shape as ``data``).

    Parameters
    ----------
    data : ndarray, float32, (nints, ngroups, ny, nx)
        Ramp in DN.
    groupdq : ndarray, uint8, same shape
        Input group DQ (not modified).
    pixeldq : ndarray, uint32, (ny, nx)
        Input pixel DQ (not modified; see ``return_info`` for the updated copy).
    readnoise, gain : ndarray, float32, (ny, nx)
        CDS read noise (DN) and gain (e/DN).
    frame_time : float
        Accepted for the step wrapper; unused (as in the peer).
    group_time : float
        Seconds per group: converts the ``*_time*`` parameters into groups.
    nframes : int
        Frames averaged per group (``meta.exposure.nframes``).
    rejection_threshold, three_group_rejection_threshold, four_group_rejection_threshold
        Sigma thresholds with 4+, 2 and 3 usable differences (per pixel, all integrations).
    flag_4_neighbors, max_jump_to_flag_neighbors, min_jump_to_flag_neighbors
        Flag the 4 neighbours of jumps whose sigma lies strictly between min and max.
    after_jump_flag_dn1, after_jump_flag_time1, after_jump_flag_dn2, after_jump_flag_time2
        Jumps of at least ``dn`` DN (times the median gain) also flag the groups within
        ``time`` seconds after them (``int(time // group_time)`` groups).
    minimum_groups
        Accepted for the step wrapper.  The peer's single-process path always uses 3, so this
        does too (matching jwst with ``maximum_cores='1'``).
    minimum_sigclip_groups, only_use_ints
        Switch to sigma clipping across integrations when ``nints >= minimum_sigclip_groups``
        (or, with ``only_use_ints=False``, when the usable groups of all integrations reach it).
    min_diffs_single_pass
        With at least this many usable differences the one-pass test replaces iterative
        clipping.
    expand_large_events, min_sat_area, min_jump_area, expand_factor, sat_required_snowball,
    min_sat_radius_extend, sat_expand, edge_size, mask_snowball_core_next_int,
    snowball_time_masked_next_int, max_extended_radius
        Snowball flagging (jwst step units: ``sat_expand`` and ``max_extended_radius`` are
        doubled before use, as the jwst step does).
    use_ellipses
        Deprecated in jwst; ignored.
    find_showers, extend_snr_threshold, extend_min_area, extend_inner_radius,
    extend_outer_radius, extend_ellipse_expand_ratio, time_masked_after_shower
        MIRI shower flagging.
    max_shower_amplitude
        Accepted but, exactly as in jwst 3.0, not used: the peer's limit is its built-in
        6 DN/s times ``group_time``.
    max_workers : int
        Threads over row blocks for the two-point detection.
    in_place : bool
        Flag jumps directly in ``groupdq`` (and the bad-gain flags in ``pixeldq``) when they
        are C-contiguous uint8 / uint32 arrays of the right shape, instead of in copies
        (the returned arrays are then those same objects).  Not with ``find_showers``,
        which needs the input group DQ as it was.  Saves a copy of the 4-D group DQ.
    return_info : bool
        Return a :class:`JumpResult` ``(groupdq, pixeldq, n_primary, n_extended)`` instead:
        pixeldq gains NO_GAIN_VALUE | DO_NOT_USE where the gain is <= 0 or NaN, n_primary is
        the number of primary jump flags (-99 when detection was skipped for lack of usable
        groups) and n_extended the number of snowballs or showers.

    Returns
    -------
    ndarray
        The new group DQ.  With ``ngroups <= 2`` it is an unchanged copy (jwst skips the step).
    """
    unknown = set(kw) - _IGNORED
    if unknown:
        raise TypeError(f"detect_jumps() got unexpected keyword arguments: {sorted(unknown)}")

    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError("data must be 4-D (nints, ngroups, ny, nx)")
    if data.dtype != np.float32:
        data = data.astype(np.float32)
    nints, ngroups, ny, nx = data.shape
    direct = (in_place and not find_showers and isinstance(groupdq, np.ndarray)
              and groupdq.dtype == np.uint8 and groupdq.flags.c_contiguous and groupdq.flags.writeable)
    gdq = groupdq if direct else np.array(groupdq, dtype=np.uint8, copy=True, order="C")
    if gdq.shape != data.shape:
        raise ValueError("groupdq must have the shape of data")
    direct_p = (in_place and isinstance(pixeldq, np.ndarray) and pixeldq.dtype == np.uint32
                and pixeldq.flags.writeable)
    pdq = pixeldq if direct_p else np.array(pixeldq, dtype=np.uint32, copy=True)
    gain = np.asarray(gain, dtype=np.float32)
    readnoise = np.asarray(readnoise, dtype=np.float32)

    with np.errstate(invalid="ignore"):
        bad_gain = (gain <= 0.0) | np.isnan(gain)
    pdq[bad_gain] |= np.uint32(dq.NO_GAIN_VALUE | dq.DO_NOT_USE)

    if ngroups <= 2:
        return JumpResult(gdq, pdq, 0, 0) if return_info else gdq

    rn_e = readnoise * gain
    rn2 = rn_e**2
    n1 = int(after_jump_flag_time1 // group_time)
    n2 = int(after_jump_flag_time2 // group_time)
    # the after-jump thresholds are DN times the median gain (only needed when used)
    med_gain = np.nanmedian(gain) if (n1 > 0 or n2 > 0) else np.float32(1.0)
    cfg = TwoPointConfig(
        rejection_threshold=rejection_threshold,
        three_group_rejection_threshold=three_group_rejection_threshold,
        four_group_rejection_threshold=four_group_rejection_threshold,
        flag_4_neighbors=flag_4_neighbors,
        max_jump_to_flag_neighbors=max_jump_to_flag_neighbors,
        min_jump_to_flag_neighbors=min_jump_to_flag_neighbors,
        after_jump_flag_e1=np.float32(after_jump_flag_dn1) * med_gain,
        after_jump_flag_n1=n1,
        after_jump_flag_e2=np.float32(after_jump_flag_dn2) * med_gain,
        after_jump_flag_n2=n2,
        minimum_groups=3,
        minimum_sigclip_groups=minimum_sigclip_groups,
        only_use_ints=only_use_ints,
        min_diffs_single_pass=min_diffs_single_pass,
        nframes=nframes,
    )
    n_primary = find_crs(data, gdq, gain, rn2, cfg, max_workers=max_workers)
    detection_ran = n_primary != -99

    # JUMP is redundant on groups that are already SATURATED or DO_NOT_USE
    for i in range(nints):
        for g in range(ngroups):
            plane = gdq[i, g].reshape(-1)
            flagged = flat_nonzero(plane, _JUMP)
            redundant = flagged[(plane[flagged] & _SAT_OR_DNU) != 0]
            plane[redundant] ^= _JUMP

    n_extended = 0
    if expand_large_events:
        n_extended = flag_snowballs(
            gdq,
            min_jump_area=min_jump_area,
            min_sat_area=min_sat_area,
            expand_factor=expand_factor,
            sat_required_snowball=sat_required_snowball,
            min_sat_radius_extend=min_sat_radius_extend,
            sat_expand=sat_expand * 2,
            edge_size=edge_size,
            max_extended_width=max_extended_radius * 2,
            mask_persist_grps_next_int=mask_snowball_core_next_int,
            persist_grps_flagged=int(snowball_time_masked_next_int // group_time),
        )
    if find_showers:
        gdq, n_extended = flag_showers(
            data,
            groupdq if detection_ran else None,
            gdq,
            pdq,
            gain,
            rn_e,
            nframes=nframes,
            extend_snr_threshold=extend_snr_threshold,
            extend_min_area=extend_min_area,
            extend_inner_radius=extend_inner_radius,
            extend_outer_radius=extend_outer_radius,
            extend_ellipse_expand_ratio=extend_ellipse_expand_ratio,
            grps_masked_after_shower=int(time_masked_after_shower // group_time),
            max_extended_width=max_extended_radius * 2,
            max_shower_amplitude=6 * group_time,
            minimum_sigclip_groups=minimum_sigclip_groups,
        )
    if return_info:
        return JumpResult(gdq, pdq, n_primary, n_extended)
    return gdq
