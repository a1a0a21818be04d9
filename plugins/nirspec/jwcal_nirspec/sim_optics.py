"""The simulator's NIRSpec optical model: fpa, camera, disperser (MIRROR), collimator, fore, ote
and wavelengthrange references, written per detector.

The simulator places sources with the detector's SIAF-style geometry (:mod:`jwcore.sim.geometry`:
science pixel -> ideal -> V2, V3).  NIRSpec's WCS instead goes through the spectrograph, so
the optical model written here is built to reproduce that geometry:

* fpa, camera, collimator and fore are simple linear maps (18 µm pixels, focal scales), the
  GWA mirror has small tilts about x, y, z and a tilt-sensor calibration, and the simulated
  exposures carry GWA_XTIL/GWA_YTIL readings a little off the calibration readings (so the
  tilt correction matters);
* the ``ote`` (OTE image plane, deg -> V2, V3 arcsec) is then *fitted*, with its inverse, so
  that the whole chain lands on the detector's SIAF V2, V3 (degree-5 polynomials in normalised
  coordinates; the fit residual is logged and is far below a milli-arcsecond).

The files follow jwst's reference layouts (``FPAModel``, ``CameraModel``, ``DisperserModel``,
``CollimatorModel``, ``FOREModel``, ``OTEModel``, ``WavelengthrangeModel``), so jwst's own
assign_wcs reads them too.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
from astropy.modeling import models as am

from .imaging_wcs import dms_to_sca
from .optics import corrected_gwa_angles, dircos_to_unitless, gwa_rotation, mirror_reflection, unitless_to_dircos

log = logging.getLogger("jwcal.nirspec")

__all__ = ["GWA_READINGS", "optical_models", "write_optical_references"]

PIXEL_M = 18e-6            # detector pixel pitch (m)
CAMERA_F = 0.25            # FPA metres -> tangent (1 / m)
COLLIMATOR_F = 0.30        # tangent -> MSA metres
FORE_SCALE = 1.6           # MSA metres -> OTE image plane degrees
DETECTOR_CENTRE_M = {"NRS1": (-0.0192, 0.0), "NRS2": (0.0192, 0.0)}

# Tilt-sensor calibration (readings and arcsec per unit reading) and the readings the
# simulated exposures carry (``instrument.gwa_xtilt`` / ``instrument.gwa_ytilt``).
_TILT_CAL = {"gwa_tiltx": (0.3367, 2784.4, -8555.5), "gwa_tilty": (0.0334, 150.0, -2500.0)}
GWA_READINGS = {"instrument.gwa_xtilt": 0.3391, "instrument.gwa_ytilt": 0.0348}
MIRROR_ANGLES = {"theta_x": 0.0294, "theta_y": -0.0008, "theta_z": -0.2523, "tilt_y": 0.12}

# FILTER_GRATING -> (order, (lo, hi) m): the imaging configurations of the simulated filters.
WAVELENGTH_RANGES = {
    "CLEAR_MIRROR": (0, (0.6e-6, 5.3e-6)), "F110W_MIRROR": (0, (1.0e-6, 1.25e-6)),
    "F140X_MIRROR": (0, (0.8e-6, 2.0e-6)), "F070LP_MIRROR": (0, (0.7e-6, 5.3e-6)),
    "F100LP_MIRROR": (0, (1.0e-6, 5.3e-6)), "F170LP_MIRROR": (0, (1.7e-6, 5.3e-6)),
    "F290LP_MIRROR": (0, (2.9e-6, 5.3e-6)), "CLEAR_PRISM": (0, (0.6e-6, 5.3e-6)),
}


def _affine(scale, shift=(0.0, 0.0)):
    model = am.AffineTransformation2D(matrix=[[scale, 0.0], [0.0, scale]], translation=list(shift))
    return model


def _fpa_model(detector: str):
    cx, cy = DETECTOR_CENTRE_M[detector]
    half = 1023.5 * PIXEL_M
    return _affine(PIXEL_M) | am.Shift(cx - half) & am.Shift(cy - half)


def _fore_model():
    lin = _affine(FORE_SCALE)
    fore = am.Mapping((0, 1), n_inputs=3) | lin
    fore.inverse = am.Mapping((0, 1), n_inputs=3) | lin.inverse
    return fore


def _disperser_tree() -> dict:
    tree = dict(MIRROR_ANGLES)
    tree["tilt_x"] = 0.0
    for key, (zero, c0, c1) in _TILT_CAL.items():
        tree[key] = {"temperatures": [37.17], "tilt_model": am.Polynomial1D(1, c0=c0, c1=c1),
                     "unit": "arcsec", "zeroreadings": [zero]}
    return tree


def _front(detector: str, disperser: dict):
    """DMS full-frame pixel -> OTE image plane (deg), with the simulated exposures' tilts."""
    angles = corrected_gwa_angles(disperser, GWA_READINGS["instrument.gwa_xtilt"],
                                  GWA_READINGS["instrument.gwa_ytilt"])
    rot = gwa_rotation(angles)
    to_gwa = dms_to_sca(detector) | _fpa_model(detector) | _affine(CAMERA_F) | unitless_to_dircos() | rot
    to_msa = mirror_reflection() | rot.inverse | dircos_to_unitless() | _affine(COLLIMATOR_F)
    return to_gwa | to_msa | am.Mapping((0, 1, 0)) | _fore_model()


def _fit_pair(x, y, u, v, degree=5):
    """Normalised polynomials ``(x, y) -> (u, v)``: shift/scale to about [-1, 1], then fit."""
    from astropy.modeling.fitting import LinearLSQFitter

    cx, cy = float(np.mean(x)), float(np.mean(y))
    s = float(max(np.ptp(x), np.ptp(y))) / 2.0
    fit = LinearLSQFitter()
    xn, yn = (x - cx) / s, (y - cy) / s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pu = fit(am.Polynomial2D(degree), xn, yn, u)
        pv = fit(am.Polynomial2D(degree), xn, yn, v)
    return (am.Shift(-cx) & am.Shift(-cy)) | (am.Scale(1.0 / s) & am.Scale(1.0 / s)) | am.Mapping((0, 1, 0, 1)) | pu & pv


def optical_models(spec) -> dict:
    """The simulated optical model of one detector: reftype -> transform or tree.

    The ``ote`` is fitted so that the chain reproduces ``spec``'s SIAF geometry.
    """
    from jwcore.sim.geometry import idl_to_v2v3, sci_to_idl

    det = spec.detector.upper()
    disperser = _disperser_tree()
    ny, nx = spec.shape
    gx, gy = np.meshgrid(np.linspace(-4, nx + 3, 41), np.linspace(-4, ny + 3, 41))
    ox, oy = _front(det, disperser)(gx, gy)
    v2, v3 = idl_to_v2v3(spec, *sci_to_idl(spec, gx, gy))
    ote = _fit_pair(ox, oy, v2, v3)
    ote.inverse = _fit_pair(v2, v3, ox, oy)
    fv2, fv3 = ote(ox, oy)
    bx, by = ote.inverse(v2, v3)
    log.debug("%s simulated OTE fit: forward %.2e arcsec, inverse %.2e deg", det,
              float(np.max(np.hypot(fv2 - v2, fv3 - v3))), float(np.max(np.hypot(bx - ox, by - oy))))
    fpa = {f"{d.lower()}_model": _fpa_model(d) for d in DETECTOR_CENTRE_M}
    return {"fpa": fpa, "camera": _affine(CAMERA_F), "collimator": _affine(COLLIMATOR_F),
            "fore": _fore_model(), "ote": ote, "disperser": disperser}


def write_optical_references(writer, filters) -> None:
    """The simulator's reference writer hook for NIRSpec (see ``DetectorSpec.reference_writers``)."""
    spec = writer.spec
    models = optical_models(spec)
    p_exptype = "NRS_IMAGE|NRS_TACQ|NRS_TACONFIRM|NRS_CONFIRM|NRS_FOCUS|NRS_MIMF|NRS_MSATA|NRS_WATA|NRS_TASLIT|NRS_VERIFY|"

    def meta(reftype, description, model_type):
        m = writer.asdf_meta(reftype, description, model_type)
        m["exposure"] = {"type": "N/A", "p_exptype": p_exptype}
        return m

    writer.asdf("fpa", {"meta": meta("fpa", "Simulated FPA: SCA pixel -> FPA (m)", "FPAModel"), **models["fpa"]})
    for reftype, title, model_type in (
            ("camera", "Simulated camera: FPA (m) -> tangent plane", "CameraModel"),
            ("collimator", "Simulated collimator: tangent plane -> MSA (m)", "CollimatorModel"),
            ("ote", "Simulated OTE: OTE image plane (deg) -> V2V3 (arcsec), fitted to the SIAF geometry",
             "OTEModel")):
        m = meta(reftype, title, model_type)
        if reftype == "ote":
            m["output_units"] = "arcsec"
        writer.asdf(reftype, {"meta": m, "model": models[reftype]})
    # one fore file per filter, as CRDS selects them (jwst's FOREModel names a single FILTER)
    for name in dict.fromkeys([*spec.filters, "CLEAR"]):
        fore_meta = meta("fore", f"Simulated fore optics ({name}): MSA (m) -> OTE image plane (deg)", "FOREModel")
        fore_meta["instrument"]["filter"] = spec.filters[name].filter if name in spec.filters else name
        writer.asdf(f"fore_{name.lower()}", {"meta": fore_meta, "model": models["fore"]})
    disp_meta = meta("disperser", "Simulated GWA mirror: angles and tilt-sensor calibration", "DisperserModel")
    disp_meta["instrument"]["grating"] = "MIRROR"
    writer.asdf("disperser", {"meta": disp_meta, **models["disperser"]})
    wr_meta = meta("wavelengthrange", "Simulated spectral configurations (imaging)", "WavelengthrangeModel")
    from astropy import units as u

    wr_meta["wavelength_units"] = u.m
    keys = list(WAVELENGTH_RANGES)
    writer.asdf("wavelengthrange", {"meta": wr_meta, "waverange_selector": keys,
                                    "order": [WAVELENGTH_RANGES[k][0] for k in keys],
                                    "wavelengthrange": [list(WAVELENGTH_RANGES[k][1]) for k in keys]})
