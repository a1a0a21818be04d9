"""Quick-look PNGs of products, with no plotting library: asinh stretch, 8-bit grey PNG."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def png_bytes(img: np.ndarray) -> bytes:
    """Encode a 2-D uint8 (grey) or 3-D (h, w, 3) uint8 array as PNG."""
    img = np.ascontiguousarray(img, dtype=np.uint8)
    h, w = img.shape[:2]
    color = 2 if img.ndim == 3 else 0
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def stretch(data: np.ndarray, max_size: int = 600) -> np.ndarray:
    """Block-average to at most ``max_size`` pixels a side, then an asinh stretch to uint8."""
    a = np.asarray(data, dtype=np.float32)
    step = max(1, int(np.ceil(max(a.shape) / max_size)))
    if step > 1:
        import warnings

        ny, nx = (a.shape[0] // step) * step, (a.shape[1] // step) * step
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN blocks stay NaN
            a = np.nanmean(a[:ny, :nx].reshape(ny // step, step, nx // step, step), axis=(1, 3))
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return np.zeros(a.shape, np.uint8)
    lo, hi = np.percentile(finite, [1.0, 99.7])
    scale = max(hi - lo, 1e-12)
    x = np.clip((np.nan_to_num(a, nan=lo) - lo) / scale, 0, 1)
    y = np.arcsinh(10 * x) / np.arcsinh(10)
    return (y[::-1] * 255).astype(np.uint8)   # FITS row 0 at the bottom, as DS9 shows it


def product_image(path) -> np.ndarray | None:
    """A 2-D view of a product's SCI: rate/cal/i2d as is; cubes their first plane; ramps the last group."""
    from ..datamodel import open_model

    try:
        with open_model(path) as m:
            data = m.data
            if data is None:
                return None
            while data.ndim > 2:
                data = data[0] if data.ndim == 3 else data[0, -1]
            return np.array(data, dtype=np.float32)
    except Exception:
        return None


def mark_sources(rgb: np.ndarray, xy, step: int, size: int = 4) -> None:
    h = rgb.shape[0]
    for x, y in xy:
        cx, cy = int(x / step), h - 1 - int(y / step)
        for d in range(-size, size + 1):
            for px, py in ((cx + d, cy), (cx, cy + d)):
                if 0 <= px < rgb.shape[1] and 0 <= py < h:
                    rgb[py, px] = (255, 60, 60)


def write_quicklook(product, out_png, sources=None, max_size: int = 600) -> Path | None:
    data = product_image(product)
    if data is None:
        return None
    grey = stretch(data, max_size)
    step = max(1, int(np.ceil(max(data.shape) / max_size)))
    img = np.repeat(grey[:, :, None], 3, axis=2)
    if sources is not None and len(sources):
        mark_sources(img, sources, step)
    out_png = Path(out_png)
    out_png.write_bytes(png_bytes(img))
    return out_png
