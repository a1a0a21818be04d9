"""The sky: point sources, Sersic galaxies and a smooth background, rendered onto a detector.

Fluxes are in Jy at 2 um with a power-law spectral index (F_nu ~ lambda^beta); a filter's
PHOTMJSR (MJy/sr per DN/s), the pixel solid angle and the gain turn them into e-/s.

PSF model (stated, not WebbPSF): a Gaussian core of the filter's FWHM carrying 85% of the
flux plus a Moffat wing (beta = 2.5, FWHM 2.5x the core) carrying 15%, integrated over pixels
by 5x5 sub-sampling.  Galaxies are elliptical Sersic profiles (n, r_e, axis ratio, PA)
sampled the same way and convolved with that PSF.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .detector import DetectorSpec, FilterSpec, Subarray
from .geometry import Pointing, sky_to_pixel

ARCSEC2_SR = (np.pi / 180.0 / 3600.0) ** 2
CORE_FRACTION = 0.85
MOFFAT_BETA = 2.5
MOFFAT_WIDTH = 2.5


@dataclass
class Source:
    id: int
    kind: str                    # "star" or "galaxy"
    ra: float
    dec: float
    flux_jy: float               # at 2 um
    beta: float = 0.0            # F_nu ~ lambda^beta
    sersic_n: float = 1.0
    r_eff: float = 0.0           # arcsec
    axis_ratio: float = 1.0
    pa: float = 0.0              # deg, on the detector x axis

    def flux_at(self, wavelength_um: float) -> float:
        return self.flux_jy * (wavelength_um / 2.0) ** self.beta


@dataclass
class Scene:
    sources: list[Source] = field(default_factory=list)
    sky_scale: float = 1.0       # multiplies each filter's zodiacal background
    sky_gradient: float = 0.02   # fractional gradient across the detector


def random_scene(ra: float, dec: float, radius_arcsec: float, seed: int, *, n_stars: int = 40,
                 n_galaxies: int = 40, mag_range=(19.0, 26.0)) -> Scene:
    """A seeded field of stars and galaxies within ``radius_arcsec`` of (ra, dec)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 0x5CE7E]))
    sources = []
    n = n_stars + n_galaxies
    r = radius_arcsec * np.sqrt(rng.random(n))
    th = rng.uniform(0, 2 * np.pi, n)
    dra = r * np.cos(th) / 3600.0 / np.cos(np.deg2rad(dec))
    ddec = r * np.sin(th) / 3600.0
    lo, hi = mag_range
    # brighter sources are rarer: a power-law number count
    mags = lo + (hi - lo) * rng.random(n) ** 0.5
    for k in range(n):
        flux = 3631.0 * 10 ** (-0.4 * mags[k])
        if k < n_stars:
            sources.append(Source(k + 1, "star", ra + dra[k], dec + ddec[k], flux, beta=rng.uniform(0.5, 2.0)))
        else:
            sources.append(Source(k + 1, "galaxy", ra + dra[k], dec + ddec[k], flux * 2.5,
                                  beta=rng.uniform(-1.0, 1.0), sersic_n=float(rng.choice([0.8, 1.0, 1.5, 2.5, 4.0])),
                                  r_eff=rng.uniform(0.08, 0.6), axis_ratio=rng.uniform(0.35, 1.0),
                                  pa=rng.uniform(0, 180)))
    return Scene(sources)


def electrons_per_jy(spec: DetectorSpec, filt: FilterSpec) -> float:
    """e-/s collected (flat = 1) from a 1 Jy source: 1e-6 / (PHOTMJSR x PIXAR_SR) x gain."""
    pixar_sr = spec.sci_scale[0] * spec.sci_scale[1] * ARCSEC2_SR
    return 1.0e-6 / (filt.photmjsr * pixar_sr) * spec.gain


# -- profiles ----------------------------------------------------------------------------------
def psf_profile(dx, dy, fwhm):
    """PSF value per unit flux at offsets (pixels); integrates to 1 over the plane."""
    r2 = dx * dx + dy * dy
    sig = fwhm / 2.3548
    core = np.exp(-0.5 * r2 / sig ** 2) / (2 * np.pi * sig ** 2)
    alpha = MOFFAT_WIDTH * fwhm / (2.0 * np.sqrt(2 ** (1.0 / MOFFAT_BETA) - 1.0))
    wing = (MOFFAT_BETA - 1.0) / (np.pi * alpha ** 2) * (1.0 + r2 / alpha ** 2) ** (-MOFFAT_BETA)
    return CORE_FRACTION * core + (1.0 - CORE_FRACTION) * wing


def _subsample_offsets(n=5):
    return (np.arange(n) + 0.5) / n - 0.5


def psf_stamp(xc: float, yc: float, fwhm: float, half: int):
    """(stamp, x0, y0): pixel-integrated PSF (unit flux) around (xc, yc), lower-left pixel."""
    ix, iy = int(np.floor(xc + 0.5)), int(np.floor(yc + 0.5))
    y, x = np.mgrid[iy - half:iy + half + 1, ix - half:ix + half + 1]
    acc = np.zeros(x.shape)
    offs = _subsample_offsets()
    for oy in offs:
        for ox in offs:
            acc += psf_profile(x + ox - xc, y + oy - yc, fwhm)
    return acc / offs.size ** 2, ix - half, iy - half


def _sersic_b(n):
    return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n * n)


def galaxy_stamp(xc, yc, src: Source, pixscale: float, fwhm: float, half: int):
    ix, iy = int(np.floor(xc + 0.5)), int(np.floor(yc + 0.5))
    y, x = np.mgrid[iy - half:iy + half + 1, ix - half:ix + half + 1]
    re = max(src.r_eff / pixscale, 0.3)
    b = _sersic_b(src.sersic_n)
    c, s = np.cos(np.deg2rad(src.pa)), np.sin(np.deg2rad(src.pa))
    acc = np.zeros(x.shape)
    offs = _subsample_offsets()
    for oy in offs:
        for ox in offs:
            dx, dy = x + ox - xc, y + oy - yc
            u = dx * c + dy * s
            v = (-dx * s + dy * c) / src.axis_ratio
            rr = np.hypot(u, v) / re
            acc += np.exp(-b * (rr ** (1.0 / src.sersic_n) - 1.0))
    acc /= acc.sum()
    from scipy.signal import fftconvolve

    kh = int(min(max(4 * fwhm, 4), half))
    kern, _, _ = psf_stamp(0.0, 0.0, fwhm, kh)
    kern /= kern.sum()
    return fftconvolve(acc, kern, mode="same"), ix - half, iy - half


# -- rendering -----------------------------------------------------------------------------------
@dataclass
class Rendered:
    rate: np.ndarray                 # e-/s per pixel (ideal detector: flat = 1, no dark)
    catalog: list[dict]              # per source: id, kind, ra, dec, x, y, fluxes, in_window


def render(scene: Scene, spec: DetectorSpec, filt: FilterSpec, pointing: Pointing, sub: Subarray,
           *, include_sky: bool = True, offset: tuple[float, float] = (0.0, 0.0)) -> Rendered:
    """Render the scene onto a subarray window (e-/s per pixel).

    ``offset``: the filter's (column, row) offset (FILTEROFFSET): jwst maps pixel ``p`` to
    V2V3 through ``distortion(p + offset)``, so sources land at ``distortion^-1 - offset``."""
    ny, nx = sub.shape
    rate = np.zeros((ny, nx), np.float64)
    if include_sky and filt.sky > 0:
        yy, xx = np.mgrid[0:ny, 0:nx]
        fy = (yy + sub.ystart - 1) / spec.shape[0] - 0.5
        fx = (xx + sub.xstart - 1) / spec.shape[1] - 0.5
        rate += filt.sky * scene.sky_scale * (1.0 + scene.sky_gradient * (fx + 0.5 * fy))
    e_per_jy = electrons_per_jy(spec, filt)
    pixscale = float(np.sqrt(spec.sci_scale[0] * spec.sci_scale[1]))
    catalog = []
    if scene.sources:
        ra = np.array([s.ra for s in scene.sources])
        dec = np.array([s.dec for s in scene.sources])
        xs, ys = sky_to_pixel(spec, pointing, ra, dec)
        xs = xs - (sub.xstart - 1) - offset[0]
        ys = ys - (sub.ystart - 1) - offset[1]
        for src, x, y in zip(scene.sources, xs, ys):
            flux_jy = src.flux_at(filt.wavelength)
            flux_e = flux_jy * e_per_jy
            if src.kind == "star":
                half = int(min(max(10 * filt.fwhm, 6) + 2 * np.log10(max(flux_e, 10.0)), 80))
            else:
                half = int(min(max(6 * src.r_eff / pixscale, 4) + 4 * filt.fwhm, 80))
            inside = (-half <= x < nx + half) and (-half <= y < ny + half)
            catalog.append({"id": src.id, "kind": src.kind, "ra": src.ra, "dec": src.dec,
                            "x": float(x), "y": float(y), "flux_jy": flux_jy, "flux_e_s": flux_e,
                            "in_window": bool(0 <= x < nx and 0 <= y < ny)})
            if not inside or flux_e <= 0:
                continue
            if src.kind == "star":
                stamp, x0, y0 = psf_stamp(x, y, filt.fwhm, half)
            else:
                stamp, x0, y0 = galaxy_stamp(x, y, src, pixscale, filt.fwhm, half)
            _paste(rate, stamp * flux_e, x0, y0)
    return Rendered(rate.astype(np.float32), catalog)


def _paste(img, stamp, x0, y0):
    ny, nx = img.shape
    sy, sx = stamp.shape
    xa, ya = max(x0, 0), max(y0, 0)
    xb, yb = min(x0 + sx, nx), min(y0 + sy, ny)
    if xa >= xb or ya >= yb:
        return
    img[ya:yb, xa:xb] += stamp[ya - y0:yb - y0, xa - x0:xb - x0]
