"""The NIRSpec imaging WCS: detector -> sca -> gwa -> msa -> oteip -> v2v3 -> v2v3vacorr -> world.

With the grating wheel on its MIRROR (imaging, target acquisition, focus...), a detector pixel
maps back through the spectrograph to the sky:

``detector -> sca``
    the science (DMS) pixel to the 0-based full-frame SCA pixel: the subarray corner, and for
    NRS2 a 180-degree flip (``x -> 2047 - x``, ``y -> 2047 - y``);
``sca -> gwa``
    ``fpa`` (pixel -> FPA metres) | ``camera`` (-> tangent-plane vector) | direction cosines |
    the GWA rotation sequence (``disperser`` angles, corrected by the GWA_XTIL/GWA_YTIL tilt
    sensors);
``gwa -> msa``
    reflection off the mirror | inverse GWA rotation | tangent-plane vector | ``collimator``
    (-> MSA metres), plus the mid-range wavelength of the ``wavelengthrange`` configuration
    ``FILTER_MIRROR`` as a third coordinate;
``msa -> oteip``
    ``fore`` (MSA metres, wavelength -> OTE image plane, deg);
``oteip -> v2v3``
    ``ote`` (-> V2, V3 arcsec); then velocity aberration and the telescope pointing as for the
    other instruments (:mod:`jwcore.wcs.imaging`).

With FILTER=OPAQUE the chain ends at the MSA (wavelength in µm), as jwst builds it.  The frame
names are jwst's.  All transforms are standard astropy models (:mod:`.optics`), so the saved
WCS is read back by any gwcs reader.
"""

from __future__ import annotations

import logging
import math

from astropy import coordinates as coord
from astropy import units as u
from astropy.modeling import models as am

from jwcore.errors import BadInputError, ReferenceFileError
from jwcore.wcs.imaging import pointing_from_meta, v2v3_to_sky, va_correction

from .optical_refs import load_disperser, load_fpa, load_transform, spectral_order_range
from .optics import (corrected_gwa_angles, dircos_to_unitless, gwa_rotation, mirror_reflection,
                     unitless_to_dircos)

log = logging.getLogger("jwcal.nirspec")

__all__ = ["OPTICAL_REFERENCES", "dms_to_sca", "imaging_frames", "imaging_pipeline", "imaging_wcs"]

# The references the imaging chain reads, in the order light meets them (detector first).
OPTICAL_REFERENCES = ("fpa", "camera", "disperser", "collimator", "wavelengthrange", "fore", "ote")

_NRS2_FLIP = am.Shift(-2047) & am.Shift(-2047) | am.Scale(-1) & am.Scale(-1)


def dms_to_sca(detector: str, xstart=None, ystart=None):
    """Science pixel (0-based, DMS orientation) -> full-frame SCA pixel (0-based)."""
    xstart = 1 if xstart is None else int(xstart)
    ystart = 1 if ystart is None else int(ystart)
    model = am.Shift(xstart - 1) & am.Shift(ystart - 1)
    det = detector.upper()
    if det == "NRS2":
        model = model | _NRS2_FLIP
    elif det != "NRS1":
        raise ReferenceFileError(f"NIRSpec detector must be NRS1 or NRS2, not {detector!r}")
    model.name = "dms2sca"
    model.inputs, model.outputs = ("x", "y"), ("x", "y")
    return model


def imaging_frames():
    """jwst's NIRSpec imaging frames: detector, sca, gwa, msa, oteip, v2v3, v2v3vacorr, world."""
    from gwcs import coordinate_frames as cf

    det = cf.Frame2D(name="detector", axes_order=(0, 1))
    sca = cf.Frame2D(name="sca", axes_order=(0, 1))
    gwa = cf.Frame2D(name="gwa", axes_order=(0, 1), unit=(u.rad, u.rad), axes_names=("alpha_in", "beta_in"))
    msa = cf.Frame2D(name="msa", axes_order=(0, 1), unit=(u.m, u.m), axes_names=("x_msa", "y_msa"))
    oteip = cf.Frame2D(name="oteip", axes_order=(0, 1), unit=(u.deg, u.deg), axes_names=("x_oteip", "y_oteip"))
    v2v3 = cf.Frame2D(name="v2v3", axes_order=(0, 1), unit=(u.arcsec, u.arcsec), axes_names=("v2", "v3"))
    v2v3vacorr = cf.Frame2D(name="v2v3vacorr", axes_order=(0, 1), unit=(u.arcsec, u.arcsec),
                            axes_names=("v2", "v3"))
    world = cf.CelestialFrame(name="world", axes_order=(0, 1), reference_frame=coord.ICRS())
    return det, sca, gwa, msa, oteip, v2v3, v2v3vacorr, world


def _named(model, name, inputs, outputs):
    model.name = name
    model.inputs, model.outputs = inputs, outputs
    return model


def imaging_pipeline(meta, paths: dict):
    """The gwcs pipeline (list of ``(frame, transform)``) for a NIRSpec imaging exposure.

    ``meta``: the exposure's metadata (instrument, subarray, pointing, GWA tilt keywords);
    ``paths``: reftype -> file for every name in :data:`OPTICAL_REFERENCES` (``fore`` and
    ``ote`` are not needed with FILTER=OPAQUE).
    """
    filter_name = str(meta.get("instrument.filter") or "")
    needed = OPTICAL_REFERENCES if filter_name.upper() != "OPAQUE" else OPTICAL_REFERENCES[:-2]
    missing = [r for r in needed if not paths.get(r)]
    if missing:
        raise ReferenceFileError("the NIRSpec imaging WCS needs the "
                                 + ", ".join(r.upper() for r in missing) + " reference(s) (selection gave N/A)")
    detector = str(meta.get("instrument.detector") or "")
    grating = str(meta.get("instrument.grating") or "MIRROR")
    if detector.upper() not in ("NRS1", "NRS2"):
        got = f"not {detector!r}" if detector else "and the exposure has no DETECTOR keyword"
        raise BadInputError(f"the NIRSpec imaging WCS needs DETECTOR NRS1 or NRS2, {got}")
    xtilt = _tilt_reading(meta, "instrument.gwa_xtilt", "GWA_XTIL")
    ytilt = _tilt_reading(meta, "instrument.gwa_ytilt", "GWA_YTIL")

    dms2sca = dms_to_sca(detector, meta.get("subarray.xstart"), meta.get("subarray.ystart"))

    disperser = load_disperser(paths["disperser"])
    angles = corrected_gwa_angles(disperser, xtilt, ytilt)
    log.info("GWA angles (theta_x, theta_y, theta_z, tilt_y) after the tilt correction: %s deg", angles)
    rotation = gwa_rotation(angles)

    fpa = load_fpa(paths["fpa"], detector)
    camera = load_transform(paths["camera"], "camera")
    sca2gwa = _named(fpa | camera | unitless_to_dircos() | rotation, "det2gwa", ("x", "y"),
                     ("angle1", "angle2", "angle3"))

    collimator = load_transform(paths["collimator"], "collimator")
    order, (lo, hi) = spectral_order_range(
        paths["wavelengthrange"], filter_name=filter_name, grating=grating,
        lamp=meta.get("instrument.lamp_state"),
        use_lamp=(filter_name.upper() == "OPAQUE"
                  or str(meta.get("exposure.type") or "").upper() in ("NRS_LAMP", "NRS_AUTOWAVE", "NRS_AUTOFLAT")))
    meta.set("wcsinfo.waverange_start", lo)
    meta.set("wcsinfo.waverange_end", hi)
    meta.set("wcsinfo.spectral_order", order)
    lam = lo + (hi - lo) * 0.5
    opaque = filter_name.upper() == "OPAQUE"
    if opaque:
        lam *= 1e6     # the chain ends at the MSA: wavelength in µm
    add_lam = am.Mapping((0, 1, 1)) | am.Identity(2) & am.Const1D(lam)
    inv_rot = rotation.inverse
    to_unitless = dircos_to_unitless()
    gwa2msa = mirror_reflection() | inv_rot | to_unitless | collimator | add_lam
    gwa2msa.inverse = collimator.inverse | to_unitless.inverse | rotation | mirror_reflection()
    _named(gwa2msa, "gwa2msa", ("angle1", "angle2", "angle3"), ("x_msa", "y_msa", "lam"))

    det, sca, gwa, msa, oteip, v2v3, v2v3vacorr, world = imaging_frames()
    if opaque:
        return [(det, dms2sca), (sca, sca2gwa), (gwa, gwa2msa), (msa, None)]

    fore = load_transform(paths["fore"], "fore")
    msa2ote = am.Mapping((0, 1, 2, 2)) | fore & am.Identity(1)
    msa2oteip = msa2ote | am.Mapping((0, 1), n_inputs=3)
    # Backward, the fore inverse gets the same wavelength as the forward direction.  (jwst 3.0
    # hands it the OTE-plane x instead, so its world -> pixel direction does not invert its
    # pixel -> world one for NIRSpec imaging; see docs/parity.md.)
    msa2oteip.inverse = am.Mapping((0, 1, 1)) | am.Identity(2) & am.Const1D(lam) | fore.inverse
    _named(msa2oteip, "msa2oteip", ("x_msa", "y_msa", "lam"), ("x_ote", "y_ote"))

    ote = _named(load_transform(paths["ote"], "ote"), "oteip2v23", ("x_ote", "y_ote"), ("v2", "v3"))

    pointing = pointing_from_meta(meta)
    va = _named(va_correction(pointing.va_scale, pointing.v2_ref, pointing.v3_ref), "va_corr",
                ("v2", "v3"), ("v2", "v3"))
    sky = _named(v2v3_to_sky(pointing.v2_ref, pointing.v3_ref, pointing.roll_ref, pointing.ra_ref,
                             pointing.dec_ref), "v2v3_to_sky", ("v2", "v3"), ("ra", "dec"))
    return [(det, dms2sca), (sca, sca2gwa), (gwa, gwa2msa), (msa, msa2oteip), (oteip, ote),
            (v2v3, va), (v2v3vacorr, sky), (world, None)]


def _tilt_reading(meta, path: str, keyword: str):
    """A GWA tilt-sensor reading as a float, or ``None`` when the exposure has none."""
    value = meta.get(path)
    if value is None:
        return None
    try:
        reading = float(value)
    except (TypeError, ValueError):
        reading = math.nan
    if isinstance(value, (str, bytes, bool)) or not math.isfinite(reading):
        raise BadInputError(f"{keyword} = {value!r} is not a GWA tilt-sensor reading (a number)")
    return reading


def imaging_wcs(meta, paths: dict):
    """The ``gwcs.WCS`` of a NIRSpec imaging exposure (see :func:`imaging_pipeline`)."""
    from gwcs import WCS

    return WCS(imaging_pipeline(meta, paths))
