"""The fixed "truth" of one detector: the per-pixel maps both the simulator and the reference
files are made from, so that calibrating a simulated exposure with the simulated references
undoes exactly what the simulator did.

All maps are full frame (science frame), float32 unless noted, and depend only on the
:class:`~jwcore.sim.detector.DetectorSpec` and the seed.

Non-linearity: the LINEARITY correction is the polynomial ``t = m + a m^2`` (``a`` per
pixel, COEFFS = [0, 1, a]) applied by jwst to the bias-subtracted measured signal ``m``
(MIRI: to the raw value); the simulator applies its exact inverse
``m = 2t / (1 + sqrt(1 + 4 a t))``.  ``a`` is set so that the signal deficit at full well is
``spec.nonlinearity``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import dq
from .detector import DetectorSpec

# The IPC reference kernel is the 3x3 core of the inverse of the physical kernel.


@dataclass
class DetectorState:
    """Truth maps of a window of the detector (the full frame by default).

    ``origin`` is the 0-based (y, x) of the maps' first pixel in the full frame; use
    :meth:`view` to index them with a subarray.  A pixel's values do not depend on the window
    it was generated in.
    """

    spec: DetectorSpec
    seed: int
    superbias: np.ndarray       # DN, raw level at zero signal (bias + amp offsets + structure)
    gain: np.ndarray            # e-/DN
    read_noise: np.ndarray      # DN per frame read
    dark: np.ndarray            # DN/s (hot and warm pixels included)
    nonlin: np.ndarray          # a in t = m + a m^2 (1/DN)
    full_well: np.ndarray       # DN (linear scale, above bias)
    flat: np.ndarray            # relative pixel response (QE x illumination), mean ~1
    mask: np.ndarray            # uint32 DQ of the MASK reference
    telegraph: np.ndarray       # DN amplitude of random-telegraph pixels (0 elsewhere)
    ipc_kernel: np.ndarray      # physical 3x3 coupling, sums to 1
    ipc_inverse: np.ndarray     # 3x3 deconvolution kernel (the IPC reference), sums to 1
    amp_offsets: np.ndarray     # DN, mean offset of each output (part of superbias)
    si_as: dict = field(default_factory=dict)  # Si:As (MIRI): reset anomaly, RSCD, first/last-frame maps
    origin: tuple = (0, 0)

    def view(self, sub=None) -> tuple[slice, slice]:
        """Slices of these maps covering subarray ``sub`` (all of them if None)."""
        if sub is None:
            return (slice(None), slice(None))
        ysl, xsl = sub.slices
        y0, x0 = self.origin
        ny, nx = self.superbias.shape
        if ysl.start < y0 or xsl.start < x0 or ysl.stop - y0 > ny or xsl.stop - x0 > nx:
            raise ValueError(f"subarray {sub.name} is outside this state's window")
        return (slice(ysl.start - y0, ysl.stop - y0), slice(xsl.start - x0, xsl.stop - x0))

    @property
    def reference(self) -> np.ndarray:
        return (self.mask & dq.REFERENCE_PIXEL) != 0

    @property
    def saturation(self) -> np.ndarray:
        """SATURATION reference (raw DN incl. bias): 95% of the measured level at full well."""
        if self.spec.is_si_as:
            x_sat = measured_from_linear(self.superbias_lin + self.full_well, self.nonlin)
            out = self.superbias + 0.95 * (x_sat - self.superbias)
        else:
            out = self.superbias + 0.95 * measured_from_linear(self.full_well, self.nonlin)
        return np.minimum(out, 65000.0).astype(np.float32)

    @property
    def superbias_lin(self) -> np.ndarray:
        """MIRI: the linearised value of the raw zero level (``P(bias)``)."""
        b = self.superbias.astype(np.float64)
        return (b + self.nonlin * b * b).astype(np.float32)

    def dark_frames(self, frame_time: float, nframes: int, sub=None) -> np.ndarray:
        """Cumulative dark signal (DN) at frames 1..n, the NIR DARK reference layout."""
        dark = self.dark[self.view(sub)]
        t = frame_time * np.arange(1, nframes + 1, dtype=np.float32)
        return (t[:, None, None] * dark[None]).astype(np.float32)


def measured_from_linear(t, a):
    """The inverse of ``t = m + a m^2`` (numerically stable form)."""
    t = np.asarray(t, np.float64)
    return (2.0 * t / (1.0 + np.sqrt(1.0 + 4.0 * a * np.maximum(t, -0.2 / np.maximum(a, 1e-30))))).astype(np.float32)


def _smooth_field(coarse, ysl, xsl, full_shape):
    """Rows ``ysl`` / columns ``xsl`` of a smooth unit-rms field over the full frame: the
    coarse Gaussian grid bilinearly interpolated (two small matrix products)."""
    cells = coarse.shape[0] - 1
    ny, nx = full_shape

    def weights(n, sl):
        pos = np.linspace(0.0, cells, n)[sl]
        lo = np.minimum(np.floor(pos).astype(int), cells - 1)
        frac = pos - lo
        w = np.zeros((pos.size, cells + 1))
        w[np.arange(pos.size), lo] = 1.0 - frac
        w[np.arange(pos.size), lo + 1] = frac
        return w

    # normalise with the full-frame statistics (cheap: evaluated on a sparse grid)
    grid = weights(ny, slice(None, None, 16)) @ coarse @ weights(nx, slice(None, None, 16)).T
    mean, std = grid.mean(), grid.std() or 1.0
    return ((weights(ny, ysl) @ coarse @ weights(nx, xsl).T - mean) / std).astype(np.float32)


TILE = 256
_CACHE: dict = {}


def detector_state(spec: DetectorSpec, seed: int = 0, window=None) -> DetectorState:
    """The detector's truth maps for ``seed`` over ``window`` (a Subarray; None: full frame).
    Cached; deterministic; a pixel's values do not depend on the window."""
    wkey = None if window is None else (window.xstart, window.ystart, window.xsize, window.ysize)
    key = (id(spec), spec.key, int(seed), wkey)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    full = _CACHE.get((id(spec), spec.key, int(seed), None))
    if full is not None and window is not None:
        return _crop(full, window)
    if len(_CACHE) >= 6:
        _CACHE.pop(next(iter(_CACHE)))
    state = _make_state(spec, int(seed), window)
    _CACHE[key] = state
    return state


def _crop(state: DetectorState, window) -> DetectorState:
    vs = state.view(window)
    arrays = {k: np.ascontiguousarray(getattr(state, k)[vs]) for k in
              ("superbias", "gain", "read_noise", "dark", "nonlin", "full_well", "flat", "mask", "telegraph")}
    si_as = {k: (np.ascontiguousarray(v[vs]) if isinstance(v, np.ndarray) else v) for k, v in state.si_as.items()}
    return DetectorState(spec=state.spec, seed=state.seed, ipc_kernel=state.ipc_kernel,
                         ipc_inverse=state.ipc_inverse, amp_offsets=state.amp_offsets, si_as=si_as,
                         origin=(window.ystart - 1, window.xstart - 1), **arrays)


def _make_state(spec: DetectorSpec, seed: int, window=None) -> DetectorState:
    base = [seed, _stable_hash(spec.instrument), _stable_hash(spec.detector), 7]
    rng = np.random.default_rng(np.random.SeedSequence(base))
    ny, nx = spec.shape
    f32 = np.float32
    if window is None:
        ysl, xsl = slice(0, ny), slice(0, nx)
    else:
        ysl, xsl = window.slices
    shape = (ysl.stop - ysl.start, xsl.stop - xsl.start)
    ref = spec.reference_pixel_mask()[ysl, xsl]
    amp = spec.amplifier_map()[ysl, xsl]

    # global (small) draws: output offsets and gains, line pattern, smooth-field grids
    amp_offsets = rng.normal(0.0, 0.02 * spec.bias, spec.n_amplifiers).astype(f32)
    amp_gain = 1.0 + 0.01 * rng.normal(0, 1, spec.n_amplifiers)
    if abs(spec.fastaxis) == 1:
        lines = rng.normal(0.0, 3.0, nx).astype(f32)[None, xsl]
    else:
        lines = rng.normal(0.0, 3.0, ny).astype(f32)[ysl, None]
    bias_field = _smooth_field(rng.standard_normal((9, 9)), ysl, xsl, spec.shape)
    flat_field = _smooth_field(rng.standard_normal((7, 7)), ysl, xsl, spec.shape)

    # per-pixel draws, tile by tile (each tile its own stream)
    names = ("pix_bias", "gain", "rn", "dark", "u", "fw", "nl", "flat", "v", "hot", "warm", "lowqe", "tele",
             "reset", "first")
    maps = {n: np.zeros(shape, f32) for n in names}
    for ty in range(ysl.start // TILE, (ysl.stop - 1) // TILE + 1):
        for tx in range(xsl.start // TILE, (xsl.stop - 1) // TILE + 1):
            trng = np.random.default_rng(np.random.SeedSequence(base + [ty, tx]))
            tile = {n: trng.standard_normal((TILE, TILE), dtype=f32) for n in
                    ("pix_bias", "gain", "rn", "dark", "fw", "nl", "flat", "reset", "first")}
            tile["u"] = trng.random((TILE, TILE), dtype=f32)
            tile["v"] = trng.random((TILE, TILE), dtype=f32)
            tile["hot"] = trng.exponential(1.0, (TILE, TILE)).astype(f32)
            tile["warm"] = trng.random((TILE, TILE), dtype=f32)
            tile["lowqe"] = trng.random((TILE, TILE), dtype=f32)
            tile["tele"] = trng.random((TILE, TILE), dtype=f32)
            y0, x0 = ty * TILE, tx * TILE
            ya, yb = max(ysl.start, y0), min(ysl.stop, y0 + TILE)
            xa, xb = max(xsl.start, x0), min(xsl.stop, x0 + TILE)
            for n in names:
                maps[n][ya - ysl.start:yb - ysl.start, xa - xsl.start:xb - xsl.start] = tile[n][ya - y0:yb - y0,
                                                                                                  xa - x0:xb - x0]

    superbias = (spec.bias + amp_offsets[amp] + lines + 0.01 * spec.bias * bias_field
                 + 8.0 * maps["pix_bias"]).astype(f32)
    gain = (spec.gain * amp_gain[amp] * (1.0 + 0.02 * maps["gain"])).astype(f32)
    read_noise = (spec.read_noise * np.clip(1.0 + 0.08 * maps["rn"], 0.6, 2.0)).astype(f32)

    dark = (spec.dark_current * np.exp(0.3 * maps["dark"])).astype(f32)
    mask = np.zeros(shape, np.uint32)
    u = maps["u"]
    hot = u < 1e-3
    warm = (u >= 1e-3) & (u < 4e-3)
    dark[hot] = (spec.dark_current * 300.0 + (spec.dark_current * 3000.0 + 0.5) * maps["hot"][hot]).astype(f32)
    dark[warm] *= (10.0 + 40.0 * maps["warm"][warm]).astype(f32)
    mask[hot] |= dq.HOT
    mask[warm] |= dq.WARM

    full_well = (spec.saturation * (1.0 + 0.03 * maps["fw"])).astype(f32)
    d = spec.nonlinearity
    a0 = d / (spec.saturation * (1.0 - d) ** 2)
    nonlin = (a0 * (1.0 + 0.05 * maps["nl"])).astype(f32)

    flat = (1.0 + 0.03 * flat_field + 0.01 * maps["flat"]).astype(f32)
    v = maps["v"]
    dead = v < 5e-4
    lowqe = (v >= 5e-4) & (v < 1.5e-3)
    telegraph_px = (v >= 1.5e-3) & (v < 1.8e-3)
    flat[dead] = 0.0
    dark[dead] = 0.0
    flat[lowqe] *= (0.3 + 0.3 * maps["lowqe"][lowqe]).astype(f32)
    mask[dead] |= dq.DEAD | dq.DO_NOT_USE
    mask[lowqe] |= dq.LOW_QE
    mask[telegraph_px] |= dq.TELEGRAPH | dq.DO_NOT_USE
    telegraph = np.zeros(shape, f32)
    telegraph[telegraph_px] = (20.0 + 60.0 * maps["tele"][telegraph_px]).astype(f32)

    # reference pixels: no light, no dark current, not linearity-corrected
    flat[ref] = 0.0
    dark[ref] = 0.0
    nonlin[ref] = 0.0
    telegraph[ref] = 0.0
    mask[ref] = dq.REFERENCE_PIXEL

    kernel, inverse = ipc_kernels(spec.ipc_alpha)
    si_as = {}
    if spec.is_si_as:
        si_as = {
            "reset_amp": (-40.0 * (1.0 + 0.2 * maps["reset"])).astype(f32),
            "reset_tau": 1.5,           # groups
            "reset_int2": 0.35,         # amplitude in integrations 2+ relative to the first
            "rscd_frac": 0.004,         # fraction of the previous last-frame signal
            "rscd_tau": 0.5,            # groups
            "first_frame": (12.0 * (1.0 + 0.3 * maps["first"])).astype(f32),
            "last_frame": 0.002,        # fraction of the signal lost in the last frame
        }
        si_as["reset_amp"][ref] *= 0.5
    return DetectorState(spec=spec, seed=seed, superbias=superbias, gain=gain, read_noise=read_noise,
                         dark=dark, nonlin=nonlin, full_well=full_well, flat=flat, mask=mask,
                         telegraph=telegraph, ipc_kernel=kernel, ipc_inverse=inverse,
                         amp_offsets=amp_offsets, si_as=si_as, origin=(ysl.start, xsl.start))


def ipc_kernels(alpha: float, beta_frac: float = 0.1):
    """(physical 3x3 kernel, 3x3 deconvolution kernel): nearest neighbours ``alpha``,
    diagonals ``beta_frac * alpha``; the inverse is the 3x3 core of the exact inverse."""
    k = np.zeros((3, 3))
    k[0, 1] = k[2, 1] = k[1, 0] = k[1, 2] = alpha
    k[0, 0] = k[0, 2] = k[2, 0] = k[2, 2] = alpha * beta_frac
    k[1, 1] = 1.0 - k.sum()
    n = 33
    big = np.zeros((n, n))
    big[n // 2 - 1:n // 2 + 2, n // 2 - 1:n // 2 + 2] = k
    inv = np.real(np.fft.ifft2(1.0 / np.fft.fft2(np.fft.ifftshift(big))))
    inv = np.fft.fftshift(inv)[n // 2 - 1:n // 2 + 2, n // 2 - 1:n // 2 + 2]
    inv /= inv.sum()
    return k.astype(np.float32), inv.astype(np.float32)


def _stable_hash(text: str) -> int:
    h = 2166136261
    for ch in text.upper().encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h
