"""Simple Improved Reference Subtraction (SIRS; Rauscher et al.) of the near-IR 1/f noise,
matching ``jwst`` 3.0.0 ``refpix`` with ``refpix_algorithm="sirs"``.

The SIRSKERNEL reference holds, for each detector (a top-level key such as ``nrca1``), two
complex arrays ``gamma`` and ``zeta`` of shape ``(nchan, nfreq)`` (one row per amplifier):
the Fourier coefficients of the filters that predict an amplifier's 1/f noise in each row
from the mean of the four left (``gamma``) and the four right (``zeta``) reference columns.

Kernels (:func:`sirs_kernels`, as ``jwst``'s ``make_kernels``)
    For each amplifier the inverse real FFT of the coefficients (length ``2 * (nfreq - 1)``,
    computed by numpy in the coefficients' precision: complex64 gives a float32 kernel),
    centred with ``fftshift`` and cut to the ``2 * halfwidth + 1`` taps around the centre,
    then smoothed (``np.convolve``, ``"same"``) with a normalised Gaussian of sigma
    ``gaussmooth`` taps sampled on the same ``-halfwidth .. halfwidth`` grid.  Float64.

Template (:func:`sirs_template`, as ``apply_conv_kernel``)
    On one group in detector orientation, after the top/bottom reference-row correction,
    in float64, for the left and the right (nrows, 4) side columns separately:

    * the median of the whole strip and 1.48 times the median absolute deviation from it;
    * a pixel is good when it lies within ``sigreject`` such sigmas of the median (a NaN
      is never good; DQ flags are *not* used);
    * per row: the sum of the good pixels divided by 4, and the number of good pixels;
    * per amplifier: the row signal convolved with the kernel (``np.convolve``,
      ``"same"``), scaled by ``conv(1, k) / conv(ngood / 4, k)`` (which undoes the zeros of
      the rejected pixels), left plus right.

    The template of amplifier ``c`` is subtracted from detector columns
    ``c * ncols // 4 .. (c + 1) * ncols // 4`` of every row; the result is rounded to
    float32 once.

The 1-D convolutions are done with ``np.convolve`` (direct, 2 x ``halfwidth`` + 1 taps over
the 2048 rows), exactly as ``jwst`` does them, so that the templates agree to the last bit;
they cost a few milliseconds per group, nothing next to the float64 pass over the frame,
which :func:`jwcore.steps.refpix.nir.correct_nir` does in row blocks.

Where ``jwst`` applies it (mirrored by the step): near-IR full frames (subarray name with
``FULL``, not MIRI, not IRS2) with ``use_side_ref_pixels``, in place of the running median of
the side pixels; the top/bottom correction comes first and is unchanged, ``side_gain`` and
``side_smoothing_length`` are not used.  Without a SIRSKERNEL reference, or when it has no
``gamma``/``zeta`` for the detector, the running median is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MAD_TO_SIGMA",
    "SirsKernels",
    "find_sirs_coefficients",
    "sirs_kernels",
    "sirs_template",
    "sirs_column_slices",
]

MAD_TO_SIGMA = 1.48   # sigma of a normal distribution per median absolute deviation (jwst's value)
NSIDE = 4             # side reference columns on each edge


@dataclass(frozen=True)
class SirsKernels:
    """Convolution kernels of one detector: ``left[c]`` and ``right[c]`` are the float64
    taps of amplifier ``c`` for the left and the right side reference columns."""

    left: tuple
    right: tuple

    @property
    def nchan(self) -> int:
        """Number of amplifiers (output channels) the kernels are for."""
        return len(self.left)


def find_sirs_coefficients(tree: Mapping, detector: str):
    """``(gamma, zeta)`` of ``detector`` in a SIRSKERNEL tree, or ``None`` when absent.

    The detector's entry is the top-level key equal to the detector name, case ignored
    (``nrca1`` for NRCA1), holding ``gamma`` and ``zeta``.  Arrays keep their stored dtype
    (complex64 in the CRDS files); lists become numpy arrays.
    """
    want = str(detector or "").lower()
    gamma = zeta = None
    for key, node in tree.items():
        if str(key).lower() != want or not isinstance(node, Mapping):
            continue
        if "gamma" in node:
            gamma = np.array(node["gamma"])
        if "zeta" in node:
            zeta = np.array(node["zeta"])
        if gamma is not None and zeta is not None:
            return gamma, zeta
    return None


def _gaussian(halfwidth: int, gaussmooth: float) -> np.ndarray:
    taps = np.arange(-halfwidth, halfwidth + 1)
    w = np.exp(-(taps**2) / (2 * gaussmooth**2))
    return w / np.sum(w)


def _one_kernel(coeffs: np.ndarray, halfwidth: int, smooth: np.ndarray) -> np.ndarray:
    centre = coeffs.shape[-1] - 1          # fftshift puts lag 0 of the 2*centre taps here
    taps = np.fft.fftshift(np.fft.irfft(coeffs))[centre - halfwidth : centre + halfwidth + 1]
    return np.convolve(taps, smooth, mode="same")


def sirs_kernels(gamma: np.ndarray, zeta: np.ndarray, *, gaussmooth: float = 1.0,
                 halfwidth: int = 30) -> SirsKernels:
    """Kernels from the SIRSKERNEL coefficients (``gamma`` for the left, ``zeta`` for the
    right reference columns; ``(nchan, nfreq)`` complex) with the RefPixStep parameters
    ``gaussmooth`` and ``halfwidth``."""
    gamma = np.asarray(gamma)
    zeta = np.asarray(zeta)
    if gamma.ndim != 2 or zeta.ndim != 2:
        raise ValueError(f"SIRS gamma/zeta must be 2-D (amplifier, frequency), got {gamma.shape} and {zeta.shape}")
    halfwidth = int(halfwidth)
    smooth = _gaussian(halfwidth, float(gaussmooth))
    left = tuple(_one_kernel(gamma[c], halfwidth, smooth) for c in range(gamma.shape[0]))
    right = tuple(_one_kernel(zeta[c], halfwidth, smooth) for c in range(gamma.shape[0]))
    return SirsKernels(left, right)


def _side_signal(cols: np.ndarray, sigreject: float):
    """Per-row sum of the good pixels / 4 and per-row good count / 4 of a (nrows, 4) strip."""
    centre = np.median(cols)
    dev = np.abs(cols - centre)
    sigma = MAD_TO_SIGMA * np.median(dev)
    good = dev <= sigreject * sigma
    signal = np.sum(cols * good, axis=1) / NSIDE
    weight = np.sum(good, axis=1) / NSIDE
    return signal, weight


def sirs_template(left: np.ndarray, right: np.ndarray, kernels: SirsKernels, *,
                  sigreject: float = 4.0) -> np.ndarray:
    """The 1/f template of one group: float64 ``(nrows, nchan)``.

    ``left``/``right``: the (nrows, 4) side reference columns in detector orientation
    (float64, after the top/bottom correction).  Column ``c`` is subtracted from amplifier
    ``c``'s columns (see :func:`sirs_column_slices`).
    """
    left = np.asarray(left, dtype=np.float64)
    right = np.asarray(right, dtype=np.float64)
    nrows = left.shape[0]
    out = np.empty((nrows, kernels.nchan), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        sig_l, w_l = _side_signal(left, sigreject)
        sig_r, w_r = _side_signal(right, sigreject)
        ones = np.ones(nrows)
        for c, (kl, kr) in enumerate(zip(kernels.left, kernels.right)):
            norm_l = np.convolve(ones, kl, mode="same") / np.convolve(w_l, kl, mode="same")
            norm_r = np.convolve(ones, kr, mode="same") / np.convolve(w_r, kr, mode="same")
            out[:, c] = np.convolve(sig_l, kl, mode="same") * norm_l + np.convolve(sig_r, kr, mode="same") * norm_r
    return out


def sirs_column_slices(nchan: int, ncols: int) -> list:
    """Detector-column slice of each amplifier's template: ``c * ncols // 4`` up to
    ``(c + 1) * ncols // 4`` (empty beyond the frame when a file has more than 4 rows)."""
    return [slice(c * ncols // 4, (c + 1) * ncols // 4) for c in range(nchan)]
