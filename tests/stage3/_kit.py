"""Small calibrated (``_cal``-like) NIRCam exposures for the stage-3 tests and benchmark.

Each exposure is a 2-D ImageModel on a subarray window near the NRCA1 reference pixel, with
the simulator's distortion (``jwcore.sim.geometry.distortion_model``) and pointing chain in a
real imaging gwcs (``jwcore.wcs.imaging``), S_REGION, the wcsinfo keywords jwst's resample
reads, and SCI/ERR/DQ/VAR_* from a noiseless scene (``jwcore.sim.scene.render``) plus
Gaussian noise.  Dithers move the pointing by whole+fractional pixels; cosmic-ray-like
outliers are injected at known pixels; each exposure may carry its own sky pedestal.

Files are written with jwcal's writer; the tests open them with stdatamodels for jwst.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jwcore.datamodel import ImageModel
from jwcore.datamodel.node import Node

PHOTMJSR = 0.22
TEXP = 107.4


@dataclass
class Exposure:
    path: Path
    truth: np.ndarray            # noiseless SCI (MJy/sr, without the sky pedestal)
    outliers: np.ndarray         # bool mask of injected outliers
    sky: float
    stars: list = field(default_factory=list)   # (x, y, flux in MJy/sr * pixels) in this exposure


_SPEC = {}


def nrca1():
    """The simulator's NRCA1 detector (kept once found: a test may later install an isolated
    plugin manager without the NIRCam plugin)."""
    if "spec" not in _SPEC:
        from jwcore.sim.detector import get_detector

        _SPEC["spec"] = get_detector("nircam", "NRCA1")
    return _SPEC["spec"]


def _subarray(xstart, ystart, nx, ny):
    from jwcore.sim.detector import Subarray

    return Subarray(name="SUB64P", xstart=xstart, ystart=ystart, xsize=nx, ysize=ny, noutputs=1)


def star_scene(ra, dec, n_stars, seed, radius_arcsec, flux_range=(2e-6, 3e-5)):
    from jwcore.sim.scene import Scene, Source

    rng = np.random.default_rng(seed)
    r = radius_arcsec * np.sqrt(rng.random(n_stars))
    th = rng.uniform(0, 2 * np.pi, n_stars)
    fl = np.exp(rng.uniform(np.log(flux_range[0]), np.log(flux_range[1]), n_stars))
    return Scene([Source(k + 1, "star", ra + r[k] * np.cos(th[k]) / 3600 / np.cos(np.radians(dec)),
                         dec + r[k] * np.sin(th[k]) / 3600, float(fl[k])) for k in range(n_stars)],
                 sky_scale=0.0)


def exposure_meta(spec, sub, pointing, k, *, group_visit=1):
    t0 = 60370.0 + k * 0.01
    pa = np.deg2rad((pointing.roll_ref - spec.vparity * spec.v3_idl_yangle) % 360.0)
    return {
        "telescope": "JWST", "bunit_data": "MJy/sr", "bunit_err": "MJy/sr",
        "instrument": {"name": "NIRCAM", "detector": spec.detector, "filter": "F200W", "pupil": "CLEAR",
                       "module": "A", "channel": "SHORT"},
        "exposure": {"type": "NRC_IMAGE", "exposure_time": TEXP, "effective_exposure_time": TEXP,
                     "measurement_time": TEXP * 0.95, "duration": TEXP + 10.0, "start_time": t0,
                     "mid_time": t0 + 0.0006, "end_time": t0 + 0.0012, "nints": 1, "ngroups": 5,
                     "readpatt": "RAPID", "frame_time": 1.0, "group_time": 1.0, "integration_time": TEXP},
        "observation": {"program_number": "01234", "observation_number": "001", "visit_number": f"{group_visit:03d}",
                        "visit_group": "01", "sequence_id": "1", "activity_id": "01",
                        "exposure_number": f"{k + 1:05d}", "date": "2024-03-01", "time": "00:00:00"},
        "subarray": {"name": sub.name, "xstart": sub.xstart, "ystart": sub.ystart, "xsize": sub.xsize,
                     "ysize": sub.ysize, "fastaxis": 1, "slowaxis": 2},
        "photometry": {"conversion_megajanskys": PHOTMJSR,
                       "pixelarea_steradians": spec.sci_scale[0] * spec.sci_scale[1] * (np.pi / 180 / 3600) ** 2,
                       "pixelarea_arcsecsq": spec.sci_scale[0] * spec.sci_scale[1]},
        "wcsinfo": {"wcsaxes": 2, "ctype1": "RA---TAN", "ctype2": "DEC--TAN", "cunit1": "deg", "cunit2": "deg",
                    "crpix1": spec.sci_ref[0] - (sub.xstart - 1), "crpix2": spec.sci_ref[1] - (sub.ystart - 1),
                    "crval1": pointing.ra_ref, "crval2": pointing.dec_ref,
                    "cdelt1": spec.sci_scale[0] / 3600, "cdelt2": spec.sci_scale[1] / 3600,
                    "pc1_1": spec.vparity * np.cos(pa), "pc1_2": np.sin(pa),
                    "pc2_1": -spec.vparity * np.sin(pa), "pc2_2": np.cos(pa),
                    "v2_ref": spec.v2_ref, "v3_ref": spec.v3_ref, "vparity": spec.vparity,
                    "v3yangle": spec.v3_idl_yangle, "ra_ref": pointing.ra_ref, "dec_ref": pointing.dec_ref,
                    "roll_ref": pointing.roll_ref},
        "velocity_aberration": {"scale_factor": 1.0},
        "cal_step": {"assign_wcs": "COMPLETE", "flat_field": "COMPLETE", "photom": "COMPLETE"},
    }


def make_exposures(folder, n=4, *, shape=(64, 64), seed=1, n_stars=12, dither_arcsec=0.4, skies=None,
                   n_outliers=20, outlier_snr=(30.0, 300.0), rnoise=0.004, name="jw01234001001_01101",
                   noiseless=False, flux_range=(2e-6, 3e-5), exposure_numbers=None, dead_pixels=3):
    """Write ``n`` dithered exposures into ``folder``; returns a list of :class:`Exposure`.

    ``dither_arcsec``: radius of the dither pattern; ``skies``: per-exposure pedestal;
    ``exposure_numbers``: EXPOSURE numbers (equal numbers make a jwst exposure group)."""
    from jwcore.sim.geometry import distortion_model, pointing_for, sky_to_pixel
    from jwcore.sim.scene import render
    from jwcore.wcs.fitsapprox import s_region
    from jwcore.wcs.imaging import imaging_wcs_for

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec = nrca1()
    filt = spec.filter("F200W")
    ny, nx = shape
    sub = _subarray(int(spec.sci_ref[0]) - nx // 2, int(spec.sci_ref[1]) - ny // 2, nx, ny)
    ra0, dec0 = 53.16, -27.78
    scene = star_scene(ra0, dec0, n_stars, seed + 1000, radius_arcsec=0.5 * 0.031 * min(shape),
                       flux_range=flux_range)
    dist = distortion_model(spec)
    rng = np.random.default_rng(seed)
    out = []
    to_mjy = PHOTMJSR / spec.gain
    for k in range(n):
        ang = 2 * np.pi * k / max(n, 1) + 0.3
        dx, dy = dither_arcsec * np.cos(ang) * (1 + 0.37 * (k % 3)), dither_arcsec * np.sin(ang) * (1 + 0.21 * (k % 2))
        pointing = pointing_for(spec, ra0, dec0, 0.0, dx, dy)
        meta = exposure_meta(spec, sub, pointing, k)
        if exposure_numbers is not None:
            meta["observation"]["exposure_number"] = f"{exposure_numbers[k]:05d}"
        rendered = render(scene, spec, filt, pointing, sub, include_sky=False)
        truth = (rendered.rate.astype(np.float64) * to_mjy).astype(np.float32)
        sky = 0.0 if skies is None else float(skies[k])
        var_poisson = (np.maximum(truth + sky, 0) * PHOTMJSR / (spec.gain * TEXP)).astype(np.float32)
        var_rnoise = np.full(shape, rnoise ** 2, np.float32) * rng.uniform(0.9, 1.1, shape).astype(np.float32)
        var_flat = (1e-4 * (truth + sky) ** 2).astype(np.float32)
        sigma = np.sqrt(var_poisson + var_rnoise + var_flat)
        noise = 0.0 if noiseless else rng.normal(0, 1, shape) * sigma
        data = (truth + sky + noise).astype(np.float32)
        dq = np.zeros(shape, np.uint32)
        if dead_pixels:
            dq[rng.integers(0, ny, dead_pixels), rng.integers(0, nx, dead_pixels)] = 1 | 1024   # dead pixels
        mask = np.zeros(shape, bool)
        if n_outliers:
            ys, xs = rng.integers(2, ny - 2, n_outliers), rng.integers(2, nx - 2, n_outliers)
            mask[ys, xs] = True
            mask &= dq == 0
            amp = rng.uniform(*outlier_snr, mask.sum()) * sigma[mask]
            data[mask] += amp.astype(np.float32)
        model = ImageModel(data=data, err=sigma.astype(np.float32), dq=dq, var_poisson=var_poisson,
                           var_rnoise=var_rnoise, var_flat=var_flat)
        model.tree["meta"].update(meta)
        wcs = imaging_wcs_for(Node(meta, "meta"), shape, dist)
        model.meta.wcs = wcs
        model.meta.wcsinfo.s_region = s_region(wcs, shape)
        path = folder / f"{name}_{k + 1:05d}_nrca1_cal.fits"
        model.meta.filename = path.name
        model.save(path)
        xs_, ys_ = sky_to_pixel(spec, pointing, np.array([s.ra for s in scene.sources]),
                                np.array([s.dec for s in scene.sources]))
        stars = [(float(x - (sub.xstart - 1)), float(y - (sub.ystart - 1)), s.flux_jy) for s, x, y
                 in zip(scene.sources, xs_, ys_)]
        out.append(Exposure(path, truth, mask, sky, stars))
    return out


def write_asn(folder, exposures, product="jw01234-o001_t001_nircam_clear-f200w", asn_id="a3001"):
    folder = Path(folder)
    asn = {"asn_type": "image3", "asn_rule": "candidate_Asn_Lv3Image", "asn_id": asn_id, "asn_pool": "test_pool",
           "program": "01234", "target": "t001", "version_id": None, "code_version": "test",
           "degraded_status": "No known degraded exposures in association.", "constraints": "none",
           "products": [{"name": product, "members": [{"expname": Path(e.path).name, "exptype": "science"}
                                                      for e in exposures]}]}
    path = folder / f"{product}_{asn_id}_asn.json"
    path.write_text(json.dumps(asn, indent=2))
    return path


def jwcal_library(asn_path):
    from jwcore.asn import load
    from jwcore.library import ModelLibrary

    return ModelLibrary(load(asn_path))


def jwst_library(asn_path):
    from jwst.datamodels import ModelLibrary

    return ModelLibrary(str(asn_path), on_disk=False)


def run_context(folder, pm=None):
    from jwcore.plugins import get_plugin_manager
    from jwcore.runner import RunContext

    return RunContext(pm=pm or get_plugin_manager(), output_dir=Path(folder))
