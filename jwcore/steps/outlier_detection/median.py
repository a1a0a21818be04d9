"""The median of many same-shaped images without holding them all in memory.

Images are appended to one scratch file on disk (float32, image after image).  The median is
then taken in row blocks: for each block the same rows of every image are read (plain file
reads, no memory map, so nothing stays resident) into an (n, rows, nx) buffer whose size is
bounded by ``buffer_bytes`` (default: the size of one image, at least 16 MB), and the NaN-
ignoring median is taken along the first axis.  Peak memory is the output image plus that
buffer, whatever the number of images.

The per-pixel median is numpy's ``nanmedian`` (middle value, or the float32 mean of the two
middle values), computed by sorting along the image axis.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

__all__ = ["nanmedian_axis0", "DiskMedian"]

_MIN_BUFFER = 16 << 20


def nanmedian_axis0(cube: np.ndarray) -> np.ndarray:
    """NaN-ignoring median along axis 0 (same values as ``np.nanmedian(cube, axis=0)``;
    all-NaN columns give NaN).  ``cube`` is sorted in place."""
    n = cube.shape[0]
    cube.sort(axis=0)                      # NaNs sort to the end
    count = n - np.count_nonzero(np.isnan(cube), axis=0)
    lo = np.maximum(count - 1, 0) // 2
    hi = np.maximum(count, 1) // 2
    a = np.take_along_axis(cube, lo[None], axis=0)[0]
    b = np.take_along_axis(cube, hi[None], axis=0)[0]
    even = (count % 2 == 0)
    out = np.where(even, (a + b) / np.asarray(2, cube.dtype), a)
    out[count == 0] = np.nan
    return out.astype(cube.dtype, copy=False)


class DiskMedian:
    """Collect ``n`` images of ``shape`` on disk, then :meth:`median` them by row blocks."""

    def __init__(self, shape, n, dtype=np.float32, tempdir=None, buffer_bytes=None, threads=1):
        self.shape = tuple(shape)
        self.n = int(n)
        self.dtype = np.dtype(dtype)
        self.threads = max(1, int(threads))
        image_bytes = self.shape[0] * self.shape[1] * self.dtype.itemsize
        self.buffer_bytes = int(buffer_bytes or max(image_bytes, _MIN_BUFFER))
        row_bytes = self.n * self.shape[1] * self.dtype.itemsize
        # each thread holds one block: the budget is shared between them
        per_thread = self.buffer_bytes // self.threads
        self.block_rows = max(1, min(self.shape[0], per_thread // max(row_bytes, 1)))
        fd, name = tempfile.mkstemp(prefix="jwcal_median_", suffix=".f32", dir=tempdir)
        os.close(fd)
        self.path = Path(name)
        self.count = 0

    def append(self, image: np.ndarray) -> None:
        if image.shape != self.shape:
            raise ValueError(f"image shape {image.shape} != {self.shape}")
        if self.count >= self.n:
            raise IndexError(f"more than {self.n} images")
        with open(self.path, "ab") as f:
            np.ascontiguousarray(image, dtype=self.dtype).tofile(f)
        self.count += 1

    def _block(self, r0, r1):
        ny, nx = self.shape
        item = self.dtype.itemsize
        buf = np.empty((self.count, r1 - r0, nx), self.dtype)
        with open(self.path, "rb") as f:
            for k in range(self.count):
                f.seek((k * ny + r0) * nx * item)
                buf[k] = np.fromfile(f, dtype=self.dtype, count=(r1 - r0) * nx).reshape(r1 - r0, nx)
        return nanmedian_axis0(buf)

    def median(self) -> np.ndarray:
        """The (ny, nx) median of the images appended so far (then the scratch file is removed)."""
        if self.count == 0:
            raise ValueError("no images to take the median of")
        ny, _ = self.shape
        out = np.empty(self.shape, self.dtype)
        starts = list(range(0, ny, self.block_rows))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)

                def work(r0):
                    r1 = min(ny, r0 + self.block_rows)
                    out[r0:r1] = self._block(r0, r1)

                if self.threads > 1 and len(starts) > 1:
                    with ThreadPoolExecutor(self.threads) as pool:
                        list(pool.map(work, starts))
                else:
                    for r0 in starts:
                        work(r0)
        finally:
            self.cleanup()
        return out

    def cleanup(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def __del__(self):
        self.cleanup()
