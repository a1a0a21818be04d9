"""Noise and transient generators: correlated 1/f readout noise, reference-level drifts,
cosmic rays (single hits, short tracks, NIR "snowballs" and MIRI "showers").

Everything takes a ``numpy.random.Generator`` so the caller controls seeding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def one_over_f(rng: np.random.Generator, nseries: int, length: int, rms: float,
               alpha: float = 1.0) -> np.ndarray:
    """``nseries`` independent series of ``length`` samples with a 1/f^alpha power spectrum,
    each scaled to ``rms`` (float32).  Used per frame along the slow (row) readout axis."""
    if rms <= 0 or length < 2 or nseries == 0:
        return np.zeros((nseries, length), np.float32)
    n = 2 * length
    freqs = np.fft.rfftfreq(n)
    amp = np.zeros_like(freqs)
    amp[1:] = freqs[1:] ** (-alpha / 2.0)
    spec = (rng.standard_normal((nseries, freqs.size)) + 1j * rng.standard_normal((nseries, freqs.size))) * amp
    series = np.fft.irfft(spec, n=n, axis=1)[:, :length]
    series -= series.mean(axis=1, keepdims=True)
    std = series.std(axis=1, keepdims=True)
    std[std == 0] = 1.0
    return (rms * series / std).astype(np.float32)


@dataclass
class CosmicRays:
    """Charge deposits of one integration: frame index (0-based, within the integration),
    flat pixel index into the (ny, nx) window, and electrons."""

    frame: np.ndarray
    pixel: np.ndarray
    charge: np.ndarray
    n_events: int = 0
    n_large: int = 0

    def in_frame(self, k: int):
        sel = self.frame == k
        return self.pixel[sel], self.charge[sel]


def cosmic_rays(rng: np.random.Generator, shape: tuple[int, int], nframes: int, frame_time: float,
                rate: float, large_rate: float, full_npix: int, kind: str = "snowball",
                light: np.ndarray | None = None) -> CosmicRays:
    """Cosmic rays hitting a (ny, nx) window during ``nframes`` frames.

    ``rate``: events per pixel per second; ``large_rate``: snowballs (``kind="snowball"``,
    near-IR: a saturated core of radius 2-6 px with a halo) or showers (``"shower"``, MIRI:
    a faint, wide, elongated patch) per full detector (``full_npix`` pixels) per second.
    Ordinary events deposit a lognormal charge (median ~1500 e-) along a 1-4 pixel track.
    ``light`` (optional bool mask) marks pixels that can collect charge (not reference pixels).
    """
    ny, nx = shape
    npix = ny * nx
    t_int = nframes * frame_time
    frames, pixels, charges = [], [], []

    n = rng.poisson(rate * npix * t_int)
    if n:
        fr = rng.integers(0, nframes, n)
        x0 = rng.uniform(0, nx, n)
        y0 = rng.uniform(0, ny, n)
        length = rng.uniform(0.0, 3.0, n)
        theta = rng.uniform(0.0, np.pi, n)
        q = np.minimum(rng.lognormal(np.log(1500.0), 0.9, n), 2.0e5)
        steps = 4
        for s in range(steps):
            f = s / (steps - 1)
            xs = np.floor(x0 + f * length * np.cos(theta)).astype(np.int64)
            ys = np.floor(y0 + f * length * np.sin(theta)).astype(np.int64)
            ok = (xs >= 0) & (xs < nx) & (ys >= 0) & (ys < ny)
            frames.append(fr[ok])
            pixels.append(ys[ok] * nx + xs[ok])
            charges.append((q[ok] / steps).astype(np.float32))

    n_large = rng.poisson(large_rate * t_int * npix / max(full_npix, 1))
    for _ in range(int(n_large)):
        fr = int(rng.integers(0, nframes))
        cx, cy = rng.uniform(0, nx), rng.uniform(0, ny)
        if kind == "shower":
            r = rng.uniform(15.0, 40.0)
            ecc = rng.uniform(0.3, 0.8)
            ang = rng.uniform(0, np.pi)
            ylo, yhi = int(max(cy - r, 0)), int(min(cy + r + 1, ny))
            xlo, xhi = int(max(cx - r, 0)), int(min(cx + r + 1, nx))
            if ylo >= yhi or xlo >= xhi:
                continue
            yy, xx = np.mgrid[ylo:yhi, xlo:xhi]
            dx, dy = xx + 0.5 - cx, yy + 0.5 - cy
            u = dx * np.cos(ang) + dy * np.sin(ang)
            w = (-dx * np.sin(ang) + dy * np.cos(ang)) / (1.0 - ecc)
            rr = np.hypot(u, w) / r
            inside = rr < 1.0
            q = 150.0 * (1.0 - rr[inside]) * rng.uniform(0.5, 1.5, inside.sum())
        else:
            r = rng.uniform(2.0, 6.0)
            halo = 2.5 * r
            ylo, yhi = int(max(cy - halo, 0)), int(min(cy + halo + 1, ny))
            xlo, xhi = int(max(cx - halo, 0)), int(min(cx + halo + 1, nx))
            if ylo >= yhi or xlo >= xhi:
                continue
            yy, xx = np.mgrid[ylo:yhi, xlo:xhi]
            rr = np.hypot(xx + 0.5 - cx, yy + 0.5 - cy)
            inside = rr < halo
            core = rr[inside] < r
            q = np.where(core, 5.0e5, 3.0e4 * np.exp(-(rr[inside] - r) / (0.35 * r)))
        frames.append(np.full(inside.sum(), fr, np.int64))
        pixels.append((yy[inside] * nx + xx[inside]).astype(np.int64))
        charges.append(q.astype(np.float32))

    if frames:
        frame = np.concatenate(frames).astype(np.int64)
        pixel = np.concatenate(pixels).astype(np.int64)
        charge = np.concatenate(charges).astype(np.float32)
    else:
        frame = np.zeros(0, np.int64)
        pixel = np.zeros(0, np.int64)
        charge = np.zeros(0, np.float32)
    if light is not None and pixel.size:
        keep = light.ravel()[pixel]
        frame, pixel, charge = frame[keep], pixel[keep], charge[keep]
    return CosmicRays(frame, pixel, charge, n_events=int(n), n_large=int(n_large))


def amplifier_drifts(rng: np.random.Generator, nints: int, ngroups: int, namps: int,
                     rms: float = 3.0, trend: float = 1.0) -> np.ndarray:
    """Per (integration, group, amplifier, parity) reference-level offsets (DN): a random
    level per integration and output, a slow linear trend over groups and white jitter;
    even and odd columns (rows for MIRI) drift differently."""
    level = rng.normal(0.0, 5.0 * rms, (nints, 1, namps, 2))
    slope = rng.normal(0.0, trend, (nints, 1, namps, 2))
    g = np.arange(ngroups, dtype=float)[None, :, None, None]
    jitter = rng.normal(0.0, rms, (nints, ngroups, namps, 2))
    return (level + slope * g + jitter).astype(np.float32)
