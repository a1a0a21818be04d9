"""Inter-pixel capacitance correction (the jwst ``ipc`` step).

Each plane of the science pixels (reference rows/columns excluded, zero beyond the
science area) is convolved with the IPC deconvolution kernel ``K`` of shape ``(kny, knx)``
and centre ``(cj, ci) = (kny // 2, knx // 2)``::

    out[y, x] = K[cj, ci] * in[y, x]
                + sum_{(j, i) != (cj, ci)} K[j, i] * in[y + kny-1-cj - j, x + knx-1-ci - i]

which for odd sizes is the plain convolution ``in[y + cj - j, x + ci - i]`` (for even
sizes this is jwst's off-centre convention).  The kernel is either one small 2-D image
(e.g. 3x3) or 4-D ``(kny, knx, ny, nx)``: a kernel per pixel.  Terms are summed in the
kernel's row-major order with the centre term last, in the data dtype, as jwst does.
"""

from __future__ import annotations

import numpy as np

from .._layout import NEAR_IR, ReadoutLayout
from .._ramp_util import run_parallel

__all__ = ["ipc_ref_pixels", "ipc_kernel_slice", "apply_ipc"]


def ipc_ref_pixels(xstart, ystart, xsize, ysize, *, layout: ReadoutLayout = NEAR_IR):
    """Reference-pixel counts ``(bottom, top, left, right)`` of a (sub)array.

    ``xstart``/``ystart`` are 1-based SUBSTRT1/SUBSTRT2, sizes SUBSIZE1/SUBSIZE2.  Where the
    reference pixels are is the detector's readout ``layout`` (its ``reference_border`` on
    its ``full_shape``; :func:`jwcore.steps._layout.readout_layout` gives an exposure's);
    the default is the near-IR frame with 4 reference rows/columns on each edge.
    """
    return layout.reference_rows(xstart, ystart, xsize, ysize)


def ipc_kernel_slice(kernel, xstart, ystart, xsize, ysize, *, layout: ReadoutLayout = NEAR_IR):
    """The part of an IPC kernel that applies to a (sub)array (a view when cut).

    A 2-D kernel is returned unchanged; a 4-D full-frame kernel is cut to the subarray
    when the science data are smaller than the ``layout``'s full frame.
    """
    if kernel.ndim == 2:
        return kernel
    if layout.is_subarray((ysize, xsize)):
        x0, y0 = xstart - 1, ystart - 1
        return kernel[:, :, y0 : y0 + ysize, x0 : x0 + xsize]
    return kernel


def _kernel_order(kshape):
    cj, ci = kshape[0] // 2, kshape[1] // 2
    order = [(j, i) for j in range(kshape[0]) for i in range(kshape[1]) if (j, i) != (cj, ci)]
    return order + [(cj, ci)]


#: Output rows per block (at least the kernel height): a few hundred kB per work array, so
#: a block's terms are summed in cache.
_BLOCK_ELEMENTS = 1 << 16


def _convolve_plane(plane, kernel, nref):
    """Convolve the science part of one 2-D plane in place, a block of rows at a time.

    Each block is read (with the ``kny // 2`` original rows above it kept from the
    previous block, and the rows below it not yet overwritten) into a small zero-padded
    buffer, and its output rows are summed term by term exactly as for the whole plane.
    """
    bottom, top, left, right = nref
    ny = plane.shape[0] - bottom - top
    nx = plane.shape[1] - left - right
    if ny <= 0 or nx <= 0:
        return
    kny, knx = kernel.shape[:2]
    pb, pl = kny // 2, knx // 2  # zero border below / left of the science area
    sci = plane[bottom : bottom + ny, left : left + nx]
    per_pixel = kernel.ndim == 4
    if per_pixel:
        ksec = kernel[:, :, bottom : bottom + ny, left : left + nx]
    cj, ci = kny // 2, knx // 2
    terms = []
    for j, i in _kernel_order((kny, knx)):
        # jwst reads the centre term at offset (cj, ci), which differs from the general
        # (k-1-j, k-1-i) rule only for even-sized kernels
        oj, oi = (cj, ci) if (j, i) == (cj, ci) else (kny - 1 - j, knx - 1 - i)
        terms.append((j, i, oj, oi))
    rows = min(ny, max(kny, _BLOCK_ELEMENTS // max(nx, 1)))
    buf = np.empty((rows + kny - 1, nx + knx - 1), dtype=plane.dtype)
    tmp = np.empty((rows, nx), dtype=plane.dtype)
    halo = sci[:0].copy()  # original rows just above the current block (none at the top)
    for y0 in range(0, ny, rows):
        y1 = min(y0 + rows, ny)
        n = y1 - y0
        # buf row t holds original science row y0 - pb + t (zero outside the science area)
        buf[...] = 0
        top_rows = halo.shape[0]
        buf[pb - top_rows : pb, pl : pl + nx] = halo
        below = min(ny, y1 + kny - 1 - pb) - y0
        buf[pb : pb + below, pl : pl + nx] = sci[y0 : y0 + below]
        if pb:
            halo = sci[max(y1 - pb, 0) : y1].copy()
        out = sci[y0:y1]
        out[...] = 0
        t = tmp[:n]
        for j, i, oj, oi in terms:
            shifted = buf[oj : oj + n, oi : oi + nx]
            if per_pixel:
                np.multiply(ksec[j, i, y0:y1], shifted, out=t)
            else:
                np.multiply(kernel[j, i], shifted, out=t)
            out += t


def apply_ipc(data, kernel, nref=(0, 0, 0, 0), *, normal_rows=None):
    """IPC-correct every plane of ``data`` in place.

    Parameters
    ----------
    data : ndarray
        ``(..., ny, nx)``, e.g. the SCI ramp ``(nints, ngroups, ny, nx)``; modified in place.
    kernel : ndarray
        2-D kernel ``(kny, knx)`` or 4-D ``(kny, knx, ny, nx)`` matching the data's last
        two axes (see :func:`ipc_kernel_slice`); for ``normal_rows`` data, matching the
        normal-pixel image.
    nref : tuple of int
        Reference pixels ``(bottom, top, left, right)`` left untouched
        (:func:`ipc_ref_pixels`).
    normal_rows : ndarray of bool or None
        NIRSpec IRS2 data: mask along axis -2 of the science ("normal") rows; the
        interleaved reference rows are left out of the convolution and untouched.
    """
    kernel = np.asarray(kernel)
    planes = data.reshape((-1,) + data.shape[-2:]) if data.ndim > 2 else data[None]
    if not np.shares_memory(planes, data):
        raise ValueError("data must be reshapeable without copying (e.g. C-contiguous)")

    def work(k):
        if normal_rows is None:
            _convolve_plane(planes[k], kernel, nref)
        else:
            normal = planes[k][normal_rows]
            _convolve_plane(normal, kernel, nref)
            planes[k][normal_rows] = normal

    run_parallel(work, range(planes.shape[0]))
