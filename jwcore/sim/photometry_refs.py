"""APCORR and ABVEGAOFFSET references consistent with the simulator's PSF, in jwst's formats.

What source_catalog reads for an imaging ``_i2d``:

* **APCORR** (FITS, an ``APCORR`` binary table; DATAMODL the instrument's imaging apcorr model,
  e.g. ``NrcImgApcorrModel``).  Per configuration (FILTER/PUPIL for NIRCam and NIRISS,
  FILTER/SUBARRAY for MIRI, one set for FGS) and encircled-energy fraction ``eefraction``
  (0.1 ... 0.8): the aperture ``radius`` (native pixels) holding that fraction, the
  aperture correction ``apcorr`` and the local-background annulus ``skyin``/``skyout``.
* **ABVEGAOFFSET** (ASDF, an ``abvega_offset`` table): ``abvega_offset`` = m_AB - m_Vega by
  FILTER/PUPIL (NIRCam, NIRISS), FILTER (MIRI) or DETECTOR (FGS).

The plugin's :class:`~jwcore.sim.detector.PhotometryLayout` says which columns select the rows.
Rows cover every filter the instrument's registered detectors offer (the detector's own
values first), so the file of any one detector serves every filter of the instrument: the
local store selects APCORR/ABVEGAOFFSET by EXP_TYPE alone, as CRDS does.

**Encircled energy: what the catalog measures.**  The simulator renders stars with
:func:`jwcore.sim.scene.psf_profile` (Gaussian core + Moffat wing, in proportion to the
filter's FWHM) integrated over each detector pixel.  The catalog then measures an ``_i2d``
(drizzled with the simulator's resample parameters: square kernel, pixfrac 1, native
scale) with exact-overlap circular apertures.  Averaged over the sources' sub-pixel
positions, each of these steps convolves the PSF with a top-hat ("box") along x and y:

* the detector pixel: a box of 1 pixel;
* drizzle: the input footprint (a box of ``pixfrac``) shared among output pixels by overlap
  area (a box of 1), averaged over the output grid's sub-pixel alignment;
* the aperture sum with exact pixel overlap: a box of 1 (sum_i P_i area_i(circle) averaged
  over the source phase is the circle's integral of the image convolved with the pixel).

So the encircled energy written is that of ``psf_profile`` convolved with the boxes
:data:`I2D_SMOOTHING` (widths 1, pixfrac, 1, 1), computed on a fine grid (FFT convolution,
then the energy within each radius; ~1e-4 accurate).  On a ``_cal`` image (no drizzle)
:data:`DETECTOR_SMOOTHING` (1, 1) applies instead: it reproduces exact-overlap photometry of
:func:`~jwcore.sim.scene.psf_stamp` (whose 5x5 sub-sampling approximates the pixel box) to
3.5e-3 in EE at 0.97 px FWHM, 1.1e-3 at 2.1 px (tests/stage3/test_source_catalog_simrefs.py).
The drizzle term is an average: one exposure's ``_i2d`` has one output-grid alignment, which
moves its aperture-corrected fluxes by -4 % (grids offset by half a pixel) to +8 % (grids
aligned) from the average for F200W (2.1 px FWHM; measured on one NRCA1 exposure: median
0.984, 0.93-1.03); a dithered mosaic averages it out (measured on a noiseless 2-dither NRCA1 F200W mosaic through
detector1, image2 and image3: total fluxes 0.984-1.010 of the truth, median 0.996).
Strongly undersampled PSFs (FWHM ~1 px: NIRCam F070W-F090W, NIRISS F090W) lose flux
before the catalog: outlier_detection flags star cores there (NIRCam F070W, 4 dithers:
total fluxes 0.61-1.07 of the truth, median 0.86).

**Aperture correction.**  The catalog's total flux is ``apcorr x (aperture sum - B x pi r^2)``
with ``B`` the 3-sigma clipped median of the annulus pixels, so for a star alone on a flat
background ``apcorr = 1 / (EE(r) - pi r^2 b)``, ``b`` the PSF's own level per pixel in the
annulus (unit flux).  A decreasing radial profile's median over an annulus is its value at
the radius that halves the annulus area, ``sqrt((skyin^2 + skyout^2) / 2)``.  The annulus:
``skyin = max(4 FWHM, 5 px)``, ``skyout = skyin + max(2 FWHM, 4 px)``.

**AB - Vega.**  ``m_AB - m_Vega = -2.5 log10(F_nu,Vega(lambda_p) / 3631 Jy)`` at the filter's
pivot wavelength (``FilterSpec.wavelength``), with Vega's spectrum approximated smoothly by
a monotone cubic (PCHIP) interpolation in log F_nu - log lambda through published
broad-band Vega flux densities (:data:`VEGA_FNU`: Johnson-Cousins V, R, I (Bessell et al.
1998), 2MASS J, H, Ks (Cohen et al. 2003), Spitzer IRAC (Reach et al. 2005), WISE W3
(Jarrett et al. 2011), MIPS 24 um (Engelbracht et al. 2007)); beyond the last point the
Rayleigh-Jeans slope F_nu ~ lambda^-2, shortward of V the V-R power law.  This ignores the
filters' widths and Vega's lines and features, so the offsets are plausible, not CRDS's
values (1.69 for NIRCam F200W, 3.22 for F444W, 4.34 for MIRI F770W); at the effective
wavelengths of SDSS i and z, WISE W1, W2 and W4 the curve gives the published AB - Vega
conversions to within 0.035 mag.

Pure functions of numbers except :func:`write_photometry_references` (called by the reference
writer, :func:`jwcore.sim.references.write_reference_set`) and :func:`write_photometry_set`
(just these two files for one detector).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .detector import DetectorSpec, PhotometryLayout
from .scene import CORE_FRACTION, MOFFAT_BETA, MOFFAT_WIDTH, psf_profile

__all__ = ["EE_FRACTIONS", "DRIZZLE_PIXFRAC", "DETECTOR_SMOOTHING", "I2D_SMOOTHING", "VEGA_FNU",
           "encircled_energy", "ee_radius", "sky_annulus", "apcorr_rows", "vega_fnu", "abvega_offset",
           "apcorr_table", "abvega_table", "write_photometry_references", "write_photometry_set"]

#: Encircled-energy fractions of the APCORR rows (source_catalog's aperture_ee1..3 pick three).
EE_FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
#: pixfrac of the simulator's resample parameters (``pars-resamplestep``).
DRIZZLE_PIXFRAC = 1.0
#: Box widths (pixels) the PSF is smoothed by as measured on a ``_cal``: pixel, aperture overlap.
DETECTOR_SMOOTHING = (1.0, 1.0)
#: ... and on an ``_i2d``: pixel, drizzle footprint and output pixel, aperture overlap.
I2D_SMOOTHING = (1.0, DRIZZLE_PIXFRAC, 1.0, 1.0)

#: Vega's flux density (um, Jy) at broad-band effective wavelengths (see the module doc).
VEGA_FNU = (
    (0.545, 3636.0), (0.641, 3064.0), (0.798, 2416.0),          # V, R, I
    (1.235, 1594.0), (1.662, 1024.0), (2.159, 666.7),           # 2MASS J, H, Ks
    (3.550, 280.9), (4.493, 179.7), (5.731, 115.0), (7.872, 64.13),   # IRAC 1-4
    (11.56, 31.67),                                             # WISE W3
    (23.68, 7.17),                                              # MIPS 24
)
AB_ZERO_JY = 3631.0

_APCORR_DTYPES = {"filter": "S12", "pupil": "S15", "subarray": "S17"}


# -- encircled energy --------------------------------------------------------------------------
def _moffat_alpha(fwhm: float) -> float:
    return MOFFAT_WIDTH * fwhm / (2.0 * np.sqrt(2.0 ** (1.0 / MOFFAT_BETA) - 1.0))


def _analytic_ee(r, fwhm: float):
    """Encircled energy of the unsmoothed :func:`psf_profile` within radius ``r`` (pixels)."""
    r2 = np.asarray(r, dtype=float) ** 2
    sig = fwhm / 2.3548
    core = 1.0 - np.exp(-0.5 * r2 / sig ** 2)
    wing = 1.0 - (1.0 + r2 / _moffat_alpha(fwhm) ** 2) ** (1.0 - MOFFAT_BETA)
    return CORE_FRACTION * core + (1.0 - CORE_FRACTION) * wing


def _box(width: float, h: float) -> np.ndarray:
    """A 1-D top-hat of ``width`` pixels on a grid of step ``h`` (exact cell overlaps, sum 1)."""
    half = width / 2.0
    n = int(np.ceil(half / h + 0.5))
    centres = np.arange(-n, n + 1) * h
    lo = np.maximum(centres - h / 2.0, -half)
    hi = np.minimum(centres + h / 2.0, half)
    w = np.clip(hi - lo, 0.0, None)
    return w / w.sum()


@lru_cache(maxsize=256)
def _ee_curve(fwhm: float, smoothing: tuple, rmax: float):
    """(radii, EE) of the smoothed profile on [0, rmax].  Without smoothing: the closed form.
    Else the profile is sampled on a grid of ``1/m`` pixel (``m`` 8-40 cells per pixel, at least
    ~60 per FWHM), convolved with the boxes (separable 1-D kernels, FFT) and summed within r."""
    radii = np.linspace(0.0, rmax, int(np.ceil(rmax / 0.005)) + 1)
    if not smoothing:
        return radii, _analytic_ee(radii, fwhm)
    from scipy.signal import fftconvolve

    m = int(np.clip(np.ceil(60.0 / fwhm), 8, 40))           # grid cells per pixel
    h = 1.0 / m
    extent = rmax + 0.5 * sum(smoothing) + 1.0
    n = int(np.ceil(extent / h))
    k = np.arange(-n, n + 1)
    x = k * h
    raw = psf_profile(x[None, :], x[:, None], fwhm) * (h * h)
    kernel = np.array([1.0])
    for width in smoothing:
        kernel = np.convolve(kernel, _box(float(width), h))
    smooth = fftconvolve(fftconvolve(raw, kernel[None, :], mode="same"), kernel[:, None], mode="same")
    # energy within r: every cell counts by the part of a ramp of one cell width centred on its
    # radius that lies inside r (a "soft" disk edge; it has the variance of a cell's own
    # cross-section across the edge, so lattice-counting noise cancels to second order)
    rho = np.hypot(x[None, :], x[:, None]).ravel()
    order = np.argsort(rho, kind="stable")
    a = rho[order] - 0.5 * h
    v = smooth.ravel()[order]
    c1 = np.concatenate([[0.0], np.cumsum(v)])
    c2 = np.concatenate([[0.0], np.cumsum(v * a)])

    def ramp_sum(t):                   # sum over cells of v * max(t - a, 0)
        i = np.searchsorted(a, t)
        return t * c1[i] - c2[i]

    ee = (ramp_sum(radii) - ramp_sum(radii - h)) / h
    return radii, ee


def _rmax(fwhm: float) -> float:
    return 2.0 * fwhm + 2.0


def encircled_energy(radii, fwhm: float, *, smoothing=I2D_SMOOTHING) -> np.ndarray:
    """Fraction of a star's flux within circles of ``radii`` (pixels) on an image of the
    simulator's PSF of ``fwhm`` pixels smoothed by the boxes ``smoothing`` (see the module
    doc; ``()``: the analytic profile).  Radii up to ``2 FWHM + 2`` (beyond: the analytic
    value, where the boxes no longer matter)."""
    r = np.asarray(radii, dtype=float)
    rmax = _rmax(fwhm)
    grid, ee = _ee_curve(float(fwhm), tuple(float(w) for w in smoothing), rmax)
    return np.where(r <= rmax, np.interp(r, grid, ee), _analytic_ee(r, fwhm))


def ee_radius(fraction, fwhm: float, *, smoothing=I2D_SMOOTHING) -> np.ndarray:
    """Radius (pixels) enclosing ``fraction`` of the flux (inverse of :func:`encircled_energy`)."""
    grid, ee = _ee_curve(float(fwhm), tuple(float(w) for w in smoothing), _rmax(fwhm))
    f = np.asarray(fraction, dtype=float)
    if np.any(f <= 0) or np.any(f >= ee[-1]):
        raise ValueError(f"encircled-energy fraction outside (0, {ee[-1]:.3f}) for FWHM {fwhm:g} px")
    ee = np.maximum.accumulate(ee)
    first = np.concatenate([[True], np.diff(ee) > 0])        # strictly increasing samples
    return np.interp(f, ee[first], grid[first])


def sky_annulus(fwhm: float) -> tuple[float, float]:
    """(skyin, skyout) in pixels: ``max(4 FWHM, 5)`` and ``skyin + max(2 FWHM, 4)``."""
    skyin = max(4.0 * fwhm, 5.0)
    return skyin, skyin + max(2.0 * fwhm, 4.0)


def apcorr_rows(fwhm: float, *, fractions=EE_FRACTIONS, smoothing=I2D_SMOOTHING, annulus=None) -> list[tuple]:
    """``(eefraction, radius, apcorr, skyin, skyout)`` per fraction, in float32 as written:
    the radius holding the fraction and ``apcorr = 1 / (EE(radius) - pi radius^2 b)`` with ``b``
    the PSF's level per pixel at the annulus's area-median radius (module doc)."""
    skyin, skyout = annulus or sky_annulus(fwhm)
    skyin, skyout = float(np.float32(skyin)), float(np.float32(skyout))
    r_mid = np.sqrt(0.5 * (skyin ** 2 + skyout ** 2))
    b = float(psf_profile(r_mid, 0.0, fwhm))
    radii = np.asarray(ee_radius(fractions, fwhm, smoothing=smoothing), dtype=np.float32).astype(float)
    ee = encircled_energy(radii, fwhm, smoothing=smoothing)
    corr = 1.0 / (ee - np.pi * radii ** 2 * b)
    return [(float(np.float32(f)), float(r), float(np.float32(c)), skyin, skyout)
            for f, r, c in zip(fractions, radii, corr)]


# -- AB - Vega -------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _vega_interpolator():
    from scipy.interpolate import PchipInterpolator

    lam, fnu = (np.log(np.array(v, dtype=float)) for v in zip(*VEGA_FNU))
    return PchipInterpolator(lam, fnu, extrapolate=False), lam, fnu


def vega_fnu(wavelength_um) -> np.ndarray:
    """Vega's F_nu (Jy) at ``wavelength_um`` in the smooth approximation of the module doc."""
    interp, lam, fnu = _vega_interpolator()
    x = np.log(np.asarray(wavelength_um, dtype=float))
    if np.any(~np.isfinite(x)):
        raise ValueError("wavelengths must be positive")
    inside = np.clip(x, lam[0], lam[-1])
    y = interp(inside)
    blue = (fnu[1] - fnu[0]) / (lam[1] - lam[0])
    y = np.where(x < lam[0], fnu[0] + blue * (x - lam[0]), y)
    y = np.where(x > lam[-1], fnu[-1] - 2.0 * (x - lam[-1]), y)
    return np.exp(y)


def abvega_offset(wavelength_um) -> np.ndarray:
    """``m_AB - m_Vega`` at a pivot wavelength (um): ``-2.5 log10(F_nu,Vega / 3631 Jy)``."""
    return -2.5 * np.log10(vega_fnu(wavelength_um) / AB_ZERO_JY)


# -- the tables ------------------------------------------------------------------------------------
def _instrument_specs(spec: DetectorSpec, pm=None) -> list[DetectorSpec]:
    """``spec`` then the instrument's other registered detectors with the same table layout
    (by name, for stable output)."""
    from .detector import registered_detectors

    others = [s for (inst, det), s in sorted(registered_detectors(pm).items())
              if inst == spec.instrument.upper() and det != spec.detector.upper()
              and s.photometry_layout == spec.photometry_layout]
    return [spec] + others


def _value(key: str, spec: DetectorSpec, f, subarray=None) -> str:
    if key == "filter":
        return f.filter or "N/A"
    if key == "pupil":
        return f.pupil or "N/A"
    if key == "detector":
        return spec.detector.upper()
    if key == "subarray":
        return subarray
    raise ValueError(f"unknown photometry selector column {key!r}")


def apcorr_table(specs, layout: PhotometryLayout, *, smoothing=I2D_SMOOTHING) -> np.ndarray:
    """The APCORR table (numpy structured array, jwst's column names and types) for ``specs``
    (the first one wins a configuration several offer).  Without selector columns: the first
    spec's default filter only."""
    keys = tuple(layout.apcorr_keys)
    configs: dict[tuple, float] = {}
    first = specs[0]
    if not keys:
        configs[()] = first.filter(first.default_filter).fwhm
    for spec in specs if keys else ():
        subs = list(spec.subarrays) if "subarray" in keys else [None]
        for f in spec.filters.values():
            for sub in subs:
                configs.setdefault(tuple(_value(k, spec, f, sub) for k in keys), f.fwhm)
    dtype = [(k, _APCORR_DTYPES[k]) for k in keys] + [(c, ">f4") for c in ("eefraction", "radius", "apcorr",
                                                                          "skyin", "skyout")]
    rows = []
    for config in sorted(configs):
        rows.extend(config + row for row in apcorr_rows(configs[config], smoothing=smoothing))
    return np.array(rows, dtype=dtype)


def abvega_table(specs, layout: PhotometryLayout):
    """The ABVEGAOFFSET table (astropy Table: the selector columns and ``abvega_offset``)."""
    from astropy.table import Table

    keys = tuple(layout.abvega_keys)
    configs: dict[tuple, float] = {}
    for spec in specs:
        chosen = spec.filters.values() if set(keys) & {"filter", "pupil"} else [spec.filter(spec.default_filter)]
        for f in chosen:
            configs.setdefault(tuple(_value(k, spec, f) for k in keys), f.wavelength)
    order = sorted(configs)
    table = Table()
    for i, k in enumerate(keys):
        table[k] = [c[i] for c in order]
    table["abvega_offset"] = np.array([abvega_offset(configs[c]) for c in order], dtype=np.float32)
    return table


@lru_cache(maxsize=None)
def _apcorr_model_class(name: str):
    """A jwcore model class writing an ``APCORR`` table under DATAMODL ``name``."""
    from ..datamodel import models as M

    return type(name, (M.ReferenceFileModel,), {
        "model_type": name, "reftype": "APCORR", "primary": "apcorr_table",
        "array_specs": (M.ArraySpec("apcorr_table", "APCORR", None, table=True),),
        "__doc__": f"``apcorr`` reference file ({name}).",
    })


def write_photometry_references(writer, filters=None, *, pm=None) -> list:
    """Write the detector's APCORR (FITS) and ABVEGAOFFSET (ASDF) references with ``writer``
    (:func:`jwcore.sim.references.write_reference_set`'s writer); nothing when the detector
    declares no :class:`~jwcore.sim.detector.PhotometryLayout`.  ``filters`` is accepted for
    the writer-hook signature: the tables cover every filter of the instrument."""
    spec = writer.spec
    layout = spec.photometry_layout
    if layout is None:
        return []
    specs = _instrument_specs(spec, pm)
    table = apcorr_table(specs, layout)
    meta = writer.base_meta("APCORR", "Aperture corrections of the simulated PSF on a drizzled i2d")
    paths = [writer.fits(_apcorr_model_class(layout.apcorr_model), "apcorr", meta, apcorr_table=table)]
    ameta = writer.asdf_meta("abvegaoffset", "AB - Vega offsets at the filter pivot wavelengths "
                             "(smooth Vega SED approximation)", "ABVegaOffsetModel")
    paths.append(writer.asdf("abvegaoffset", {"meta": ameta, "abvega_offset": abvega_table(specs, layout)}))
    return paths


def write_photometry_set(detector_spec: DetectorSpec, folder, *, useafter: str = "2022-01-01T00:00:00",
                         date: str = "2022-01-01T00:00:00.000", pm=None) -> list:
    """Only the APCORR and ABVEGAOFFSET references of ``detector_spec`` into ``folder`` (as
    :func:`~jwcore.sim.references.write_reference_set` writes them); returns their paths."""
    from pathlib import Path

    from .references import _Writer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return write_photometry_references(_Writer(detector_spec, None, folder, useafter, date), pm=pm)
