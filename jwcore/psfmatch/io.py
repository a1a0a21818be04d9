"""PSF specifications, kernel files and image pixel scales for ``jwcal kernel``/``convolve``.

A PSF is given as

* ``gaussian:FWHM`` - a circular Gaussian of FWHM arcsec;
* ``moffat:FWHM`` or ``moffat:FWHM:BETA`` - a Moffat profile (default beta 2.5);
* a FITS file (e.g. from WebbPSF/STPSF): the first image HDU with data; its pixel scale from
  PIXELSCL or PIXSCALE (arcsec), else CDELT1/CD1_1 (deg), unless given explicitly.

A kernel file is a FITS primary image (float32, sum 1) whose header has PIXELSCL and
PIXSCALE (arcsec/pixel), the source and target descriptions (KSOURCE, KTARGET), Aniano's
figures of merit (KERN_D, KERN_WM) and the filter frequencies (KH, KL, cycles/arcsec).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BadInputError, ParameterError
from .profiles import gaussian_psf, moffat_psf, odd_size_for

__all__ = ["PsfSpec", "parse_psf", "psf_image", "write_kernel", "read_kernel", "image_pixel_scale"]


@dataclass(frozen=True)
class PsfSpec:
    kind: str                 # "gaussian", "moffat" or "file"
    fwhm: float | None = None
    beta: float = 2.5
    path: str | None = None
    pixscale: float | None = None   # file PSFs: arcsec per pixel

    def describe(self) -> str:
        if self.kind == "file":
            return Path(self.path).name
        if self.kind == "moffat":
            return f"moffat:{self.fwhm:g}:{self.beta:g}"
        return f"gaussian:{self.fwhm:g}"


def parse_psf(text: str, pixscale: float | None = None) -> PsfSpec:
    """``gaussian:0.9``, ``moffat:0.9:3`` or a FITS path (``pixscale`` overrides its header)."""
    t = str(text).strip()
    low = t.lower()
    for kind in ("gaussian", "gauss", "moffat"):
        if low.startswith(kind + ":"):
            parts = t.split(":")[1:]
            try:
                nums = [float(p) for p in parts]
            except ValueError:
                raise ParameterError(f"PSF {text!r}: expected {kind}:FWHM{'[:BETA]' if kind == 'moffat' else ''}") from None
            if not nums or nums[0] <= 0 or (kind != "moffat" and len(nums) != 1) or len(nums) > 2:
                raise ParameterError(f"PSF {text!r}: expected {kind}:FWHM{'[:BETA]' if kind == 'moffat' else ''} "
                                     "with FWHM > 0 in arcsec")
            if kind == "moffat":
                beta = nums[1] if len(nums) > 1 else 2.5
                if beta <= 1:
                    raise ParameterError(f"PSF {text!r}: Moffat beta must be > 1")
                return PsfSpec("moffat", nums[0], beta)
            return PsfSpec("gaussian", nums[0])
    if not Path(t).is_file():
        raise BadInputError(f"PSF {text!r}: not gaussian:FWHM, moffat:FWHM[:BETA] or an existing FITS file")
    return PsfSpec("file", path=t, pixscale=pixscale)


def _header_scale(header) -> float | None:
    for key in ("PIXELSCL", "PIXSCALE"):
        if key in header:
            return float(header[key])
    for key in ("CDELT1", "CD1_1"):
        if key in header and header[key]:
            return abs(float(header[key])) * 3600.0
    return None


def _read_image(path):
    from astropy.io import fits

    try:
        with fits.open(path) as hdul:
            for hdu in hdul:
                if hdu.data is not None and np.ndim(hdu.data) >= 2:
                    data = np.asarray(hdu.data, float)
                    while data.ndim > 2:
                        data = data[0]
                    return data, hdu.header.copy(), hdul[0].header.copy()
    except OSError as exc:
        raise BadInputError(f"{path}: not a readable FITS file ({exc})") from None
    raise BadInputError(f"{path}: no image data")


def psf_image(spec: PsfSpec, pixscale: float, extent: float | None = None) -> np.ndarray:
    """The PSF on a grid of ``pixscale`` arcsec pixels (odd size, sum 1).

    Analytic PSFs are drawn directly (``extent``: width in arcsec; default 8 FWHM for a
    Gaussian, 20 for a Moffat); a file PSF is circularised and resampled from its own scale.
    """
    from .profiles import resample_circular

    if spec.kind == "gaussian":
        size = odd_size_for(extent or 8 * spec.fwhm, pixscale)
        return gaussian_psf(spec.fwhm, pixscale, size=max(size, 3))
    if spec.kind == "moffat":
        size = odd_size_for(extent or 20 * spec.fwhm, pixscale)
        return moffat_psf(spec.fwhm, pixscale, beta=spec.beta, size=max(size, 3))
    data, header, primary = _read_image(spec.path)
    scale = spec.pixscale or _header_scale(header) or _header_scale(primary)
    if not scale:
        raise BadInputError(f"{spec.path}: no pixel scale (PIXELSCL/PIXSCALE/CDELT1); give it explicitly")
    size = odd_size_for(extent, pixscale) if extent else None
    return resample_circular(data, scale, pixscale, size=size)


def write_kernel(path, kernel: np.ndarray, pixscale: float, *, source: str = "", target: str = "", info=None) -> Path:
    """Save a kernel as a FITS image with its pixel scale and provenance."""
    from astropy.io import fits

    from ..atomic import atomic_path

    hdu = fits.PrimaryHDU(np.asarray(kernel, np.float32))
    h = hdu.header
    h["PIXELSCL"] = (float(pixscale), "arcsec per pixel")
    h["PIXSCALE"] = (float(pixscale), "arcsec per pixel")
    h["KSOURCE"] = (source[:68], "source PSF")
    h["KTARGET"] = (target[:68], "target PSF")
    h["KMETHOD"] = ("Aniano+2011, circularised", "kernel method")
    if info is not None:
        h["KERN_D"] = (float(info.D), "sum |target - source*kernel|")
        h["KERN_WM"] = (float(info.W_minus), "sum of negative kernel values")
        for key, value in (("KH", info.k_h), ("KL", info.k_l)):
            if np.isfinite(value):
                h[key] = (float(value) / pixscale, "filter frequency, cycles/arcsec")
    path = Path(path)
    with atomic_path(path) as tmp:
        hdu.writeto(tmp, overwrite=True)
    return path


def read_kernel(path, pixscale: float | None = None) -> tuple[np.ndarray, float, dict]:
    """``(kernel, pixel scale arcsec, header as dict)`` of a kernel FITS file."""
    data, header, primary = _read_image(path)
    scale = pixscale or _header_scale(header) or _header_scale(primary)
    if not scale:
        raise BadInputError(f"{path}: kernel has no pixel scale (PIXELSCL/PIXSCALE); give --kernel-pixscale")
    if data.shape[0] % 2 == 0 or data.shape[1] % 2 == 0:
        from .profiles import _centred

        data = _centred(data)
    return data / data.sum(), float(scale), dict(header)


def image_pixel_scale(model) -> float:
    """Arcsec per pixel of an image model: from its FITS WCS keywords (CD, or PC x CDELT),
    else PIXAR_A2, else the gwcs's local Jacobian at the centre."""
    info = model.meta.get("wcsinfo") or {}
    cd = None
    if all(f"cd{i}_{j}" in info for i in (1, 2) for j in (1, 2)):
        cd = np.array([[info["cd1_1"], info["cd1_2"]], [info["cd2_1"], info["cd2_2"]]], float)
    elif "cdelt1" in info and "cdelt2" in info:
        pc = np.array([[info.get("pc1_1", 1.0), info.get("pc1_2", 0.0)],
                       [info.get("pc2_1", 0.0), info.get("pc2_2", 1.0)]], float)
        cd = pc * np.array([[info["cdelt1"]], [info["cdelt2"]]], float)
    if cd is not None and np.isfinite(cd).all() and abs(np.linalg.det(cd)) > 0:
        return float(np.sqrt(abs(np.linalg.det(cd))) * 3600.0)
    area = model.meta.get("photometry.pixelarea_arcsecsq")
    if area:
        return float(np.sqrt(float(area)))
    wcs = model.meta.wcs
    if wcs is not None:
        from ..astrometry.correction import linear_tan_keywords

        ny, nx = model.data.shape[-2:]
        lin = linear_tan_keywords(wcs, ((nx + 1) / 2.0, (ny + 1) / 2.0))
        det = lin["cd1_1"] * lin["cd2_2"] - lin["cd1_2"] * lin["cd2_1"]
        return float(np.sqrt(abs(det)) * 3600.0)
    raise BadInputError(f"{model.meta.filename or 'image'}: no WCS to get its pixel scale from; give --pixscale")
