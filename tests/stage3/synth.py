"""Synthetic stage-3 inputs: dithered NIRCam ``_cal`` exposures of a star field with known
pointing errors, and a drizzled-like ``_i2d`` image of stars and galaxies with known fluxes.

The WCS of each exposure is jwcal's imaging WCS (``jwcore.wcs.imaging``) with the simulator's
NRCA1 distortion (``jwcore.sim.geometry.distortion_model``), for a 400x400 (SUB400P-like)
subarray whose aperture reference point is its centre.  Stars are rendered with the
simulator's PSF (``jwcore.sim.scene.psf_stamp``) at the positions the *true* pointing gives;
the files carry the *perturbed* pointing (RA_REF/DEC_REF/ROLL_REF), as if the guide star
solution were off, so the WCS is wrong by the injected offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jwcore.datamodel import ImageModel
from jwcore.sim.detector import get_detector
from jwcore.sim.geometry import distortion_model
from jwcore.sim.scene import psf_stamp
from jwcore.wcs.imaging import imaging_wcs_for

SHAPE = (400, 400)
RA0, DEC0 = 53.16, -27.78
FWHM = 2.1           # pixels (NIRCam F200W-like)


@dataclass
class Exposure:
    path: Path
    true_meta: dict        # wcsinfo with the true pointing
    wcs_true: object       # gwcs with the true pointing
    errors: tuple          # (dRA*cos(dec) arcsec, dDec arcsec, dRoll deg) injected


def _meta(i, ra, dec, roll, v2, v3):
    return {
        "filename": f"jw01234001001_0210{i + 1}_00001_nrca1_cal.fits",
        "instrument": {"name": "NIRCAM", "detector": "NRCA1", "filter": "F200W", "pupil": "CLEAR",
                       "channel": "SHORT", "module": "A"},
        "exposure": {"type": "NRC_IMAGE", "start_time": 60370.0 + i * 0.01, "exposure_time": 100.0},
        "observation": {"date": "2024-03-01", "time": "00:00:00", "program_number": "01234",
                        "observation_number": "001", "visit_number": "001", "visit_group": "02",
                        "sequence_id": "1", "activity_id": "01", "exposure_number": f"{i + 1:05d}"},
        "subarray": {"name": "SUB400P", "xstart": 1, "ystart": 1, "xsize": SHAPE[1], "ysize": SHAPE[0]},
        "wcsinfo": {"v2_ref": v2, "v3_ref": v3, "roll_ref": roll, "ra_ref": ra, "dec_ref": dec,
                    "crpix1": 200.5, "crpix2": 200.5, "vparity": -1, "v3yangle": 0.0},
        "bunit_data": "MJy/sr", "bunit_err": "MJy/sr",
        "cal_step": {"assign_wcs": "COMPLETE", "flat_field": "COMPLETE", "photom": "COMPLETE"},
    }


class _Meta:
    """The minimal ``meta`` interface ``imaging_wcs_for`` reads."""

    def __init__(self, d):
        self.d = d

    def get(self, dotted, default=None):
        node = self.d
        for k in dotted.split("."):
            if not isinstance(node, dict) or k not in node:
                return default
            node = node[k]
        return node


def star_field(n=240, radius=14.0, seed=3):
    """Star RA/Dec (deg) within ``radius`` arcsec of the field centre and fluxes (image units x px)."""
    rng = np.random.default_rng(seed)
    r = radius * np.sqrt(rng.random(n))
    t = rng.uniform(0, 2 * np.pi, n)
    ra = RA0 + r * np.cos(t) / 3600.0 / np.cos(np.deg2rad(DEC0))
    dec = DEC0 + r * np.sin(t) / 3600.0
    flux = 10 ** rng.uniform(2.0, 3.6, n)
    return ra, dec, flux


def dithered_exposures(folder, errors, dithers=None, seed=5, noise=0.05, sky=1.0, stars=None,
                       roll=12.0):
    """Write one ``_cal`` file per entry of ``errors`` [(dx", dy", droll deg)]; returns
    ``(exposures, (ra, dec, flux))``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec = get_detector("NIRCAM", "NRCA1")
    dist = distortion_model(spec)
    v2c, v3c = (float(v) for v in dist(199.5, 199.5))
    ra, dec, flux = stars if stars is not None else star_field()
    if dithers is None:
        dithers = [(0.0, 0.0), (1.3, 0.9), (-0.8, 1.6), (1.9, -1.2), (-1.5, -0.7), (0.6, 2.1)]
    rng = np.random.default_rng(seed)
    cosd = np.cos(np.deg2rad(DEC0))
    out = []
    for i, (ex, ey, er) in enumerate(errors):
        dx, dy = dithers[i % len(dithers)]
        ra_t, dec_t, roll_t = RA0 + dx / 3600 / cosd, DEC0 + dy / 3600, roll + 0.01 * i
        meta_t = _meta(i, ra_t, dec_t, roll_t, v2c, v3c)
        wcs_t = imaging_wcs_for(_Meta(meta_t), SHAPE, dist)
        x, y = wcs_t.invert(ra, dec, with_bounding_box=False)
        img = np.full(SHAPE, sky, dtype=np.float64)
        for xs, ys, f in zip(x, y, flux):
            if -10 < xs < SHAPE[1] + 10 and -10 < ys < SHAPE[0] + 10:
                stamp, x0, y0 = psf_stamp(float(xs), float(ys), FWHM, 12)
                _paste(img, stamp * f, x0, y0)
        img += rng.normal(0.0, noise, SHAPE)
        err = np.sqrt(noise ** 2 + np.clip(img - sky, 0, None) * 1e-3).astype(np.float32)
        meta = _meta(i, ra_t + ex / 3600 / cosd, dec_t + ey / 3600, roll_t + er, v2c, v3c)
        wcs = imaging_wcs_for(_Meta(meta), SHAPE, dist)
        meta["wcs"] = wcs
        from jwcore.wcs.fitsapprox import s_region

        meta["wcsinfo"]["s_region"] = s_region(wcs, SHAPE)
        model = ImageModel(meta=meta, data=img.astype(np.float32), err=err,
                           dq=np.zeros(SHAPE, np.uint32))
        path = folder / meta["filename"]
        model.save(path)
        out.append(Exposure(path, meta_t["wcsinfo"], wcs_t, (ex, ey, er)))
    return out, (ra, dec, flux)


def _paste(img, stamp, x0, y0):
    ny, nx = img.shape
    sy, sx = stamp.shape
    xa, ya = max(x0, 0), max(y0, 0)
    xb, yb = min(x0 + sx, nx), min(y0 + sy, ny)
    if xa < xb and ya < yb:
        img[ya:yb, xa:xb] += stamp[ya - y0:yb - y0, xa - x0:xb - x0]


def library(paths, folder, product="mosaic"):
    from jwcore.asn.association import from_list
    from jwcore.library import ModelLibrary

    asn = from_list([Path(p).name for p in paths], product_name=product)
    asn.path = Path(folder) / f"{product}_asn.json"
    asn.write(asn.path)
    return ModelLibrary(asn)


def sep_mas(r1, d1, r0, d0):
    """Small sky separations (mas) between (r1, d1) and (r0, d0) in degrees."""
    dra = (np.asarray(r1) - np.asarray(r0)) * np.cos(np.deg2rad(np.asarray(d0))) * 3.6e6
    ddec = (np.asarray(d1) - np.asarray(d0)) * 3.6e6
    return np.hypot(dra, ddec)


def sky_error_mas(wcs, wcs_true, x, y):
    """Sky offset (mas) between two WCSs at pixels (x, y)."""
    return sep_mas(*wcs(x, y), *wcs_true(x, y))


# -- a drizzled-like image for source_catalog ---------------------------------------------------
PIXSCALE = 0.031                                   # arcsec / pixel of the "i2d"
PIXAR_SR = (PIXSCALE / 206264.80624709636) ** 2


def tan_wcs(shape, ra=RA0, dec=DEC0, pixscale=PIXSCALE, rotation_deg=20.0):
    """A TAN gwcs (pixel -> ICRS) like resample's output WCS, with its bounding box."""
    from astropy import coordinates as coord
    from astropy import units as u
    from astropy.modeling import models as am
    from gwcs import WCS
    from gwcs import coordinate_frames as cf

    ny, nx = shape
    crpix = ((nx - 1) / 2.0, (ny - 1) / 2.0)
    t = np.deg2rad(rotation_deg)
    pc = np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]]) * pixscale / 3600.0
    transform = (am.Shift(-crpix[0]) & am.Shift(-crpix[1]) | am.AffineTransformation2D(pc)
                 | am.Pix2Sky_TAN() | am.RotateNative2Celestial(ra, dec, 180.0))
    det = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    sky = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world")
    w = WCS([(det, transform), (sky, None)])
    w.bounding_box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    w.pixel_shape = (nx, ny)
    return w, (crpix[0] + 1, crpix[1] + 1)


def ee_radius(fraction, fwhm=FWHM):
    """Radius (pixels) enclosing ``fraction`` of the simulator PSF (numerically)."""
    from jwcore.sim.scene import psf_profile

    r = np.linspace(0, 60, 24001)
    prof = psf_profile(r, 0 * r, fwhm) * 2 * np.pi * r
    cum = np.concatenate([[0], np.cumsum(0.5 * (prof[1:] + prof[:-1]) * np.diff(r))])
    return float(np.interp(fraction, cum, r)), cum, r


def i2d_image(path, shape=(320, 320), nstars=45, ngal=12, seed=11, noise=0.02, sky=0.0):
    """Write an i2d-like ImageModel (MJy/sr) of stars and galaxies; returns (path, truth table)."""
    from astropy.table import Table
    from jwcore.sim.scene import Source, galaxy_stamp

    rng = np.random.default_rng(seed)
    ny, nx = shape
    img = np.full(shape, sky, dtype=np.float64)
    to_mjysr = 1.0 / (1e6 * PIXAR_SR)
    rows = []
    # stars on a jittered grid (isolated), galaxies in between
    g = int(np.ceil(np.sqrt(nstars)))
    cells = [(i, j) for i in range(g) for j in range(g)][:nstars]
    step_x, step_y = (nx - 40) / g, (ny - 40) / g
    for k, (i, j) in enumerate(cells):
        x = 20 + (i + 0.5) * step_x + rng.uniform(-0.25, 0.25) * step_x
        y = 20 + (j + 0.5) * step_y + rng.uniform(-0.25, 0.25) * step_y
        mag = rng.uniform(19.5, 24.5)
        fjy = 3631.0 * 10 ** (-0.4 * mag)
        stamp, x0, y0 = psf_stamp(x, y, FWHM, 25)
        _paste(img, stamp * fjy * to_mjysr, x0, y0)
        rows.append((k + 1, "star", x, y, fjy))
    for k in range(ngal):
        x, y = rng.uniform(30, nx - 30), rng.uniform(30, ny - 30)
        fjy = 3631.0 * 10 ** (-0.4 * rng.uniform(20.0, 23.0))
        src = Source(1000 + k, "galaxy", 0, 0, fjy, sersic_n=1.0, r_eff=rng.uniform(0.1, 0.25),
                     axis_ratio=rng.uniform(0.4, 0.9), pa=rng.uniform(0, 180))
        stamp, x0, y0 = galaxy_stamp(x, y, src, PIXSCALE, FWHM, 25)
        _paste(img, stamp * fjy * to_mjysr, x0, y0)
        rows.append((1000 + k, "galaxy", x, y, fjy))
    img += rng.normal(0.0, noise, shape)
    err = np.sqrt(noise ** 2 + np.clip(img, 0, None) * 2e-4).astype(np.float32)
    wcs, crpix = tan_wcs(shape)
    meta = {
        "filename": Path(path).name,
        "instrument": {"name": "NIRCAM", "detector": "MULTIPLE", "filter": "F200W", "pupil": "CLEAR",
                       "channel": "SHORT", "module": "A"},
        "exposure": {"type": "NRC_IMAGE"},
        "observation": {"date": "2024-03-01", "time": "00:00:00"},
        "subarray": {"name": "FULL"},
        "photometry": {"pixelarea_steradians": PIXAR_SR, "pixelarea_arcsecsq": PIXSCALE ** 2},
        "resample": {"pixel_scale_ratio": 1.0, "pixfrac": 1.0},
        "wcsinfo": {"crpix1": crpix[0], "crpix2": crpix[1], "ctype1": "RA---TAN", "ctype2": "DEC--TAN"},
        "bunit_data": "MJy/sr", "bunit_err": "MJy/sr",
        "wcs": wcs,
    }
    model = ImageModel(meta=meta, data=img.astype(np.float32), err=err, dq=np.zeros(shape, np.uint32),
                       wht=np.ones(shape, np.float32), con=np.ones(shape, np.int32))
    model.save(path)
    truth = Table(rows=rows, names=("id", "kind", "x", "y", "flux_jy"))
    ra, dec = wcs(truth["x"], truth["y"])
    truth["ra"], truth["dec"] = ra, dec
    return Path(path), truth


def apcorr_rows(filters=(("F200W", "CLEAR"), ("F150W", "CLEAR")), skyin=12.0, skyout=20.0):
    """APCORR rows (filter, pupil, eefraction, radius, apcorr, skyin, skyout) measured on a
    noiseless pixel-integrated simulator PSF with the same aperture code the catalog uses
    (exact overlap; local background: annulus median), so ``apcorr * aperture flux`` is the
    total flux.  The same PSF for every filter row."""
    from photutils.aperture import CircularAnnulus, CircularAperture, aperture_photometry

    half = 40
    radii = np.linspace(0.5, 8.0, 151)
    sums, bkg = np.zeros(radii.size), 0.0
    offsets = [(dx, dy) for dx in (-0.375, -0.125, 0.125, 0.375) for dy in (-0.375, -0.125, 0.125, 0.375)]
    for dx, dy in offsets:   # averaged over the sub-pixel position
        stamp, _, _ = psf_stamp(half + dx, half + dy, FWHM, half)
        table = aperture_photometry(stamp, [CircularAperture((half + dx, half + dy), r) for r in radii])
        sums += np.array([float(table[f"aperture_sum_{k}"][0]) for k in range(radii.size)]) / len(offsets)
        mask = CircularAnnulus((half + dx, half + dy), skyin, skyout).to_mask(method="center")
        bkg += float(np.median(mask.get_values(stamp))) / len(offsets)
    rows = []
    for f, p in filters:
        for ee in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            r = float(np.interp(ee, sums, radii))
            rows.append((f, p, ee, r, 1.0 / (ee - np.pi * r * r * bkg), skyin, skyout))
    return rows
