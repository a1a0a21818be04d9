"""Turn a count-rate image into a raw up-the-ramp exposure (uint16 DN).

Per integration the detector is reset, then every frame ``k`` (read ``(k+1)*tframe`` after
the reset) sees the charge collected so far:

1. electrons: Poisson increments of (scene x flat + dark x gain) per frame, cosmic-ray
   deposits at their arrival frame, clipped at the pixel's full well;
2. measured signal: the non-linear response ``m = C^-1(Q / gain)`` (see
   :mod:`jwcore.sim.state`); MIRI applies it to the raw level (bias included);
3. groups average their ``nframes`` frames (``groupgap`` frames are skipped);
4. IPC couples each group's signal to the 8 neighbours (3x3 kernel, zero outside the window);
5. the raw value adds the superbias, per-output drifts (separately for even and odd
   columns; rows for MIRI), correlated 1/f noise along the slow readout axis, kTC reset
   noise, white read noise, random-telegraph pixels, and for MIRI the reset anomaly, RSCD
   and first/last-frame effects; it is rounded and clipped to 0..65535.

On request (``zero_frame=True``, near-infrared detectors) the zero frame is kept too: the
first frame after each reset read on its own, with the first group's bias terms and a
full (not frame-averaged) white read noise drawn from a stream of its own, so the ramp is
the same with or without it.

Reference pixels collect no light and no dark current but carry every bias term.  The work
runs in fixed row blocks (``RampOptions.block_rows``), each with its own random stream, on a
small thread pool: the output depends on the seed and the block size, never on the number of
threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .detector import ReadPattern, Subarray
from .noise import amplifier_drifts, cosmic_rays, one_over_f
from .state import DetectorState


@dataclass
class RampOptions:
    noiseless: bool = False       # expectation values only: no Poisson, read, 1/f, kTC, drifts, CRs
    cosmic_rays: bool = True
    # per-output drifts and 1/f noise along the slow axis; off when a raw readout adds its own
    # (NIRSpec IRS2: time-ordered noise shared with the interleaved reference pixels)
    correlated_noise: bool = True
    threads: int = 2
    block_rows: int = 256


@dataclass
class RampResult:
    data: np.ndarray              # uint16 (nints, ngroups, ny, nx)
    truth_rate: np.ndarray        # DN/s the ramp encodes (scene x flat / gain), dark excluded
    n_cosmic_rays: int = 0
    n_large_events: int = 0
    zeroframe: np.ndarray | None = None  # uint16 (nints, ny, nx) when asked for


def group_frames(ngroups: int, pattern: ReadPattern) -> list[list[int]]:
    """Frame indices (0-based from the reset) averaged into each group."""
    step = pattern.nframes + pattern.groupgap
    return [[g * step + j for j in range(pattern.nframes)] for g in range(ngroups)]


def _ipc(m: np.ndarray, kernel: np.ndarray, r0: int, r1: int) -> np.ndarray:
    """Rows r0:r1 of the 3x3 convolution of ``m`` (zero outside the array)."""
    ny, nx = m.shape
    lo, hi = max(r0 - 1, 0), min(r1 + 1, ny)
    pad = np.zeros((r1 - r0 + 2, nx + 2), np.float32)
    pad[(lo - (r0 - 1)):(lo - (r0 - 1)) + (hi - lo), 1:nx + 1] = m[lo:hi]
    out = np.zeros((r1 - r0, nx), np.float32)
    for j in range(3):
        for i in range(3):
            c = kernel[2 - j, 2 - i]
            if c:
                out += c * pad[j:j + r1 - r0, i:i + nx]
    return out


def simulate_ramp(state: DetectorState, sub: Subarray, pattern: ReadPattern, ngroups: int, nints: int,
                  frame_time: float, scene: np.ndarray, *, seed: int,
                  options: RampOptions | None = None, zero_frame: bool = False) -> RampResult:
    """Simulate the raw ramp of a (ny, nx) window; ``scene`` is in e-/s per pixel before the
    flat field (the ideal detector).  ``zero_frame``: also return the ZEROFRAME (not for
    MIRI)."""
    opt = options or RampOptions()
    spec = state.spec
    ysl, xsl = sub.slices
    vs = state.view(sub)
    ny, nx = sub.shape
    if scene.shape != (ny, nx):
        raise ValueError(f"scene shape {scene.shape} != window {(ny, nx)}")
    si_as = spec.is_si_as
    sb = state.superbias[vs]
    gain = state.gain[vs]
    a = state.nonlin[vs]
    fw_e = state.full_well[vs] * gain
    ref = state.reference[vs]
    lam = (scene.astype(np.float32) * state.flat[vs] + state.dark[vs] * gain).astype(np.float32)
    lam[ref] = 0.0
    truth = (scene * state.flat[vs] / gain).astype(np.float32)
    truth[ref] = 0.0
    sb_lin = (sb.astype(np.float64) + a * sb.astype(np.float64) ** 2) if si_as else None
    rn = state.read_noise[vs]
    amp = spec.amplifier_map()[ysl, xsl]
    yy, xx = np.mgrid[ysl, xsl]
    if si_as:
        parity = (yy % 2).astype(np.int8)           # MIRI refpix: odd/even rows per output
    else:
        parity = ((xx if abs(spec.fastaxis) == 1 else yy) % 2).astype(np.int8)
    slow_index = yy - ysl.start if abs(spec.fastaxis) == 1 else xx - xsl.start
    telegraph = state.telegraph[vs]
    tele_idx = np.flatnonzero(telegraph)
    kernel = state.ipc_kernel

    frames = group_frames(ngroups, pattern)
    nframes_int = frames[-1][-1] + 1
    nf = pattern.nframes
    noiseless = opt.noiseless
    out = np.empty((nints, ngroups, ny, nx), np.uint16)
    zero_frame = bool(zero_frame) and not si_as
    zout = np.empty((nints, ny, nx), np.uint16) if zero_frame else None
    root = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 0x5EED])
    glob_rng = np.random.default_rng(root.spawn(1)[0])
    blocks = [(r, min(r + opt.block_rows, ny)) for r in range(0, ny, opt.block_rows)]

    if noiseless or not opt.correlated_noise:
        drifts = np.zeros((nints, ngroups, spec.n_amplifiers, 2), np.float32)
        onef = np.zeros((nints, ngroups, slow_index.max() + 1), np.float32)
    else:
        # jitter per group, plus a slow thermal trend of ~0.05 DN/s (scaled with drift_rms)
        tgroup = frame_time * (pattern.nframes + pattern.groupgap)
        drifts = amplifier_drifts(glob_rng, nints, ngroups, spec.n_amplifiers, rms=spec.drift_rms,
                                  trend=0.05 * spec.drift_rms / 3.0 * tgroup)
        # 1/f power per octave is constant: a frame read in n rows carries a fraction
        # ln(n)/ln(2048) of the full-frame variance (the rest is frame-to-frame offset)
        nslow = int(slow_index.max()) + 1
        rms_1f = spec.one_over_f / np.sqrt(nf) * np.sqrt(np.log(max(nslow, 2)) / np.log(2048.0))
        onef = one_over_f(glob_rng, nints * ngroups, nslow, rms_1f).reshape(nints, ngroups, -1)

    n_cr = n_large = 0
    last_signal = None
    pool = ThreadPoolExecutor(max_workers=max(1, opt.threads))
    try:
        for i in range(nints):
            rngs = [np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 0x5EED, i, b]))
                    for b in range(len(blocks))]
            if noiseless or not opt.cosmic_rays:
                crs = None
            else:
                crs = cosmic_rays(glob_rng, (ny, nx), nframes_int, frame_time, spec.cosmic_ray_rate,
                                  spec.snowball_rate, spec.shape[0] * spec.shape[1],
                                  kind="shower" if si_as else "snowball", light=~ref)
                n_cr += crs.n_events
                n_large += crs.n_large
            q = np.zeros((ny, nx), np.float32)
            ktc = np.zeros((ny, nx), np.float32)

            def reset(b):
                r0, r1 = blocks[b]
                if not noiseless:
                    ktc[r0:r1] = spec.ktc_noise * rngs[b].standard_normal((r1 - r0, nx), dtype=np.float32)

            list(pool.map(reset, range(len(blocks))))
            tele_state = (glob_rng.random(tele_idx.size) < 0.5) if tele_idx.size else None
            prev_frame = -1
            mgroup = np.zeros((ny, nx), np.float32)
            for g, fr in enumerate(frames):
                mgroup[:] = 0.0
                for k in fr:
                    dt = (k - prev_frame) * frame_time

                    def accumulate(b, dt=dt):
                        r0, r1 = blocks[b]
                        mean = lam[r0:r1] * np.float32(dt)
                        if noiseless:
                            q[r0:r1] += mean
                        else:
                            q[r0:r1] += rngs[b].poisson(mean).astype(np.float32)

                    list(pool.map(accumulate, range(len(blocks))))
                    if crs is not None and crs.pixel.size:
                        sel = (crs.frame > prev_frame) & (crs.frame <= k)
                        if sel.any():
                            np.add.at(q.ravel(), crs.pixel[sel], crs.charge[sel])
                    prev_frame = k

                    def measure(b):
                        r0, r1 = blocks[b]
                        np.minimum(q[r0:r1], fw_e[r0:r1], out=q[r0:r1])
                        t = q[r0:r1] / gain[r0:r1]
                        if si_as:
                            y = sb_lin[r0:r1] + t
                            aa = a[r0:r1].astype(np.float64)
                            x = 2.0 * y / (1.0 + np.sqrt(1.0 + 4.0 * aa * y))
                            mgroup[r0:r1] += (x - sb[r0:r1]).astype(np.float32)
                        else:
                            aa = a[r0:r1]
                            mgroup[r0:r1] += 2.0 * t / (1.0 + np.sqrt(1.0 + 4.0 * aa * t))

                    list(pool.map(measure, range(len(blocks))))
                    if zero_frame and k == 0:
                        m0 = mgroup.copy()  # frame 0 alone: the zero frame's signal
                if nf > 1:
                    mgroup /= np.float32(nf)
                if tele_state is not None and not noiseless:
                    flip = glob_rng.random(tele_idx.size) < 0.3
                    tele_state ^= flip
                drift_g = drifts[i, g]
                onef_g = onef[i, g]
                tele_g = None
                if tele_state is not None and not noiseless:
                    tele_g = np.zeros(ny * nx, np.float32)
                    tele_g[tele_idx] = telegraph.ravel()[tele_idx] * tele_state

                def finish(b, g=g, drift_g=drift_g, onef_g=onef_g, tele_g=tele_g):
                    r0, r1 = blocks[b]
                    v = _ipc(mgroup, kernel, r0, r1)
                    v[ref[r0:r1]] = 0.0
                    raw = sb[r0:r1] + v
                    raw += drift_g[amp[r0:r1], parity[r0:r1]]
                    raw += onef_g[slow_index[r0:r1]]
                    if not noiseless:
                        raw += ktc[r0:r1]
                        white = rngs[b].standard_normal((r1 - r0, nx), dtype=np.float32)
                        raw += rn[r0:r1] * white / np.float32(np.sqrt(nf))
                        if tele_g is not None:
                            raw += tele_g.reshape(ny, nx)[r0:r1]
                    if si_as:
                        raw += _si_as_effects(state, vs, r0, r1, i, g, ngroups, v, last_signal)
                    np.rint(raw, out=raw)
                    np.clip(raw, 0, 65535, out=raw)
                    out[i, g, r0:r1] = raw.astype(np.uint16)

                list(pool.map(finish, range(len(blocks))))
                if zero_frame and g == 0:
                    _zero_frame_raw(zout[i], m0, kernel, ref, sb, drift_g[amp, parity], onef_g[slow_index],
                                    None if noiseless else ktc, None if noiseless else rn, tele_g, blocks,
                                    [int(seed) & 0xFFFFFFFF, 0x5EED, i, 0x2E50])
            last_signal = mgroup.copy()
    finally:
        pool.shutdown()
    return RampResult(out, truth, n_cr, n_large, zout)


def _zero_frame_raw(out, m0, kernel, ref, sb, drift, onef, ktc, rn, tele, blocks, key) -> None:
    """Raw uint16 zero frame (into ``out``) from the first frame's signal ``m0``; ``ktc`` /
    ``rn`` None for noiseless data.  Each row block draws from its own stream (``key + [b]``)."""
    ny, nx = out.shape
    for b, (r0, r1) in enumerate(blocks):
        v = _ipc(m0, kernel, r0, r1)
        v[ref[r0:r1]] = 0.0
        raw = sb[r0:r1] + v + drift[r0:r1] + onef[r0:r1]
        if ktc is not None:
            raw += ktc[r0:r1]
        if rn is not None:
            rng = np.random.default_rng(np.random.SeedSequence(key + [b]))
            raw += rn[r0:r1] * rng.standard_normal((r1 - r0, nx), dtype=np.float32)
        if tele is not None:
            raw += tele.reshape(ny, nx)[r0:r1]
        np.rint(raw, out=raw)
        np.clip(raw, 0, 65535, out=raw)
        out[r0:r1] = raw.astype(np.uint16)


def _si_as_effects(state: DetectorState, vs, r0, r1, i, g, ngroups, v, last_signal):
    """Si:As (MIRI) raw-level effects (DN) for rows r0:r1 of group g of integration i."""
    p = state.si_as
    ysl, xsl = vs
    rows = slice((ysl.start or 0) + r0, (ysl.start or 0) + r1)
    scale = 1.0 if i == 0 else p["reset_int2"]
    effect = p["reset_amp"][rows, xsl] * np.float32(scale * np.exp(-g / p["reset_tau"]))
    if i > 0 and last_signal is not None:
        effect -= p["rscd_frac"] * np.exp(-g / p["rscd_tau"]) * last_signal[r0:r1]
    if g == 0:
        effect += p["first_frame"][rows, xsl]
    if g == ngroups - 1 and ngroups > 1:
        effect -= p["last_frame"] * v
    return effect.astype(np.float32)


def reset_anomaly(state: DetectorState, i: int, g: int) -> np.ndarray:
    """MIRI reset anomaly (DN, over the state's window) in group ``g`` of integration ``i``:
    the RESET reference holds exactly these values for integration 1 and integrations 2+."""
    p = state.si_as
    scale = 1.0 if i == 0 else p["reset_int2"]
    return (p["reset_amp"] * np.float32(scale * np.exp(-g / p["reset_tau"]))).astype(np.float32)
