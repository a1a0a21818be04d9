"""Ramp fitting by ordinary least squares with optimal weighting.

This is the algorithm of jwst's ``ramp_fit`` step with ``algorithm="OLS_C"`` and
``weighting="optimal"`` (stcal 1.20), computed with numpy over row blocks of pixels.

Outline (per pixel):

* **Segments** - runs of usable groups split at flagged groups; a JUMP_DET-only group
  starts the following segment (see :mod:`._segments`).  One-group segments are used only
  when a ramp has nothing longer, and then only the first.  An integration whose first
  group is SATURATED is not fitted (DO_NOT_USE | SATURATED).
* **Segment slope** - least squares with weights ``|(j - mid)/mid| ** P`` (``j`` the group
  index in the segment, ``mid`` its centre), the power ``P`` taken from the segment's
  signal-to-noise ratio ``S g / sqrt(R**2 + S g)`` (``S`` last minus first sample,
  ``g`` the gain): 0, 0.4, 1, 3, 6 or 10 at SNR thresholds 5, 10, 20, 50, 100.
  Two-group segments use the difference of the two groups, one-group segments the group
  value over the group time (over ``(nframes + 1) * frame_time / 2`` when only the first
  group of the ramp is usable and one-group suppression is off).
* **Variances** - read noise ``12 R**2 / ((n**3 - n) tgroup**2 gain**2)`` with
  ``R = readnoise * gain / sqrt(2 nframes)``; Poisson ``(rate + dark) / (tgroup gain (n-1))``
  where ``rate`` is the median of the usable first differences, averaged over
  integrations.
* **Integration** - ``1/var`` sums over segments; the slope is the read-noise-variance
  weighted mean of the segment slopes (stcal since JP-4318; the manual's text still says
  combined variance); ``err = sqrt(1/sum(1/(var_p + var_r)))``.
* **Exposure** - the same sums over all segments of all integrations;
  ``err = sqrt(var_poisson + var_rnoise)``.
* **DQ** - the pixel DQ (plus DO_NOT_USE | NO_GAIN_VALUE where the gain is not positive),
  OR-ed with JUMP_DET / PERSISTENCE when any group has them, SATURATED when any group is
  saturated, DO_NOT_USE when an integration (or all integrations, for the exposure) has
  no usable group.  DO_NOT_USE or (fully) SATURATED products get NaN slopes and zero
  variances.
* **CHARGELOSS** - groups flagged CHARGELOSS are refitted as usable only to recompute the
  read-noise variance (integration and exposure) of the affected ramps.
* **ZEROFRAME** - with a zero frame (the first frame read after the reset, ``(nints, ny,
  nx)``) and one-group suppression off, an integration of a pixel with no exactly-clean
  group (group DQ 0; e.g. saturated from the first group on) and a non-zero zero-frame
  value is fitted from the zero frame instead: its first group is taken as clean with the
  zero-frame value, a one-group segment over the frame time.  Its median rate is the
  zero-frame value over the frame time (over ``(nframes + 1) * frame_time / 2`` for
  one-group data).  The integration keeps SATURATED from its saturated groups (not for
  one-group data) but gets no DO_NOT_USE; JUMP_DET / PERSISTENCE / CHARGELOSS and cosmic-ray
  magnitudes come from the original group DQ and data.  Zero values mark zero-frame pixels
  that earlier steps found unusable (saturated, A/D floor).

Variances above 1e6 are reset to zero.  UNRELIABLE_SLOPE is never set (nor is it by
stcal's OLS_C).  Per-segment arithmetic is float64, as in stcal's C code; the 4-D inputs
are not copied (unless they are not C-contiguous float32 / uint8); a row block whose ramps
use the zero frame is copied (one integration of the block) to substitute it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from jwcore import dq
from jwcore.steps._ramp_util import run_parallel

from ._median import NETWORK_MAX, nan_median_axis0
from ._segments import find_segments
from .miri import miri_group_range

__all__ = ["RampFitProduct", "RampFitOpt", "RampFitResult", "fit_ramps", "default_block_rows"]

LARGE_VARIANCE_THRESHOLD = 1.0e6

_SNR_EDGES = np.array([5.0, 10.0, 20.0, 50.0, 100.0])
_POWERS = np.array([0.0, 0.4, 1.0, 3.0, 6.0, 10.0], dtype=np.float32)
_SQRT2_OPT = 1.41421356  # the constant the optional product's 2-group sigma uses

_U8 = np.uint8
_DNU8, _SAT8, _JUMP8 = _U8(dq.DO_NOT_USE), _U8(dq.SATURATED), _U8(dq.JUMP_DET)
_PERS8, _CHG8 = _U8(dq.PERSISTENCE), _U8(dq.CHARGELOSS)
_NOT_PERS8 = _U8(0xFF & ~dq.PERSISTENCE)
_DNU, _SAT = np.uint32(dq.DO_NOT_USE), np.uint32(dq.SATURATED)
_NO_GAIN = np.uint32(dq.NO_GAIN_VALUE)
_INVALID = np.uint32(dq.DO_NOT_USE | dq.SATURATED)

#: Default float32 bytes of data (ngroups x rows x ncols) handled by one block.
BLOCK_BYTES = 2 << 20

#: Keep a block's suppressed group DQ between the two passes when at most this large.
_DQ_CACHE_BYTES = 32 << 20


class RampFitProduct(NamedTuple):
    """Fitted rates: 2-D for the exposure (``rate``), 3-D per integration (``rateints``)."""

    slope: np.ndarray
    dq: np.ndarray
    var_poisson: np.ndarray
    var_rnoise: np.ndarray
    err: np.ndarray


class RampFitOpt(NamedTuple):
    """Per-segment results (``fitopt``): 4-D ``(nints, nsegs, ny, nx)`` except
    ``pedestal`` (``(nints, ny, nx)``) and ``crmag`` (``(nints, ncr, ny, nx)``).

    ``nsegs`` is stcal's: the most kept segments of any ramp, except that a ramp made only
    of one-group segments counts all of them although only its first is fitted.
    """

    slope: np.ndarray
    sigslope: np.ndarray
    var_poisson: np.ndarray
    var_rnoise: np.ndarray
    yint: np.ndarray
    sigyint: np.ndarray
    pedestal: np.ndarray
    weights: np.ndarray
    crmag: np.ndarray


@dataclass
class RampFitResult:
    """Result of :func:`fit_ramps`.

    ``image`` and ``integ`` are ``None`` when the first group of every ramp of every
    integration is saturated (nothing can be fitted; jwst then produces no rate files).
    """

    image: RampFitProduct | None
    integ: RampFitProduct | None
    opt: RampFitOpt | None = None


def default_block_rows(ngroups: int, ncols: int, block_bytes: int = BLOCK_BYTES) -> int:
    """Rows per block so that one integration's float32 block is about ``block_bytes``."""
    return max(1, block_bytes // max(1, 4 * ngroups * ncols))


# --------------------------------------------------------------------------------------
# Optimal-weight tables


def _weight_table(length: int) -> np.ndarray:
    """Optimal weights ``(npowers, length)`` of a segment (without the 1/R**2 factor).

    The weight ``|(j - mid)/mid|`` is raised to the power in single precision (a double
    power rounded to float32 reproduces C's ``powf``; numpy's float32 power does not).
    """
    mid = (length - 1) / 2.0
    base = np.abs((np.arange(length, dtype=np.float64) - mid) * (1.0 / mid)).astype(np.float32)
    powered = np.power(base.astype(np.float64)[None, :], _POWERS.astype(np.float64)[:, None])
    return powered.astype(np.float32).astype(np.float64)


def _slope_coefficients(length: int) -> np.ndarray:
    """Coefficients ``c`` ``(npowers, length)``: segment slope per group = ``sum c_j d_j``.

    With symmetric weights the weighted least-squares slope is
    ``sum w (j - mid) d / sum w (j - mid)**2``.
    """
    w = _weight_table(length)
    x = np.arange(length, dtype=np.float64) - (length - 1) / 2.0
    return w * x / (w * x * x).sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------------------
# Driver


@dataclass
class _Ctx:
    data: np.ndarray  # full 4-D input; groups g0:g1 are fitted
    groupdq: np.ndarray
    g0: int
    g1: int
    pixeldq: np.ndarray
    readnoise: np.ndarray
    gain: np.ndarray
    dark: np.ndarray | None
    zeroframe: np.ndarray | None  # (nints, ny, nx) float32; None when absent or suppressing
    nints: int
    ngroups: int
    ny: int
    nx: int
    frame_time: float
    group_time: float
    one_group_time: float
    ped_tmp: float
    rn_scale: float
    suppress: bool
    save_opt: bool
    coefs: dict
    weights: dict
    out_image: list
    out_integ: list
    out_pedestal: np.ndarray | None

    def block_data(self, i: int, r0: int, r1: int) -> np.ndarray:
        """Fitted groups of integration ``i``, rows ``r0:r1``, as a ``(ngroups, npix)`` view."""
        return self.data[i, self.g0 : self.g1, r0:r1, :].reshape(self.ngroups, -1)

    def flat_data(self, i: int) -> np.ndarray:
        """Integration ``i`` flattened from its first fitted group (index ``g*ny*nx + pix``)."""
        return self.data[i].reshape(-1)[self.g0 * self.ny * self.nx :]

    def input_dq(self, i: int, r0: int, r1: int) -> np.ndarray:
        """Fitted groups' input DQ of integration ``i``, rows ``r0:r1`` (a view)."""
        return self.groupdq[i, self.g0 : self.g1, r0:r1, :].reshape(self.ngroups, -1)


def fit_ramps(
    data,
    groupdq,
    pixeldq,
    readnoise,
    gain,
    *,
    frame_time,
    group_time,
    nframes,
    groupgap,
    dropframes1=0,
    weighting="optimal",
    suppress_one_group=True,
    save_opt=False,
    max_workers=1,
    block_rows=None,
    average_dark_current=None,
    trim_unused_groups=False,
    zeroframe=None,
) -> RampFitResult:
    """Fit the ramps of an exposure (OLS with optimal weighting).

    Parameters
    ----------
    data : float32 ``(nints, ngroups, ny, nx)``, DN.
    groupdq : uint8, same shape.
    pixeldq : uint32 ``(ny, nx)``.
    readnoise : float32 ``(ny, nx)``, CDS read noise in DN.
    gain : float32 ``(ny, nx)``, e/DN.
    frame_time, group_time : seconds (TFRAME, TGROUP).
    nframes, groupgap, dropframes1 : NFRAMES, GROUPGAP, DRPFRMS1 (``None`` means 0).
    weighting : only ``"optimal"``.
    suppress_one_group : treat ramps with a single usable group as having none
        (ignored when ``ngroups == 1``).
    save_opt : also return the per-segment product.
    max_workers : threads over row blocks.
    block_rows : rows per block (default: :func:`default_block_rows`).
    average_dark_current : optional ``(ny, nx)`` (or scalar) dark rate added to the
        Poisson-variance rate; zero when omitted.
    trim_unused_groups : True (MIRI's readout layout) drops the leading (and last) groups that are DO_NOT_USE in
        every pixel before fitting, as ramp fitting does for MIRI (see :mod:`.miri`);
        other values are ignored.
    zeroframe : optional float32 ``(nints, ny, nx)``, the ZEROFRAME (DN, 0 where unusable).
        Used only when one-group suppression is off (``suppress_one_group=False``, or one
        group): ramps without any clean group are then fitted from it (see the module
        description).

    Returns
    -------
    RampFitResult
        ``image`` (2-D rate), ``integ`` (3-D rateints) and ``opt`` (with ``save_opt``).
        ``image`` and ``integ`` are ``None`` when no integration can be fitted: every
        first group saturated (or, for MIRI, fewer than two groups left).

    Inputs are not modified.
    """
    if weighting != "optimal":
        raise ValueError(f"only 'optimal' weighting is supported, not {weighting!r}")
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError("data must be 4-D (nints, ngroups, ny, nx)")
    data = np.ascontiguousarray(data, dtype=np.float32)
    nints, ngroups, ny, nx = data.shape
    groupdq = np.ascontiguousarray(groupdq, dtype=np.uint8)
    if groupdq.shape != data.shape:
        raise ValueError("groupdq must have the shape of data")
    pixeldq = np.asarray(pixeldq, dtype=np.uint32)
    readnoise = np.asarray(readnoise, dtype=np.float32)
    gain = np.asarray(gain, dtype=np.float32)
    for name, arr in (("pixeldq", pixeldq), ("readnoise", readnoise), ("gain", gain)):
        if arr.shape != (ny, nx):
            raise ValueError(f"{name} must have shape {(ny, nx)}, not {arr.shape}")
    dark = None
    if average_dark_current is not None:
        dark = np.broadcast_to(np.asarray(average_dark_current, dtype=np.float32), (ny, nx))

    g0, g1 = 0, ngroups
    if trim_unused_groups and ngroups > 1:
        kept = miri_group_range(groupdq)
        if kept is None:
            return RampFitResult(None, None, None)
        g0, g1 = kept
    # Suppression is decided on the input group count (off for one-group data).
    suppress = bool(suppress_one_group) and ngroups > 1
    ngroups = g1 - g0
    if zeroframe is not None:
        zeroframe = np.asarray(zeroframe, dtype=np.float32)
        if zeroframe.shape != (nints, ny, nx):
            raise ValueError(f"zeroframe must have shape {(nints, ny, nx)}, not {zeroframe.shape}")
        if suppress:
            zeroframe = None  # only ramps with no clean group use it, and suppression leaves none

    # Nothing to fit when every ramp starts saturated.
    if np.all(groupdq[:, g0] & _SAT8):
        return RampFitResult(None, None, None)

    nframes = int(nframes)
    groupgap = int(groupgap)
    dropframes1 = 0 if dropframes1 is None else int(dropframes1)
    # Times are single-precision exposure keywords.
    ft = float(np.float32(frame_time))
    gt = float(np.float32(group_time))

    ctx = _Ctx(
        data=data,
        groupdq=groupdq,
        g0=g0,
        g1=g1,
        pixeldq=pixeldq,
        readnoise=readnoise,
        gain=gain,
        dark=dark,
        zeroframe=zeroframe,
        nints=nints,
        ngroups=ngroups,
        ny=ny,
        nx=nx,
        frame_time=ft,
        group_time=gt,
        one_group_time=(float(np.float32(nframes)) + 1.0) * ft / 2.0,
        ped_tmp=((nframes + 1) / 2.0 + dropframes1) / (nframes + groupgap),
        rn_scale=math.sqrt(2.0 * nframes),
        suppress=suppress,
        save_opt=bool(save_opt),
        coefs={n: _slope_coefficients(n) for n in range(3, ngroups + 1)},
        weights={n: _weight_table(n) for n in range(3, ngroups + 1)} if save_opt else {},
        out_image=[
            np.empty((ny, nx), np.float32),
            np.empty((ny, nx), np.uint32),
            np.empty((ny, nx), np.float32),
            np.empty((ny, nx), np.float32),
            np.empty((ny, nx), np.float32),
        ],
        out_integ=[
            np.empty((nints, ny, nx), np.float32),
            np.empty((nints, ny, nx), np.uint32),
            np.empty((nints, ny, nx), np.float32),
            np.empty((nints, ny, nx), np.float32),
            np.empty((nints, ny, nx), np.float32),
        ],
        out_pedestal=np.zeros((nints, ny, nx), np.float32) if save_opt else None,
    )

    rows = int(block_rows) if block_rows else default_block_rows(ngroups, nx)
    blocks = [(r, min(r + rows, ny)) for r in range(0, ny, rows)]
    threads = max(1, int(max_workers or 1))
    parts = run_parallel(lambda b: _fit_block(ctx, b[0], b[1]), blocks, threads=threads)

    opt = _assemble_opt(ctx, parts) if ctx.save_opt else None
    return RampFitResult(RampFitProduct(*ctx.out_image), RampFitProduct(*ctx.out_integ), opt)


# --------------------------------------------------------------------------------------
# One row block


def _block_dq(ctx: _Ctx, i: int, r0: int, r1: int) -> np.ndarray:
    """Group DQ ``(ngroups, npix)`` of integration ``i`` as fitted.

    Ramps with a single usable group are made DO_NOT_USE (when suppressing), judged on
    all input groups.  When leading groups were dropped (MIRI), JUMP_DET is cleared from
    the new first group - after the suppression, as in stcal.
    """
    full = ctx.groupdq[i, :, r0:r1, :].reshape(ctx.groupdq.shape[1], -1)
    q = full[ctx.g0 : ctx.g1]
    if ctx.suppress:
        ngood = np.count_nonzero((full & _NOT_PERS8) == 0, axis=0)
        single = ngood == 1
        if single.any():
            q = q | (single.astype(np.uint8) * _DNU8)[None, :]
    if ctx.g0:
        q = q.copy() if q.base is not None else q
        q[0] &= ~_JUMP8
    return q


def _first_only(ctx: _Ctx, q: np.ndarray) -> np.ndarray | None:
    """Pixels whose only exactly-clean group is the first (``None`` when suppressing)."""
    if ctx.suppress:
        return None
    return (np.count_nonzero(q == 0, axis=0) == 1) & (q[0] == 0)


def _zero_frame(ctx: _Ctx, i: int, r0: int, r1: int, q: np.ndarray):
    """``(mask, values)``: the block's pixels of integration ``i`` fitted from the zero frame
    (no group exactly clean in ``q``, the unsuppressed group DQ, and a non-zero zero-frame
    value; NaN counts as non-zero) and their float32 zero-frame values; ``None`` if none."""
    if ctx.zeroframe is None:
        return None
    z = ctx.zeroframe[i, r0:r1, :].reshape(-1)
    mask = (z != 0) & ~np.any(q == 0, axis=0)
    if not mask.any():
        return None
    return mask, z[mask]


def _median_rate(ctx: _Ctx, r0: int, r1: int, npix: int, dqs: list, nan_ints: list) -> np.ndarray:
    """The Poisson-variance rate estimate (DN/s) of each pixel of the block.

    The suppressed group DQ of each integration is appended to ``dqs`` when it is small
    enough to keep for the fitting pass; whether the integration's block holds NaN data
    is appended to ``nan_ints``.
    """
    gt, ngroups = ctx.group_time, ctx.ngroups
    keep = ctx.nints * ngroups * npix <= _DQ_CACHE_BYTES
    accum = np.zeros(npix)
    for i in range(ctx.nints):
        q = _block_dq(ctx, i, r0, r1)
        if keep:
            dqs.append(q)
        d = ctx.block_data(i, r0, r1)
        has_nan = bool(np.isnan(d).any())
        nan_ints.append(has_nan)
        zf = _zero_frame(ctx, i, r0, r1, q)
        if ngroups == 1:
            d0 = d[0].astype(np.float64)
            d0[(q[0] & _SAT8) != 0] = np.nan
            if zf is not None:
                d0[zf[0]] = zf[1]
            accum += d0 / ctx.one_group_time
            continue
        bad = (q & (_DNU8 | _SAT8)) != 0
        if ngroups - 1 > NETWORK_MAX:
            # rows padded by a cache line: a row length that is a power of two (blocks of
            # whole 2048-pixel rows) makes the median's transposed copy thrash the cache
            diff = np.empty((ngroups - 1, npix + 8))[:, :npix]
            np.subtract(d[1:], d[:-1], out=diff, dtype=np.float64)
        else:
            diff = np.subtract(d[1:], d[:-1], dtype=np.float64)
        unusable = bad[1:] | bad[:-1]
        unusable |= (q[1:] & _JUMP8) != 0
        if has_nan:
            unusable |= np.isnan(diff)
        # With no usable difference the first group's value stands in (if usable).
        fallback = d[0].astype(np.float64)
        fallback[bad[0]] = np.nan
        rate = nan_median_axis0(diff, fallback, invalid=unusable) / gt
        del unusable
        first = _first_only(ctx, q)
        if first is not None and first.any():
            rate[first] = d[0, first].astype(np.float64) / ctx.one_group_time
        if zf is not None:
            rate[zf[0]] = zf[1].astype(np.float64) / ctx.frame_time
        rate[np.isnan(rate)] = 0.0
        accum += rate
    return accum / float(ctx.nints)


class _Pixel:
    """Per-pixel constants of a block (float64)."""

    def __init__(self, ctx: _Ctx, r0: int, r1: int):
        npix = (r1 - r0) * ctx.nx
        self.pdq = ctx.pixeldq[r0:r1].reshape(npix).astype(np.uint32)
        self.gain = ctx.gain[r0:r1].reshape(npix).astype(np.float64)
        self.bad_gain = (self.gain <= 0) | np.isnan(self.gain)
        self.pdq[self.bad_gain] |= _DNU | _NO_GAIN
        rn = ctx.readnoise[r0:r1].reshape(npix).astype(np.float64) * (self.gain / ctx.rn_scale)
        self.rn = rn.astype(np.float32).astype(np.float64)
        rn_t = self.rn / ctx.group_time
        self.rnum = 12.0 * rn_t * rn_t
        self.invrn2 = 1.0 / (self.rn * self.rn)
        self.weights_ok = (self.invrn2 > 0) & np.isfinite(self.invrn2)
        if ctx.dark is None:
            self.dark = np.zeros(npix)
        else:
            self.dark = ctx.dark[r0:r1].reshape(npix).astype(np.float64)


def _pixel_sum(pix: np.ndarray, values: np.ndarray, npix: int) -> np.ndarray:
    """Per-pixel float64 sums of segment values, added in segment order."""
    if pix.size == 0:
        return np.zeros(npix)
    return np.bincount(pix, values, minlength=npix)


def _poisson_numerator(mrate: np.ndarray, dark: np.ndarray) -> np.ndarray:
    return np.where(mrate > 0, mrate + dark, dark)


def _rnoise_var(pix: _Pixel, p: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Read-noise variance of segments of ``length`` >= 2 groups."""
    g = pix.gain[p]
    nn = length.astype(np.float64)
    den = nn * nn * nn - nn
    var = pix.rnum[p] / (den * g * g)
    return np.where((length > 2) & pix.bad_gain[p], 0.0, var)


def _len1_timing(ctx: _Ctx, op: np.ndarray, first, zf) -> np.ndarray:
    """Time (s) a one-group segment at pixels ``op`` spans: the group time; for a ramp whose
    only clean group is the first (no suppression) ``(nframes + 1) * frame_time / 2``; for a
    ramp fitted from the zero frame the frame time."""
    timing = np.full(op.size, ctx.group_time)
    if first is not None:
        timing[first[op]] = ctx.one_group_time
    if zf is not None:
        timing[zf[0][op]] = ctx.frame_time
    return timing


def _len1_var(ctx, pix: _Pixel, p, timing, mrate):
    """(var_poisson, var_rnoise) of one-group segments at pixels ``p``."""
    g = pix.gain[p]
    var_p = _poisson_numerator(mrate[p], pix.dark[p]) / (timing * g)
    r = pix.rn[p] / timing
    var_r = (12.0 * r * r) / (6.0 * g * g)
    return var_p, var_r


def _snr_power_index(snr: np.ndarray) -> np.ndarray:
    """Index into ``_POWERS`` for each SNR (NaN takes the largest power, as in stcal)."""
    idx = (snr >= _SNR_EDGES[0]).view(np.int8).copy()
    for edge in _SNR_EDGES[1:]:
        idx += snr >= edge
    idx[np.isnan(snr)] = len(_SNR_EDGES)
    return idx


#: From this many segments of one length on, their slopes are summed pair by pair in a loop
#: of whole-array operations; fewer are gathered into one 2-D array (same sums, same order).
_LOOP_SEGMENTS = 2048


def _weighted_slopes(dflat, first, plane, n, coefs, power, has_nan):
    """Optimally weighted slopes (DN per group) of ``n``-group segments.

    ``first`` holds the flat index of each segment's first sample (samples are ``plane``
    apart).  The coefficients are antisymmetric about the segment centre, so the slope is
    a sum over sample pairs ``c_k (d_k - d_(n-1-k))``; the pair differences are exact in
    float64.  NaN samples count as zero (as in stcal).

    Many segments: a running total over the sample pairs.  Few segments (long ramps split
    by jumps have many distinct lengths, each with few segments): the pairs of all of them
    are gathered at once as ``(segments, n // 2)`` arrays and summed pair after pair with a
    cumulative sum (the same additions in the same order as the running total; ``+ 0.0``
    turns a ``-0.0`` total into the running total's ``+0.0``), one set of numpy calls per
    length instead of one per pair.
    """
    half = n // 2
    if first.size >= _LOOP_SEGMENTS:
        # many segments of this length: one pass per sample pair over all of them
        acc = np.zeros(first.size)
        tmp = np.empty(first.size)
        for j in range(half):
            k = n - 1 - j
            hi = dflat.take(first + k * plane)
            lo = dflat.take(first + j * plane)
            if has_nan:
                hi[np.isnan(hi)] = 0.0
                lo[np.isnan(lo)] = 0.0
            np.subtract(hi, lo, out=tmp, dtype=np.float64)
            tmp *= coefs[:, k].take(power)
            acc += tmp
        return acc
    ks = np.arange(half)
    hi = dflat.take(first[:, None] + (n - 1 - ks)[None, :] * plane)
    lo = dflat.take(first[:, None] + ks[None, :] * plane)
    if has_nan:
        hi[np.isnan(hi)] = 0.0
        lo[np.isnan(lo)] = 0.0
    terms = np.subtract(hi, lo, dtype=np.float64)
    del hi, lo
    terms *= coefs[:, n - 1 - ks][power]
    if half == 1:
        return terms[:, 0] + 0.0
    return np.cumsum(terms, axis=1)[:, -1] + 0.0


def _fit_block(ctx: _Ctx, r0: int, r1: int):
    # errstate is per thread: set it here, where the work runs.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _fit_block_inner(ctx, r0, r1)


def _fit_block_inner(ctx: _Ctx, r0: int, r1: int):
    nints, ngroups, nx = ctx.nints, ctx.ngroups, ctx.nx
    npix = (r1 - r0) * nx
    gt = ctx.group_time
    pix = _Pixel(ctx, r0, r1)
    dqs: list = []
    nan_ints: list = []
    mrate = _median_rate(ctx, r0, r1, npix, dqs, nan_ints)

    sum_p = np.zeros(npix)
    sum_r = np.zeros(npix)
    sum_s = np.zeros(npix)
    n_dnu = np.zeros(npix, np.int32)
    n_sat = np.zeros(npix, np.int32)
    any_sat = np.zeros(npix, bool)
    rate_flags = np.zeros(npix, np.uint32)
    has_chargeloss = False
    opt_parts = []
    max_segs = 0
    max_crs = 0

    for i in range(nints):
        q = dqs[i] if dqs else _block_dq(ctx, i, r0, r1)
        d = ctx.block_data(i, r0, r1)
        has_nan = nan_ints[i]
        first = _first_only(ctx, q)
        # Flags, partial saturation and cosmic-ray magnitudes use the ramp as it came.
        q_in, d_in = q, d
        zf = _zero_frame(ctx, i, r0, r1, q)
        if zf is None:
            dflat, plane, base = ctx.flat_data(i), ctx.ny * nx, r0 * nx
        else:
            # Fit these ramps from the zero frame: a clean first group holding its value,
            # in a copy of this integration's block (samples npix apart).
            zmask, zval = zf
            q = q.copy()
            q[0, zmask] = 0
            d = np.array(d, dtype=np.float32, order="C")
            d[0, zmask] = zval
            has_nan = has_nan or bool(np.isnan(zval).any())
            dflat, plane, base = d.reshape(-1), npix, 0
        sat0 = (q[0] & _SAT8) != 0
        segs = find_segments(q, exclude=sat0, want_sizes=ctx.save_opt)

        # ---- segments of two or more groups
        sp, L = segs.pix, segs.length
        i0 = segs.start * plane + base + sp
        nseg = sp.size
        slope_dn = np.empty(nseg)
        d_first = dflat[i0].astype(np.float64)
        d_last = dflat[i0 + (L - 1) * plane].astype(np.float64)
        two = L == 2
        slope_dn[two] = d_last[two] - d_first[two]
        if nseg:
            # Signal-to-noise ratio of each segment -> its weighting power.
            signal = d_last - d_first
            g = pix.gain[sp]
            den = pix.rn[sp] ** 2 + signal * g
            snr = np.maximum(signal * g / np.sqrt(den), 0.0)
            snr[(den <= 0) | (g == 0)] = 0.0
            power = _snr_power_index(snr)
            del signal, g, den, snr
            counts = np.bincount(L)
            for n in np.flatnonzero(counts[3:]) + 3:
                sel = slice(None) if counts[n] == nseg else np.flatnonzero(L == n)
                slope_dn[sel] = _weighted_slopes(
                    dflat, i0[sel], plane, n, ctx.coefs[n], power[sel], has_nan
                )
            slope_dn[~pix.weights_ok[sp] & (L > 2)] = np.nan
        slope = slope_dn / gt
        var_p = _poisson_numerator(mrate[sp], pix.dark[sp]) / (gt * pix.gain[sp] * (L - 1.0))
        var_r = _rnoise_var(pix, sp, L)
        inv_r = _pixel_sum(sp, 1.0 / var_r, npix)
        inv_p = _pixel_sum(sp, np.where(var_p > 0, 1.0 / var_p, 0.0), npix)
        inv_e = _pixel_sum(sp, 1.0 / (var_p + var_r), npix)
        s_num = _pixel_sum(sp, slope / var_r, npix)

        # ---- ramps whose only segment is one group
        op, og = segs.one_pix, segs.one_start
        if op.size:
            timing = _len1_timing(ctx, op, first, zf)
            d1 = dflat[og * plane + base + op].astype(np.float64)
            slope1 = d1 / timing
            var_p1, var_r1 = _len1_var(ctx, pix, op, timing, mrate)
            inv_r[op] += 1.0 / var_r1
            inv_p[op] += np.where(var_p1 > 0, 1.0 / var_p1, 0.0)
            inv_e[op] += 1.0 / (var_p1 + var_r1)
            s_num[op] += slope1 / var_r1

        # ---- integration products
        q_any = np.bitwise_or.reduce(q_in, axis=0)
        # dead: every group is DO_NOT_USE or SATURATED.  (All groups SATURATED implies a
        # saturated first group, which already gave DO_NOT_USE | SATURATED.)
        dead = np.minimum.reduce(q & (_DNU8 | _SAT8), axis=0) != 0
        has_chargeloss |= bool((q_any & _CHG8).any())

        flags = (q_any & (_JUMP8 | _PERS8)).astype(np.uint32)
        rate_flags |= flags
        dqi = pix.pdq | flags
        dqi[sat0] |= _DNU | _SAT
        dqi[dead] |= _DNU
        fit = (segs.count > 0) & ~dead

        vp = np.where(inv_p > 0, 1.0 / inv_p, 0.0)
        vp[vp >= LARGE_VARIANCE_THRESHOLD] = 0.0
        vr = 1.0 / inv_r
        vr[vr >= LARGE_VARIANCE_THRESHOLD] = 0.0
        var_e = 1.0 / inv_e
        err = np.where(var_e > LARGE_VARIANCE_THRESHOLD, 0.0, np.sqrt(var_e))
        islope = s_num * vr
        bad = (dqi & _INVALID) != 0
        islope[bad] = np.nan
        vp[bad] = 0.0
        vr[bad] = 0.0
        err[bad] = 0.0
        nofit = ~fit
        islope[nofit] = 0.0
        vp[nofit] = 0.0
        vr[nofit] = 0.0
        err[nofit] = 0.0
        islope[sat0] = np.nan

        sum_p += np.where(inv_p > 0, inv_p, 0.0)
        sum_r += inv_r
        sum_s += s_num

        is_dnu = (dqi & _DNU) != 0
        islope[is_dnu] = np.nan
        n_dnu += is_dnu
        if ctx.save_opt:
            ped = d[0].astype(np.float64) - islope * ctx.ped_tmp
            ped[(dqi & _SAT) != 0] = 0.0
            ped[np.isnan(ped)] = 0.0
            ctx.out_pedestal[i, r0:r1, :] = ped.reshape(r1 - r0, nx)
        is_sat = (dqi & _SAT) != 0
        islope[is_sat] = np.nan
        n_sat += is_sat
        partial = (q_any & _SAT8) != 0
        if zf is not None and ngroups == 1:
            partial &= ~zf[0]  # its only (saturated) group was replaced by the zero frame
        dqi[partial] |= _SAT
        any_sat |= partial

        shape2 = (r1 - r0, nx)
        for arr, val in zip(ctx.out_integ, (islope, dqi, vp, vr, err)):
            arr[i, r0:r1, :] = val.reshape(shape2)

        if ctx.save_opt:
            max_segs = max(max_segs, int(segs.list_size.max(initial=0)))
            ncr = 0
            part = _opt_records(ctx, i, r0, segs, q_in, d_in, pix, mrate, slope, var_p, var_r, first,
                                (dflat, plane, base), zf)
            if part is not None:
                opt_parts.append(part)
                ncr = part["ncr"]
            max_crs = max(max_crs, ncr)

    # ---- exposure product
    rdq = pix.pdq | rate_flags
    rdq[n_dnu == nints] |= _DNU
    rdq[n_sat == nints] |= _SAT
    vp = np.where(sum_p > 0, 1.0 / sum_p, sum_p)
    vp[(vp >= LARGE_VARIANCE_THRESHOLD) | (vp < 0)] = 0.0
    vr = np.where(sum_r > 0, 1.0 / sum_r, sum_r)
    vr[vr >= LARGE_VARIANCE_THRESHOLD] = 0.0
    err = np.sqrt(vp + vr)
    slope = sum_s * vr
    bad = (rdq & _INVALID) != 0
    slope[bad] = np.nan
    vp[bad] = 0.0
    vr[bad] = 0.0
    err[bad] = 0.0
    rdq[any_sat] |= _SAT

    if has_chargeloss:
        vr = _chargeloss_rnoise(ctx, r0, r1, pix, vr)

    shape2 = (r1 - r0, nx)
    for arr, val in zip(ctx.out_image, (slope, rdq, vp, vr, err)):
        arr[r0:r1, :] = val.reshape(shape2)
    return {"opt": opt_parts, "max_segs": max_segs, "max_crs": max_crs}


# --------------------------------------------------------------------------------------
# CHARGELOSS read-noise recomputation


def _chargeloss_rnoise(ctx: _Ctx, r0: int, r1: int, pix: _Pixel, rate_vr: np.ndarray) -> np.ndarray:
    """Recompute read-noise variances of ramps with CHARGELOSS groups.

    Those groups (flagged CHARGELOSS, usually with DO_NOT_USE) are toggled back to usable,
    the ramp re-segmented, and only the read-noise variances replaced: the integration
    value in the output cube, and the exposure value returned.
    """
    nx = ctx.nx
    npix = (r1 - r0) * nx
    evar = np.zeros(npix)
    touched = np.zeros(npix, bool)
    toggle = _DNU8 | _CHG8
    for i in range(ctx.nints):
        q = _block_dq(ctx, i, r0, r1)
        chg = np.any(q & _CHG8, axis=0)
        vr_out = ctx.out_integ[3][i, r0:r1, :].reshape(npix)
        old = vr_out.astype(np.float64)
        contrib = np.where(old > 0, 1.0 / old, 0.0)
        if chg.any():
            orig = ctx.input_dq(i, r0, r1)
            redo = np.where((orig & _CHG8) != 0, orig ^ toggle, orig)
            segs = find_segments(redo)
            sp, L = segs.pix, segs.length
            var_r = _rnoise_var(pix, sp, L)
            inv = _pixel_sum(sp, np.where(var_r > 0, 1.0 / var_r, 0.0), npix)
            op = segs.one_pix
            if op.size:
                timing = _len1_timing(ctx, op, _first_only(ctx, q), _zero_frame(ctx, i, r0, r1, q))
                r = pix.rn[op] / timing
                var1 = (12.0 * r * r) / (6.0 * pix.gain[op] * pix.gain[op])
                inv[op] += np.where(var1 > 0, 1.0 / var1, 0.0)
            new_vr = 1.0 / inv
            new_vr[new_vr >= LARGE_VARIANCE_THRESHOLD] = 0.0
            vr_out[chg] = new_vr[chg]
            contrib = np.where(chg, inv, contrib)
            touched |= chg
        evar += contrib
    out = rate_vr.copy()
    upd = touched & (evar > 0)
    out[upd] = 1.0 / evar[upd]
    out[touched & (out >= LARGE_VARIANCE_THRESHOLD)] = 0.0
    return out


# --------------------------------------------------------------------------------------
# Optional product


def _opt_sums(wtab, power, invrn2, start, x, gt):
    """Weighted sums of C-style OLS over absolute group numbers -> slope, sigmas, yint."""
    n, m = x.shape
    w = wtab[power].T * invrn2[None, :]
    xv = start[None, :] + np.arange(n, dtype=np.float64)[:, None]
    xw = xv * w
    sumw = w.sum(axis=0)
    sumx = xw.sum(axis=0)
    sumxx = (xv * xw).sum(axis=0)
    sumy = (x * w).sum(axis=0)
    sumxy = (x * xw).sum(axis=0)
    invden = 1.0 / (sumw * sumxx - sumx * sumx)
    slope = (sumw * sumxy - sumx * sumy) * invden / gt
    sig = np.sqrt(sumw * invden)
    yint = (sumxx * sumy - sumx * sumxy) * invden
    sigy = np.sqrt(sumxx * invden)
    return slope, sig, yint, sigy


def _opt_records(ctx, i, r0, segs, q, d, pix, mrate, slope, var_p, var_r, first, samples, zf):
    """Flat per-segment and per-cosmic-ray records of one integration of a block.

    ``q`` and ``d`` are the block's group DQ and data as they came (for the cosmic rays);
    ``samples`` is ``(dflat, plane, base)`` locating the fitted samples (zero frame
    substituted); ``zf`` the zero-frame pixels (see :func:`_zero_frame`) or ``None``."""
    nx, ngroups = ctx.nx, ctx.ngroups
    npix = d.shape[1]
    gt = ctx.group_time
    # Long segments: slope values were recomputed C-style for the optional product.
    sp = segs.pix
    order = (np.cumsum(segs.kept_mask, axis=0, dtype=np.int32).reshape(-1)[segs.flat] - 1) if sp.size else sp
    recs = {
        "pix": [sp],
        "ord": [order],
        "var_p": [var_p],
        "var_r": [var_r],
        "weights": [1.0 / var_r],
    }
    # Recompute opt-specific quantities for the long segments.
    L = segs.length
    dflat, plane, dbase = samples
    base = r0 * nx
    i0 = segs.start * plane + dbase + sp
    o_slope = slope.copy()
    o_sig = np.zeros(sp.size)
    o_yint = np.zeros(sp.size)
    o_sigy = np.zeros(sp.size)
    if sp.size:
        d_first = dflat[i0].astype(np.float64)
        d_last = dflat[i0 + (L - 1) * plane].astype(np.float64)
        two = L == 2
        st2 = segs.start[two] + 1.0
        o_sig[two] = _SQRT2_OPT * pix.rn[sp[two]]
        o_yint[two] = d_last[two] * (1.0 - st2) + d_first[two] * st2
        o_sigy[two] = o_sig[two]
        for n in np.unique(L[L >= 3]):
            sel = np.flatnonzero(L == n)
            p_sel = sp[sel]
            signal = d_last[sel] - d_first[sel]
            g = pix.gain[p_sel]
            den = pix.rn[p_sel] ** 2 + signal * g
            snr = np.maximum(signal * g / np.sqrt(den), 0.0)
            snr[(den <= 0) | (g == 0)] = 0.0
            power = _snr_power_index(snr)
            x = np.empty((n, sel.size))
            for j in range(n):
                x[j] = dflat[i0[sel] + j * plane]
            x[np.isnan(x)] = 0.0
            o_slope[sel], o_sig[sel], o_yint[sel], o_sigy[sel] = _opt_sums(
                ctx.weights[n], power, pix.invrn2[p_sel], segs.start[sel], x, gt
            )
    recs["slope"] = [o_slope]
    recs["sigslope"] = [o_sig]
    recs["yint"] = [o_yint]
    recs["sigyint"] = [o_sigy]

    op, og = segs.one_pix, segs.one_start
    if op.size:
        timing = _len1_timing(ctx, op, first, zf)
        d1 = dflat[og * plane + dbase + op].astype(np.float64)
        var_p1, var_r1 = _len1_var(ctx, pix, op, timing, mrate)
        zeros = np.zeros(op.size)
        recs["pix"].append(op)
        recs["ord"].append(np.zeros(op.size, np.int64))
        recs["var_p"].append(var_p1)
        recs["var_r"].append(var_r1)
        recs["weights"].append(1.0 / var_r1)
        recs["slope"].append(d1 / timing)
        recs["sigslope"].append(zeros)
        recs["yint"].append(zeros)
        recs["sigyint"].append(zeros)

    out = {k: np.concatenate(v).astype(np.float32) for k, v in recs.items() if k not in ("pix", "ord")}
    out["pix"] = np.concatenate(recs["pix"]).astype(np.int64) + base
    out["ord"] = np.concatenate(recs["ord"])
    out["integ"] = i

    # Cosmic-ray magnitudes: jump groups after the first, in ramp order.
    ncr = 0
    if ngroups > 1:
        jq = (q[1:] & _JUMP8) != 0
        if jq.any():
            cum = np.cumsum(jq, axis=0, dtype=np.int32)
            ncr = int(cum[-1].max())
            k = np.flatnonzero(jq)
            g = k // npix
            p = k - g * npix
            later = d[g + 1, p].astype(np.float64)
            earlier = d[g, p].astype(np.float64)
            later[(q[g + 1, p] & _SAT8) != 0] = np.nan
            earlier[(q[g, p] & _SAT8) != 0] = np.nan
            out["cr_pix"] = p.astype(np.int64) + base
            out["cr_ord"] = cum.reshape(-1)[k] - 1
            out["cr_val"] = (later - earlier).astype(np.float32)
    out["ncr"] = ncr
    return out


def _assemble_opt(ctx: _Ctx, parts) -> RampFitOpt:
    nints, ny, nx = ctx.nints, ctx.ny, ctx.nx
    nseg = max([p["max_segs"] for p in parts] + [0])
    ncr = max([p["max_crs"] for p in parts] + [0])
    names = ("slope", "sigslope", "var_p", "var_r", "yint", "sigyint", "weights")
    arrs = {k: np.zeros((nints, nseg, ny, nx), np.float32) for k in names}
    crmag = np.zeros((nints, ncr, ny, nx), np.float32)
    plane = ny * nx
    for part in parts:
        for rec in part["opt"]:
            i = rec["integ"]
            if rec["pix"].size:
                idx = (i * nseg + rec["ord"]) * plane + rec["pix"]
                for k in names:
                    arrs[k].reshape(-1)[idx] = rec[k]
            if "cr_pix" in rec:
                idx = (i * ncr + rec["cr_ord"]) * plane + rec["cr_pix"]
                crmag.reshape(-1)[idx] = rec["cr_val"]
    return RampFitOpt(
        slope=arrs["slope"],
        sigslope=arrs["sigslope"],
        var_poisson=arrs["var_p"],
        var_rnoise=arrs["var_r"],
        yint=arrs["yint"],
        sigyint=arrs["sigyint"],
        pedestal=ctx.out_pedestal,
        weights=arrs["weights"],
        crmag=crmag,
    )
