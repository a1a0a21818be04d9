"""FITS image data read with positional reads instead of a memory map.

A memory-mapped array costs resident memory for every page touched, on top of the native
copy the models hand out (FITS data are big-endian, often BZERO-offset).  Reading with
``os.pread`` into small buffers and converting chunk by chunk gives the native array and
nothing else; :class:`LazyArray` also lets a step take one plane at a time of a large
reference (a dark ramp) or of the raw ramp, so those are never held whole.

The conversion of each chunk is :func:`jwcore.datamodel.models._native`, so the values
are exactly those of the memory-mapped path.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["LazyArray", "image_source"]

#: Bytes of raw file data converted per chunk.
CHUNK_BYTES = 1 << 20

_BITPIX = {8: "u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}


def image_source(hdul, index: int, path, want_dtype=None):
    """A :class:`LazyArray` over extension ``index`` of an open HDUList, or ``None``.

    ``None`` when the data cannot be read positionally: no data, a compressed HDU or file,
    a random-groups HDU, or no file on disk.
    """
    from astropy.io import fits

    if path is None:
        return None
    hdu = hdul[index]
    if type(hdu) not in (fits.PrimaryHDU, fits.ImageHDU):
        return None
    header = hdu.header
    bitpix = header.get("BITPIX")
    naxis = header.get("NAXIS", 0)
    if bitpix not in _BITPIX or not naxis or header.get("GROUPS"):
        return None
    shape = tuple(int(header[f"NAXIS{k}"]) for k in range(naxis, 0, -1))
    if 0 in shape:
        return None
    try:
        info = hdul.fileinfo(index)
    except Exception:
        return None
    fileobj = info.get("file") if info else None
    if info is None or info.get("datLoc") is None or getattr(fileobj, "compression", None):
        return None
    handle = _Handle.for_file(fileobj, path)
    if handle is None:
        return None
    return LazyArray(handle, int(info["datLoc"]), shape, np.dtype(_BITPIX[bitpix]), header.copy(), want_dtype)


_HAS_PREADV = hasattr(os, "preadv")


class _Handle:
    """An open descriptor of the file the HDUList reads, shared by the LazyArrays cut from it.

    It duplicates the HDUList's own descriptor when it can (so a file replaced on disk since
    it was opened is still read as opened, as a memory map of it would be), else opens the
    path.  Closed when the last LazyArray using it goes away.
    """

    def __init__(self, fd: int, path):
        self.fd = fd
        self.path = os.fspath(path)
        self._lock = threading.Lock()

    @classmethod
    def for_file(cls, fileobj, path):
        try:
            fd = os.dup(fileobj._file.fileno())   # astropy's _File wraps the Python file object
        except Exception:
            if path is None or not os.path.isfile(path):
                return None
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        return cls(fd, path)

    def read_at(self, buf: memoryview, pos: int) -> None:
        """Fill ``buf`` with the bytes at offset ``pos`` (positional, thread-safe)."""
        done, total = 0, buf.nbytes
        if _HAS_PREADV:
            while done < total:
                n = os.preadv(self.fd, [buf[done:]], pos + done)
                if n <= 0:
                    raise OSError(f"{self.path}: unexpected end of file reading FITS data")
                done += n
            return
        with self._lock:   # no positional reads on this platform: seek and read under a lock
            os.lseek(self.fd, pos, os.SEEK_SET)
            while done < total:
                chunk = os.read(self.fd, total - done)
                if not chunk:
                    raise OSError(f"{self.path}: unexpected end of file reading FITS data")
                buf[done:done + len(chunk)] = chunk
                done += len(chunk)

    def __del__(self):
        try:
            os.close(self.fd)
        except (OSError, AttributeError, TypeError):
            pass


class LazyArray:
    """A FITS image on disk, read on demand.

    ``lazy[k]`` reads plane ``k`` of the first axis (a ``LazyArray`` again when the result
    would still have three or more axes), ``lazy[a:b]`` a stack of planes, and
    ``lazy[..., ys, xs]`` is a lazily cropped view (as :func:`jwcore.steps._subarray.extract`
    asks).  ``numpy.asarray(lazy)`` / :meth:`read` read everything.  Values are the native
    conversion of the stored ones (BZERO/BSCALE applied as the models apply them), in
    ``dtype``.
    """

    def __init__(self, handle, offset, shape, raw_dtype, header, want_dtype=None, crop=None):
        from .models import _native

        self.handle = handle
        self.path = handle.path
        self.offset = int(offset)
        self.full_shape = tuple(shape)
        self.raw_dtype = np.dtype(raw_dtype)
        self.header = header
        self.want = None if want_dtype is None else np.dtype(want_dtype)
        self.crop = crop   # (ys slice, xs slice) applied to the last two axes, or None
        self.dtype = _native(np.zeros(1, self.raw_dtype), header, self.want).dtype
        ny, nx = self.full_shape[-2:]
        if crop is not None:
            ny = len(range(*crop[0].indices(ny)))
            nx = len(range(*crop[1].indices(nx)))
        self.shape = self.full_shape[:-2] + (ny, nx)

    # -- array-like basics ---------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"<LazyArray {self.shape} {self.dtype} of {os.path.basename(self.path)}>"

    def __array__(self, dtype=None, copy=None):
        out = self.read()
        return out if dtype is None else out.astype(dtype, copy=False)

    # -- reading -------------------------------------------------------------------------
    def _sub(self, lead: int) -> "LazyArray":
        """The sub-array at index ``lead`` of the first axis (no read)."""
        per = int(np.prod(self.full_shape[1:])) * self.raw_dtype.itemsize
        return LazyArray(self.handle, self.offset + lead * per, self.full_shape[1:], self.raw_dtype,
                         self.header, self.want, self.crop)

    def _raw_rows(self, first_elem: int, nelems: int) -> np.ndarray:
        buf = np.empty(nelems, self.raw_dtype)
        self.handle.read_at(memoryview(buf.view(np.uint8)), self.offset + first_elem * self.raw_dtype.itemsize)
        return buf

    def read_into(self, out: np.ndarray, first: int = 0, count: int | None = None, threads: int = 1) -> np.ndarray:
        """Read planes ``first:first+count`` of the first axis into ``out`` (any dtype;
        values are cast as ``numpy.copyto(..., casting="unsafe")``).  Returns ``out``."""
        from .models import _native

        if len(self.shape) < 2:
            raise ValueError("read_into needs an array of two or more axes")
        lead = self.shape[:-2]
        nlead = int(np.prod(lead)) if lead else 1
        count = nlead - first if count is None else count
        ny_full, nx_full = self.full_shape[-2:]
        out2 = out.reshape(count, *self.shape[-2:])
        rows_per = max(1, CHUNK_BYTES // max(1, nx_full * self.raw_dtype.itemsize))
        jobs = [(p, r, min(r + rows_per, ny_full)) for p in range(count) for r in range(0, ny_full, rows_per)]
        ys, xs = self.crop if self.crop is not None else (slice(None), slice(None))
        yr = range(*ys.indices(ny_full))

        def work(job):
            p, r0, r1 = job
            if self.crop is not None:
                # only the rows of this chunk that the crop keeps
                lo, hi = max(r0, yr.start), min(r1, yr.stop)
                if lo >= hi:
                    return
            else:
                lo, hi = r0, r1
            base = (first + p) * ny_full * nx_full
            raw = self._raw_rows(base + lo * nx_full, (hi - lo) * nx_full).reshape(hi - lo, nx_full)
            vals = _native(raw, self.header, self.want)
            if self.crop is not None:
                np.copyto(out2[p, lo - yr.start: hi - yr.start], vals[:, xs], casting="unsafe")
            else:
                np.copyto(out2[p, lo:hi], vals, casting="unsafe")

        if threads > 1 and len(jobs) > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(work, jobs))
        else:
            for job in jobs:
                work(job)
        return out

    def read(self, first: int = 0, count: int | None = None, threads: int = 1) -> np.ndarray:
        """Planes ``first:first+count`` of the first axis (all by default) as a new array."""
        if len(self.shape) < 2:
            from .models import _native

            return _native(self._raw_rows(0, self.shape[0]), self.header, self.want)
        lead = self.shape[:-2]
        nlead = int(np.prod(lead)) if lead else 1
        count = nlead - first if count is None else count
        shape = (lead if (first == 0 and count == nlead) else (count,)) + self.shape[-2:]
        out = np.empty(shape, self.dtype)
        return self.read_into(out, first, count, threads)

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        if len(key) == 3 and key[0] is Ellipsis and all(isinstance(k, slice) for k in key[1:]):
            return self._cropped(key[1], key[2])
        if self.ndim <= 2 or (key and key[0] is Ellipsis):
            return self.read()[key]
        head, rest = key[0], key[1:]
        n0 = self.shape[0]
        if isinstance(head, (int, np.integer)):
            k = int(head)
            if k < 0:
                k += n0
            if not 0 <= k < n0:
                raise IndexError(f"index {head} is out of bounds for axis 0 with size {n0}")
            if self.ndim - 1 >= 3:
                sub = self._sub(k)
                return sub[rest] if rest else sub
            plane = self.read(k, 1).reshape(self.shape[1:])
            return plane[rest] if rest else plane
        if isinstance(head, slice):
            start, stop, step = head.indices(n0)
            if step == 1:
                block = self.read(start, max(0, stop - start)) if self.ndim == 3 else \
                    np.stack([np.asarray(self[k]) for k in range(start, stop)]) if stop > start else \
                    np.empty((0,) + self.shape[1:], self.dtype)
            else:
                idx = range(start, stop, step)
                block = np.stack([np.asarray(self[k]) for k in idx]) if len(idx) else \
                    np.empty((0,) + self.shape[1:], self.dtype)
            return block[(slice(None),) + rest] if rest else block
        return self.read()[key]

    def _cropped(self, ys: slice, xs: slice) -> "LazyArray":
        ny, nx = self.shape[-2:]
        y0, y1, sy = ys.indices(ny)
        x0, x1, sx = xs.indices(nx)
        if sy != 1 or sx != 1:
            raise ValueError("LazyArray crops take contiguous slices")
        if self.crop is not None:
            py, px = self.crop
            y0, y1 = py.start + y0, py.start + y1
            x0, x1 = px.start + x0, px.start + x1
        return LazyArray(self.handle, self.offset, self.full_shape, self.raw_dtype, self.header, self.want,
                         (slice(y0, y1), slice(x0, x1)))
