"""Likelihood ramp fitting (jwst ``ramp_fit`` with ``algorithm="LIKELY"``, stcal 1.20).

The ramp of one integration is described by its resultant differences
``d_k = (R_{k+1} - R_k) / dt_k`` (``R`` the resultants - group averages of the frames
read - and ``dt_k`` the spacing of their mean read times).  Read noise and photon noise
make the differences correlated: their covariance matrix is tridiagonal, and the rate is
the generalised least-squares estimate under it (Brandt 2024, PASP 136, 045004 and
045005).  Everything is computed with numpy on row blocks of pixels (``(ndiffs, npix)``
arrays), in float64 as stcal does, with stcal's operation order so that the results are
the same.

Outline, per integration and pixel:

* **Read pattern** - each resultant is a list of read times: ``NFRAMES`` frames per group,
  ``NFRAMES + GROUPGAP`` frames apart (``DRPFRMS1`` is ignored, as by stcal), or the
  exposure's explicit ``read_times``.  A resultant of ``N`` reads has the mean time
  ``t`` and the noise-weighted time ``tau = sum((2N + 1 - 2k) t_k) / N**2``.
* **Covariance** (per unit read variance and per unit electron rate) - diagonal
  ``(1/N_k + 1/N_{k+1}) / dt_k**2`` (reads) and ``(tau_k + tau_{k+1} - 2 t_k) / dt_k**2``
  (photons); off-diagonal ``-1 / (N_{k+1} dt_k dt_{k+1})`` and
  ``(t_{k+1} - tau_{k+1}) / (dt_k dt_{k+1})``.  The read noise per read is the reference
  (CDS) read noise over sqrt(2); the photon term is scaled by ``rate / gain``.
* **Usable differences** - a difference is usable when both its resultants have group DQ 0
  (any flag, JUMP_DET included, removes the differences on both sides of a group).
* **Jump search** - with the rate guess ``max(median of all differences, 0)``, the fit is
  repeated leaving out each usable difference in turn (and each adjacent pair, when the
  middle resultant has more than one read); the omission that lowers chi-square most is
  applied when the gain exceeds 20.25 (one) or 23.8 (pair; with a ``rejection_threshold``
  ``r``: ``r**2`` and the chi-square(2) quantile of ``erfc(r / sqrt(2))``).  A ramp is
  searched again while it keeps losing differences and has more than three usable ones
  left.  The group after each dropped difference gets JUMP_DET.
* **Fit** - the final fit uses the usable differences and the covariance of the rate
  ``max(rate from the search, 0) + average dark current``.  SCI is the rate, ERR its
  uncertainty ``sqrt(1 / (1' C^-1 1))``, VAR_POISSON / VAR_RNOISE the propagated photon and
  read parts; chi-square is kept too.  The covariance is rescaled to unit determinant on
  the way (every 10 differences) to avoid overflow, as stcal does.  A ramp with no usable
  difference (one or no usable group) gets NaN SCI, ERR and VAR_* (its rate guess is
  NaN); nothing is reset to zero and DO_NOT_USE does not blank the values.
* **DQ** (rateints) - the pixel DQ, DO_NOT_USE when every group is SATURATED or
  DO_NOT_USE, SATURATED when any group is, JUMP_DET when any group has it (input or found).
* **Zero frame** - with a ZEROFRAME and a first resultant of two or more reads, the zero
  frame becomes a resultant of its own (the first read) and the first group is replaced by
  the mean of its other reads, ``(NFRAMES * R_0 - Z) / (NFRAMES - 1)``, with the first
  group's DQ.  Zero values (zero frame unusable) are used as they are, as stcal does.
* **Exposure** (rate, NINTS > 1) - float32, as stcal: starting from the NaN-median of the
  integration rates, twice: each integration's Poisson variance is scaled to that rate,
  weights ``1 / (var_p + var_r)`` normalised, rate = weighted sum (NaN ignored).
  VAR_* are the weighted sums of the variances, ERR = sqrt(VAR_POISSON + VAR_RNOISE); DQ the
  OR of the integrations' DQ, DO_NOT_USE only when every integration has it.  For one
  integration the exposure products are the integration's.

LIKELY needs at least :data:`LIKELY_MIN_NGROUPS` groups (jwst falls back to OLS_C below).
Inputs are not modified (stcal also ORs the jump flags it finds into the ramp's GROUPDQ;
here they only reach the products' DQ).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from jwcore import dq
from jwcore.steps._ramp_util import run_parallel

from .ols import RampFitProduct, RampFitResult

__all__ = [
    "LIKELY_MIN_NGROUPS",
    "LikelyResult",
    "Readout",
    "fit_ramps_likely",
    "layout_read_times",
    "readout_covariance",
]

#: jwst uses OLS_C for fewer groups; stcal's LIKELY refuses them.
LIKELY_MIN_NGROUPS = 4

#: Chi-square gains that justify leaving out one difference, or two adjacent ones.
ONE_OMIT_GAIN = 20.25
TWO_OMIT_GAIN = 23.8

#: Rescale the covariance recursion every this many differences (and at the end).
RESCALE_EVERY = 10

#: Pixels per row block (about; whole rows).
BLOCK_PIXELS = 1 << 13

_U8 = np.uint8
_DNU8, _SAT8, _JUMP8 = _U8(dq.DO_NOT_USE), _U8(dq.SATURATED), _U8(dq.JUMP_DET)
_DNU, _SAT, _JUMP = np.uint32(dq.DO_NOT_USE), np.uint32(dq.SATURATED), np.uint32(dq.JUMP_DET)


# --------------------------------------------------------------------------------------
# Read pattern and covariance


class Readout(NamedTuple):
    """Per-resultant times and the covariance coefficients of the resultant differences."""

    mean_t: np.ndarray  # (nres,) mean read time
    tau: np.ndarray  # (nres,) noise-weighted read time
    nreads: np.ndarray  # (nres,) reads averaged
    dt: np.ndarray  # (nres - 1,) spacing of the mean times
    alpha_rn: np.ndarray  # (nres - 1,) diagonal, read noise (per unit read variance)
    beta_rn: np.ndarray  # (nres - 2,) off-diagonal, read noise
    alpha_ph: np.ndarray  # (nres - 1,) diagonal, photons (per unit electron rate)
    beta_ph: np.ndarray  # (nres - 2,) off-diagonal, photons


def layout_read_times(ngroups: int, nframes: int, groupgap: int, frame_time: float) -> list[np.ndarray]:
    """Read times (s) of the frames averaged into each group of an evenly sampled ramp."""
    nframes, groupgap = int(nframes), int(groupgap)
    period = nframes + groupgap
    reads = np.arange(1, nframes + 1)
    return [(reads + g * period) * frame_time for g in range(ngroups)]


def readout_covariance(read_times) -> Readout:
    """Covariance coefficients for resultants made of the given reads (a list with one
    sequence of read times, or one time, per resultant)."""
    mean_t, tau, nreads = [], [], []
    for times in read_times:
        mean_t.append(np.mean(times))
        if hasattr(times, "__len__"):
            n = len(times)
            k = np.arange(1, n + 1)
            tau.append(np.sum(((2 * n + 1) - 2 * k) * np.array(times)) / n**2)
            nreads.append(n)
        else:
            tau.append(times)
            nreads.append(1)
    mean_t = np.array(mean_t)
    tau = np.array(tau)
    nreads = np.array(nreads)
    dt = mean_t[1:] - mean_t[:-1]
    dt_pair = dt[1:] * dt[:-1]
    return Readout(
        mean_t=mean_t,
        tau=tau,
        nreads=nreads,
        dt=dt,
        alpha_rn=(1 / nreads[:-1] + 1 / nreads[1:]) / dt**2,
        beta_rn=-1 / (nreads[1:-1] * dt[1:] * dt[:-1]),
        alpha_ph=(tau[:-1] + tau[1:] - 2 * mean_t[:-1]) / dt**2,
        beta_ph=(mean_t[1:-1] - tau[1:-1]) / dt_pair,
    )


# --------------------------------------------------------------------------------------
# The generalised least-squares fit of a block of ramps


class _Fit(NamedTuple):
    rate: np.ndarray
    chisq: np.ndarray
    uncert: np.ndarray
    var_p: np.ndarray | None = None
    var_r: np.ndarray | None = None
    rate1: np.ndarray | None = None  # rate with difference k left out   (ndiffs, m)
    chisq1: np.ndarray | None = None
    rate2: np.ndarray | None = None  # rate with differences k, k+1 left out  (ndiffs-1, m)
    chisq2: np.ndarray | None = None


def _gls_fit(diffs, use, ro: Readout, gain, rnoise, guess, *, omissions=False, variances=False) -> _Fit:
    """Fit the rate of each column of ``diffs`` (``(n, m)`` float64, DN/s) using the
    differences where ``use`` (uint8) is 1.

    ``gain`` and ``rnoise`` (per-read read noise, DN) are ``(m,)``; ``guess`` the rate
    (DN/s) that sets the photon noise.  With ``omissions`` also the fits with each
    difference, and each adjacent pair, left out; with ``variances`` the photon and
    read-noise parts of the rate variance.  The tridiagonal inverse uses the leading
    (``theta``) and trailing (``phi``) principal minors.
    """
    n, m = diffs.shape
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Covariance of the differences: photon and read parts.
        e_rate = guess / gain
        rn2 = rnoise**2
        a_ph = e_rate * ro.alpha_ph[:, None]
        a_rn = rn2 * ro.alpha_rn[:, None]
        alpha = a_ph + a_rn
        b_ph = e_rate * ro.beta_ph[:, None]
        b_rn = rn2 * ro.beta_rn[:, None]
        beta = b_ph + b_rn

        # Scale the matrix to unit determinant while running the leading-minor recursion.
        scale = np.ones(m)
        older = np.ones(m)
        prev = alpha[0]
        for i in range(2, n + 1):
            cur = alpha[i - 1] / scale * prev - beta[i - 2] ** 2 / scale**2 * older
            if i % RESCALE_EVERY == 0 or i == n:
                f = cur ** (1 / i)
                scale *= f
                ratio = cur / f
                prev = prev / ratio
                cur = np.ones(m)
            older, prev = prev, cur
        alpha /= scale
        beta /= scale

        # Leave out the unusable differences: zero data and no coupling.
        dm = diffs * use
        beta = beta * use[1:] * use[:-1]
        b2 = beta**2

        theta = np.empty((n + 1, m))
        theta[0] = 1.0
        theta[1] = alpha[0]
        for i in range(2, n + 1):
            theta[i] = alpha[i - 1] * theta[i - 1] - b2[i - 2] * theta[i - 2]
        phi = np.empty((n + 1, m))
        phi[n] = 1.0
        phi[n - 1] = alpha[n - 1]
        for i in range(n - 2, -1, -1):
            phi[i] = alpha[i] * phi[i + 1] - b2[i] * phi[i + 2]

        # sign[k] = (-1)**(k+1)
        sign = np.where(np.arange(n) % 2 == 0, -1.0, 1.0)[:, None]
        big_phi = np.zeros((n, m))
        big_phi_d = np.zeros((n, m))
        for i in range(n - 2, -1, -1):
            big_phi[i] = big_phi[i + 1] * beta[i] + sign[i + 1] * beta[i] * phi[i + 2]
            big_phi_d[i] = (big_phi_d[i + 1] + sign[i + 1] * dm[i + 1] * phi[i + 2]) * beta[i]
        big_theta = np.empty((n, m))
        big_theta[0] = -theta[0]
        big_theta_d = np.zeros((n + 1, m))
        big_theta_d[1] = -dm[0] * theta[0]
        for i in range(1, n):
            big_theta[i] = big_theta[i - 1] * beta[i - 1] + sign[i] * theta[i]
            big_theta_d[i + 1] = beta[i - 1] * big_theta_d[i] + sign[i] * dm[i] * theta[i]

        det = theta[n]
        s_det = sign / det
        # dC: row sums of the inverse covariance; dB: the inverse applied to the data.
        d_c = s_det * (phi[1:] * big_theta + theta[:-1] * big_phi)
        d_c *= use
        d_b = s_det * (phi[1:] * big_theta_d[1:] + theta[:-1] * big_phi_d)
        beta_ext = np.ones((n, m))
        beta_ext[1:] = beta
        q_a = 2 * np.sum(dm * sign / det * beta_ext * phi[1:] * big_theta_d[:-1], axis=0)
        q_a += np.sum(dm**2 * theta[:-1] * phi[1:] / det, axis=0)
        q_b = np.sum(dm * d_c, axis=0)
        q_c = np.sum(d_c, axis=0)
        del beta_ext, big_phi, big_phi_d, big_theta

        rate = q_b * (1 / q_c)
        chisq = (q_a - q_b**2 / q_c) / scale
        uncert = np.sqrt(scale / q_c)
        var_p = var_r = None
        if variances:
            w = d_c / q_c
            w2 = w**2
            wpair = w[1:] * w[:-1]
            var_p = np.sum(w2 * a_ph, axis=0) + 2 * np.sum(wpair * b_ph, axis=0)
            var_r = np.sum(w2 * a_rn, axis=0) + 2 * np.sum(wpair * b_rn, axis=0)
        if not omissions:
            return _Fit(rate, chisq, uncert, var_p, var_r)

        # Leaving out difference k: inverse-covariance diagonal and first off-diagonal.
        c_diag = theta[:-1] * phi[1:] / det
        c_diag *= use
        c_off = -beta * theta[:-2] * phi[2:] / det
        den = q_c * c_diag - d_c**2
        r1 = (c_diag * q_b - d_b * d_c) / den
        j1 = (d_b - r1 * d_c) / c_diag
        chi1 = q_a + r1**2 * q_c - 2 * r1 * q_b + j1**2 * c_diag - 2 * j1 * d_b + 2 * r1 * j1 * d_c
        chi1 /= scale

        # Leaving out differences k and k+1 (jumps j, l in them).
        lo_c, hi_c = d_c[:-1], d_c[1:]
        lo_b, hi_b = d_b[:-1], d_b[1:]
        f_lo = lo_c**2 - q_c * c_diag[:-1]
        f_pair = lo_c * hi_c - q_c * c_off
        g_lo = q_b * lo_c - lo_b * q_c
        l2 = g_lo / f_lo - (q_b * hi_c - hi_b * q_c) / f_pair
        l2 /= f_pair / f_lo - (hi_c**2 - q_c * c_diag[1:]) / f_pair
        j2 = (g_lo - l2 * f_pair) / f_lo
        r2 = (q_b - j2 * lo_c - l2 * hi_c) / q_c
        chi2 = q_a + r2**2 * q_c + j2**2 * c_diag[:-1] + l2**2 * c_diag[1:]
        chi2 -= 2 * r2 * q_b + 2 * j2 * lo_b + 2 * l2 * hi_b
        chi2 += 2 * r2 * j2 * lo_c + 2 * r2 * l2 * hi_c + 2 * j2 * l2 * c_off
        chi2 /= scale

    # Omitting an already unused difference is the plain fit; a pair with one unused
    # difference is the single omission of the other.
    off = use == 0
    if off.any():
        r1 = np.where(off, rate, r1)
        chi1 = np.where(off, chisq, chi1)
    off_hi = use[1:] == 0
    r2 = np.where(off_hi, r1[:-1], r2)
    chi2 = np.where(off_hi, chi1[:-1], chi2)
    off_lo = use[:-1] == 0
    r2 = np.where(off_lo, r1[1:], r2)
    chi2 = np.where(off_lo, chi1[1:], chi2)
    return _Fit(rate, chisq, uncert, rate1=r1, chisq1=chi1, rate2=r2, chisq2=chi2)


def _search_jumps(diffs, use, ro: Readout, gain, rnoise, t_one, t_two):
    """Drop jump-hit differences from ``use`` (in place); returns the rate estimates."""
    n, m = diffs.shape
    guess = np.median(diffs, axis=0)
    guess *= guess > 0
    one_ok = (ro.nreads[1:] * ro.nreads[:-1] >= 1)[:, None]
    one_ok[0] = one_ok[-1] = True
    two_ok = (ro.nreads[1:-1] > 1)[:, None]

    rate = None
    todo = None  # pixels searched again (None: all)
    for _ in range(n):
        if todo is None:
            fit = _gls_fit(diffs, use, ro, gain, rnoise, guess, omissions=True)
            rate = fit.rate * 1.0
        else:
            fit = _gls_fit(diffs[:, todo], use[:, todo], ro, gain[todo], rnoise[todo], guess[todo],
                           omissions=True)
        with np.errstate(invalid="ignore"):
            gain1 = fit.chisq - fit.chisq1
            gain2 = fit.chisq - fit.chisq2
            best1 = np.amax(gain1 * one_ok, axis=0)
            best2 = np.amax(gain2 * two_ok, axis=0)
            single = best1 - t_one > best2 - t_two
            best = best1 * (best1 > t_one) * single
            best += best2 * (best2 > t_two) * ~single
            best[best == 0] = np.nan
            drop1 = (gain1 == best) & single
            drop2 = (gain2 == best) & ~single
        any1 = drop1.any(axis=0)
        any2 = drop2.any(axis=0)
        dropped = any1 | any2
        if not dropped.any():
            break
        with np.errstate(invalid="ignore"):
            new_rate = np.zeros(dropped.size)
            new_rate[any1] = np.sum(fit.rate1 * drop1, axis=0)[any1]
            new_rate[any2] = np.sum(fit.rate2 * drop2, axis=0)[any2]
        idx = np.arange(m) if todo is None else todo
        sub_use = use[:, idx]
        sub_use *= ~drop1
        sub_use[:-1] *= ~drop2
        sub_use[1:] *= ~drop2
        use[:, idx] = sub_use
        rate[idx] = rate[idx] * ~dropped + new_rate
        idx = idx[dropped]
        todo = idx[np.count_nonzero(use[:, idx], axis=0) > 3]
        if todo.size == 0:
            break
    return rate


# --------------------------------------------------------------------------------------
# Driver


@dataclass
class LikelyResult(RampFitResult):
    """:class:`~.ols.RampFitResult` (``opt`` is always ``None``) with the chi-square of the
    fits: ``chisq`` (sum over integrations) and ``chisq_ints`` (per integration), float32."""

    chisq: np.ndarray | None = None
    chisq_ints: np.ndarray | None = None


@dataclass
class _Job:
    data: np.ndarray
    groupdq: np.ndarray
    pixeldq: np.ndarray
    rnoise: np.ndarray  # float64 per-read read noise
    gain: np.ndarray
    dark: np.ndarray
    zeroframe: np.ndarray | None
    nframes: int
    ro: Readout
    t_one: float
    t_two: float
    integ: list  # slope, dq, var_p, var_r, err, chisq (nints, ny, nx)
    image: list


def fit_ramps_likely(
    data,
    groupdq,
    pixeldq,
    readnoise,
    gain,
    *,
    frame_time,
    nframes,
    groupgap,
    read_times=None,
    average_dark_current=None,
    zeroframe=None,
    rejection_threshold=None,
    max_workers=1,
    block_rows=None,
) -> LikelyResult:
    """Fit the ramps of an exposure with the likelihood algorithm (see the module doc).

    Parameters
    ----------
    data : float32 ``(nints, ngroups, ny, nx)``, DN, ``ngroups >= 4``.
    groupdq : uint8, same shape.
    pixeldq : uint32 ``(ny, nx)``.
    readnoise : ``(ny, nx)``, the reference (CDS) read noise, DN.
    gain : ``(ny, nx)``, e/DN.
    frame_time : TFRAME (s).
    nframes, groupgap : NFRAMES, GROUPGAP.
    read_times : optional list (one per group) of read-time lists (s), the exposure's
        ``read_times``; replaces the evenly spaced pattern.
    average_dark_current : optional ``(ny, nx)`` (or scalar) DN/s added to the rate that
        sets the photon noise of the final fit.
    zeroframe : optional ``(nints, ny, nx)`` ZEROFRAME (DN); used when the first group has
        two or more reads.
    rejection_threshold : optional jump threshold (sigma); default the 20.25 / 23.8
        chi-square gains (jwst's RampFitStep never sets it).
    max_workers : threads over row blocks.
    block_rows : rows per block (default: about :data:`BLOCK_PIXELS` pixels).

    Returns
    -------
    LikelyResult
        ``image`` (rate), ``integ`` (rateints), ``chisq``, ``chisq_ints``.
    """
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError("data must be 4-D (nints, ngroups, ny, nx)")
    nints, ngroups, ny, nx = data.shape
    if ngroups < LIKELY_MIN_NGROUPS:
        raise ValueError(f"the likelihood fit needs at least {LIKELY_MIN_NGROUPS} groups, not {ngroups}")
    if data.dtype != np.float32:
        data = data.astype(np.float32)
    groupdq = np.asarray(groupdq, dtype=np.uint8)
    if groupdq.shape != data.shape:
        raise ValueError("groupdq must have the shape of data")
    pixeldq = np.asarray(pixeldq, dtype=np.uint32)
    readnoise = np.asarray(readnoise)
    gain = np.asarray(gain)
    for name, arr in (("pixeldq", pixeldq), ("readnoise", readnoise), ("gain", gain)):
        if arr.shape != (ny, nx):
            raise ValueError(f"{name} must have shape {(ny, nx)}, not {arr.shape}")
    dark = np.zeros((ny, nx), np.float32) if average_dark_current is None else np.broadcast_to(
        np.asarray(average_dark_current, dtype=np.float32), (ny, nx))
    nframes = int(nframes)

    if read_times is not None and len(read_times) > 0:
        times = [np.asarray(t, dtype=np.float64) if hasattr(t, "__len__") else float(t) for t in read_times]
    else:
        times = layout_read_times(ngroups, nframes, 0 if groupgap is None else groupgap, float(frame_time))
    if zeroframe is not None:
        zeroframe = np.asarray(zeroframe, dtype=np.float32)
        if zeroframe.shape != (nints, ny, nx):
            raise ValueError(f"zeroframe must have shape {(nints, ny, nx)}, not {zeroframe.shape}")
        if not hasattr(times[0], "__len__") or len(times[0]) < 2:
            zeroframe = None  # the zero frame is the first group itself
        else:
            times = [np.asarray(times[0][:1])] + [np.asarray(times[0][1:])] + list(times[1:])
    ro = readout_covariance(times)

    if rejection_threshold is None:
        t_one, t_two = ONE_OMIT_GAIN, TWO_OMIT_GAIN
    else:
        from scipy import special, stats

        r = float(rejection_threshold)
        t_one = r**2
        t_two = float(stats.chi2.isf(special.erfc(r / math.sqrt(2.0)), 2))
        if math.isinf(t_two):
            t_two = t_one + 10

    job = _Job(
        data=data,
        groupdq=groupdq,
        pixeldq=pixeldq,
        rnoise=readnoise / np.sqrt(2.0),
        gain=gain,
        dark=dark,
        zeroframe=zeroframe,
        nframes=nframes,
        ro=ro,
        t_one=t_one,
        t_two=t_two,
        integ=[np.empty((nints, ny, nx), t) for t in (np.float32, np.uint32, np.float32, np.float32,
                                                        np.float32, np.float32)],
        image=[np.empty((ny, nx), t) for t in (np.float32, np.uint32, np.float32, np.float32,
                                               np.float32, np.float32)],
    )
    rows = int(block_rows) if block_rows else max(1, BLOCK_PIXELS // max(1, nx))
    blocks = [(r, min(r + rows, ny)) for r in range(0, ny, rows)]
    run_parallel(lambda b: _fit_block(job, *b), blocks, threads=max(1, int(max_workers or 1)))

    slope, dqi, vp, vr, err, chi = job.integ
    integ = RampFitProduct(slope, dqi, vp, vr, err)
    if nints == 1:
        image = RampFitProduct(slope[0].copy(), dqi[0].copy(), vp[0].copy(), vr[0].copy(), err[0].copy())
        chisq = chi[0].copy()
    else:
        image = RampFitProduct(*job.image[:5])
        chisq = job.image[5]
    return LikelyResult(image=image, integ=integ, opt=None, chisq=chisq, chisq_ints=chi)


def _fit_block(job: _Job, r0: int, r1: int) -> None:
    nints = job.data.shape[0]
    nx = job.data.shape[3]
    m = (r1 - r0) * nx
    gain = job.gain[r0:r1].reshape(m)
    rnoise = job.rnoise[r0:r1].reshape(m)
    dark = job.dark[r0:r1].reshape(m)
    pdq = job.pixeldq[r0:r1].reshape(m)
    dt = job.ro.dt[:, None]
    outs = [np.empty((nints, m), a.dtype) for a in job.integ]
    for i in range(nints):
        d = job.data[i, :, r0:r1].reshape(job.data.shape[1], m)
        q = job.groupdq[i, :, r0:r1].reshape(job.data.shape[1], m)
        if job.zeroframe is not None:
            z = job.zeroframe[i, r0:r1].reshape(m)
            first = (d[0] * job.nframes - z) / (job.nframes - 1)
            d = np.concatenate([z[None], first[None], d[1:]])
            q = np.concatenate([q[:1], q])
        diffs = (d[1:] - d[:-1]) / dt
        use = ((q[1:] == 0) & (q[:-1] == 0)).astype(np.uint8)
        searched = use.copy()
        rate = _search_jumps(diffs, searched, job.ro, gain, rnoise, job.t_one, job.t_two)
        with np.errstate(invalid="ignore"):
            guess = rate * (rate > 0) + dark
        fit = _gls_fit(diffs, searched, job.ro, gain, rnoise, guess, variances=True)

        outs[0][i] = fit.rate
        outs[2][i] = fit.var_p
        outs[3][i] = fit.var_r
        outs[4][i] = fit.uncert
        outs[5][i] = fit.chisq
        found = (use != searched).any(axis=0)
        qor = np.bitwise_or.reduce(q, axis=0)
        dqi = pdq.copy()
        dqi[np.all(q & (_DNU8 | _SAT8), axis=0)] |= _DNU
        dqi[(qor & _SAT8) != 0] |= _SAT
        dqi[((qor & _JUMP8) != 0) | found] |= _JUMP
        outs[1][i] = dqi

    shape = (nints, r1 - r0, nx)
    for arr, val in zip(job.integ, outs):
        arr[:, r0:r1] = val.reshape(shape)
    if nints > 1:
        image = _combine(*outs)
        for arr, val in zip(job.image, image):
            arr[r0:r1] = val.reshape(r1 - r0, nx)


def _combine(slope, dqi, var_p, var_r, err, chisq):
    """Exposure products from the integrations' ``(nints, m)`` float32 products."""
    nints = slope.shape[0]
    rdq = np.bitwise_or.reduce(dqi, axis=0) & ~_DNU
    rdq[np.count_nonzero(dqi & _DNU, axis=0) == nints] |= _DNU
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        rate = np.nanmedian(slope, axis=0)
        for _ in range(2):
            ratio = rate[None] / slope
            ratio[~np.isfinite(ratio) | (ratio < 0)] = 0
            vp_scaled = var_p * ratio
            w = 1 / (vp_scaled + var_r)
            w /= np.nansum(w, axis=0)[None]
            weighted = slope * w
            none = np.all(np.isnan(weighted), axis=0)
            rate = np.nansum(weighted, axis=0)
            rate[none] = np.nan
        w2 = w**2
        out_vars = []
        for v in (vp_scaled * w2, var_r * w2):
            none = np.all(np.isnan(v), axis=0)
            total = np.nansum(v, axis=0)
            total[none] = np.nan
            out_vars.append(total)
        vp, vr = out_vars
        err_out = np.sqrt(vp + vr)
    return rate, rdq, vp, vr, err_out, np.sum(chisq, axis=0)
