"""PSF-matching kernels by the method of Aniano et al. (2011, PASP 123, 1218).

Given a source PSF A (the sharper one) and a target PSF B on the same pixel grid, the kernel
K with A * K ~ B is found in Fourier space:

1. both PSFs are centred, circularised (rotation-averaged) and normalised;
2. ``FT(K) = FT(B) * phi(k) / FT(A)``, where ``phi`` is a low-pass filter that removes the
   frequencies at which A carries (almost) no power, so dividing by it would only amplify
   noise: ``phi = 1`` below ``k_L``, a cosine taper from ``k_L`` to ``k_H``, 0 above, with
   ``k_H`` the lowest frequency at which ``|FT(A)|`` falls to ``kh_fraction`` (0.5 %) of its
   peak and ``k_L = kl_ratio * k_H`` (0.7);
3. the kernel is brought back to real space, circularised again and normalised to a sum of 1.

Two figures of merit (Aniano's) tell how good the kernel is: ``D = sum |B - A * K|`` (0 for
a perfect kernel) and ``W- = sum of the negative part of K`` (large values mean the kernel is
"aggressive": the source PSF is not much sharper than the target).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from .profiles import circularise

__all__ = ["KernelResult", "aniano_kernel", "lowpass_filter", "pad_to"]


@dataclass
class KernelResult:
    kernel: np.ndarray
    k_h: float            # cycles per pixel
    k_l: float
    D: float              # sum |B - A*K| (PSFs normalised to 1)
    W_minus: float        # sum of the kernel's negative values (absolute)


def pad_to(img: np.ndarray, size: int) -> np.ndarray:
    """Centre ``img`` (odd size) in a ``size`` x ``size`` zero array, or crop it to that size."""
    n = img.shape[0]
    if n == size:
        return img.copy()
    out = np.zeros((size, size), img.dtype)
    if n < size:
        o = (size - n) // 2
        out[o:o + n, o:o + n] = img
    else:
        o = (n - size) // 2
        out[:] = img[o:o + size, o:o + size]
    return out


def _radial_frequency(size: int) -> np.ndarray:
    f = sfft.fftfreq(size)
    return np.hypot(*np.meshgrid(f, f, indexing="ij"))


def lowpass_filter(ft_source: np.ndarray, kh_fraction: float = 0.005, kl_ratio: float = 0.7):
    """Aniano's filter phi(k) for the source PSF's (centred, circular) Fourier transform.

    Returns ``(phi, k_h, k_l)``; frequencies in cycles per pixel.  When ``|FT(A)|`` never drops
    to ``kh_fraction`` of its peak inside the grid (a well-sampled source PSF much sharper
    than the pixels), nothing needs filtering: ``phi = 1`` and ``k_h = k_l = inf``.
    """
    k = _radial_frequency(ft_source.shape[0])
    amp = np.abs(ft_source)
    peak = amp.max()
    low = k[amp < kh_fraction * peak]
    if low.size == 0:
        return np.ones_like(k), float("inf"), float("inf")
    k_h = float(low.min())
    k_l = kl_ratio * k_h
    phi = np.zeros_like(k)
    phi[k <= k_l] = 1.0
    band = (k > k_l) & (k < k_h)
    phi[band] = 0.5 * (1.0 + np.cos(np.pi * (k[band] - k_l) / (k_h - k_l)))
    return phi, k_h, k_l


def aniano_kernel(source: np.ndarray, target: np.ndarray, *, size: int | None = None, kh_fraction: float = 0.005,
                  kl_ratio: float = 0.7, circular: bool = True) -> KernelResult:
    """The kernel taking ``source`` to ``target`` (both on the same pixel grid, odd sizes).

    ``size``: kernel size (odd; default: the larger PSF's size); the PSFs are padded to a
    common FFT grid.  ``circular``: circularise inputs and kernel (as Aniano et al. do).
    """
    a = np.asarray(source, float)
    b = np.asarray(target, float)
    if circular:
        a, b = circularise(a), circularise(b)
    else:
        a, b = a / a.sum(), b / b.sum()
    n = max(a.shape[0], b.shape[0])
    n += 1 - n % 2
    size = size or n
    size += 1 - size % 2
    grid = max(n, size)
    a2, b2 = pad_to(a, grid), pad_to(b, grid)
    fa = sfft.fft2(sfft.ifftshift(a2))
    fb = sfft.fft2(sfft.ifftshift(b2))
    phi, k_h, k_l = lowpass_filter(fa, kh_fraction, kl_ratio)
    with np.errstate(divide="ignore", invalid="ignore"):
        fk = np.where(phi > 0, fb * phi / fa, 0.0)
    k = np.real(sfft.fftshift(sfft.ifft2(fk)))
    if circular:
        k = circularise(k)
    k = pad_to(k, size)
    k /= k.sum()
    # figures of merit on the common grid
    kk = pad_to(k, grid)
    rebuilt = np.real(sfft.fftshift(sfft.ifft2(fa * sfft.fft2(sfft.ifftshift(kk)))))
    D = float(np.abs(b2 - rebuilt).sum())
    W_minus = float(-k[k < 0].sum())
    return KernelResult(k, k_h, k_l, D, W_minus)
