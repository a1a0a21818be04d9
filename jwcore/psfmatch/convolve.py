"""Convolution of an image with a kernel, with masked pixels and propagated errors.

Invalid pixels (NaN, or ``valid`` False) are left out by normalised convolution: the image
times the validity mask is convolved, and divided by the convolved mask, so holes neither
drag the surroundings towards zero nor spread NaNs; pixels whose kernel-weighted coverage is
below ``min_weight`` (and the holes themselves, with ``preserve_invalid``) come out NaN.

Arithmetic is float32, in row slabs (:data:`BLOCK_ROWS`), so a large mosaic needs a few times
its own size in memory, not tens.

Errors: for uncorrelated input errors, the output variance is the input variance convolved
with the *square* of the kernel (divided by the squared coverage).  Resampled (i2d) images
already have correlated noise between neighbouring pixels, which this does not model: their
propagated ERR is a lower limit, as for any per-pixel propagation.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from .profiles import resample_circular

__all__ = ["convolve_image", "resample_kernel"]


def resample_kernel(kernel: np.ndarray, kernel_scale: float, image_scale: float) -> np.ndarray:
    """A circular kernel brought from ``kernel_scale`` to ``image_scale`` arcsec/pixel (sum 1),
    sampled at the new pixel centres (see :func:`resample_circular`).  Unchanged (but
    normalised) when the scales agree to 1e-6."""
    if abs(kernel_scale - image_scale) <= 1e-6 * image_scale:
        return kernel / kernel.sum()
    return resample_circular(kernel, kernel_scale, image_scale, integrate=False)


BLOCK_ROWS = 1024


def _conv(a: np.ndarray, k: np.ndarray, block_rows: int = BLOCK_ROWS) -> np.ndarray:
    """``a`` convolved with ``k`` ("same" size, zeros outside), in float32, in slabs of
    ``block_rows`` rows plus the kernel's half-height on each side, so memory stays bounded
    for large mosaics (FFT workers: :func:`jwcore.parallel.threads`)."""
    from scipy import fft as sfft

    from ..parallel import threads

    a = np.asarray(a, np.float32)
    k = np.asarray(k, np.float32)
    ny = a.shape[0]
    h = k.shape[0] // 2
    with sfft.set_workers(threads()):
        if ny <= block_rows + 2 * h:
            return signal.oaconvolve(a, k, mode="same").astype(np.float32)
        out = np.empty(a.shape, np.float32)
        for r0 in range(0, ny, block_rows):
            r1 = min(r0 + block_rows, ny)
            s0, s1 = max(r0 - h, 0), min(r1 + h, ny)
            slab = signal.oaconvolve(a[s0:s1], k, mode="same")
            out[r0:r1] = slab[r0 - s0:r1 - s0]
        return out


def convolve_image(data: np.ndarray, kernel: np.ndarray, valid: np.ndarray | None = None, *, err=None,
                   variances: dict | None = None, min_weight: float = 0.5,
                   preserve_invalid: bool = True) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """Convolve a 2-D image with ``kernel`` (odd, summing to 1).

    Returns ``(data, err, variances)`` as float32; ``err`` and each entry of ``variances``
    (e.g. ``{"var_poisson": ...}``) are propagated when given.
    """
    data = np.asarray(data, np.float32)
    k = np.asarray(kernel, np.float64)
    k = k / k.sum()
    ok = np.isfinite(data) if valid is None else (np.asarray(valid, bool) & np.isfinite(data))
    cover = _conv(ok.astype(np.float32), k)
    good = cover >= min_weight
    if preserve_invalid:
        good &= ok
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(good, _conv(np.where(ok, data, 0.0), k) / cover, np.nan).astype(np.float32)
        k2 = k * k
        cover2 = cover * cover

        def prop(var):
            v = np.where(ok & np.isfinite(var), var, 0.0)
            return np.where(good, np.maximum(_conv(v, k2), 0.0) / cover2, np.nan).astype(np.float32)

        err_out = None
        if err is not None:
            e = np.asarray(err, np.float32)
            err_out = np.sqrt(prop(e * e))
        var_out = {name: prop(np.asarray(v, np.float32)) for name, v in (variances or {}).items() if v is not None}
    return out, err_out, var_out
