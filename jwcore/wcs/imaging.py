"""The imaging WCS: detector -> v2v3 -> v2v3vacorr -> world, as a ``gwcs.WCS``.

The pieces, in the order a pixel goes through them:

1. subarray offset: science pixel -> full-frame pixel (``SUBSTRT1/2 - 1``), when not full frame;
2. filter offset: a per-filter column/row shift of the full-frame pixel (``filteroffset``
   reference), when the instrument has one;
3. distortion: full-frame pixel -> V2, V3 in arcsec (the ``model`` of the ``distortion``
   reference);
4. velocity aberration: V2, V3 scaled about (V2_REF, V3_REF) by ``VA_SCALE``;
5. the telescope attitude: V2, V3 -> RA, Dec via the rotations that put (V2_REF, V3_REF)
   at (RA_REF, DEC_REF) with V3 at position angle ROLL_REF there.

The frames are named as jwst names them (``detector``, ``v2v3``, ``v2v3vacorr``, ``world``)
so that jwst/stdatamodels tools that read the saved WCS find what they expect.  Everything
here is a pure function of numbers and transforms: reading the reference files is in
:mod:`jwcore.wcs.reffiles`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy import coordinates as coord
from astropy import units as u
from astropy.modeling import bind_bounding_box
from astropy.modeling import models as am

from ..errors import BadInputError

__all__ = [
    "Pointing", "pointing_from_meta", "subarray_offset", "filter_shift", "va_correction",
    "v2v3_to_sky", "shape_bounding_box", "subarray_bounding_box", "model_bounding_box",
    "detector_to_v2v3", "imaging_frames", "imaging_wcs", "imaging_wcs_for",
]

ARCSEC = 1.0 / 3600.0


@dataclass(frozen=True)
class Pointing:
    """The keywords that tie V2, V3 to the sky (arcsec and degrees, as in the headers)."""

    v2_ref: float
    v3_ref: float
    roll_ref: float
    ra_ref: float
    dec_ref: float
    va_scale: float | None = None


def pointing_from_meta(meta) -> Pointing:
    """:class:`Pointing` from ``meta.wcsinfo`` and ``meta.velocity_aberration``.

    Raises :class:`BadInputError` naming any missing keyword.
    """
    names = {"v2_ref": "V2_REF", "v3_ref": "V3_REF", "roll_ref": "ROLL_REF",
             "ra_ref": "RA_REF", "dec_ref": "DEC_REF"}
    values = {k: meta.get(f"wcsinfo.{k}") for k in names}
    missing = [kw for k, kw in names.items() if values[k] is None]
    if missing:
        raise BadInputError(f"cannot build the WCS: keyword(s) {', '.join(missing)} missing")
    return Pointing(**{k: float(v) for k, v in values.items()},
                    va_scale=meta.get("velocity_aberration.scale_factor"))


def subarray_offset(xstart, ystart):
    """Science pixel -> full-frame pixel, or ``None`` for a full-frame (1, 1) corner.

    ``xstart``, ``ystart`` are the 1-based SUBSTRT1/SUBSTRT2 (``None`` counts as 1).
    """
    x_is_one = xstart is None or xstart == 1
    y_is_one = ystart is None or ystart == 1
    if x_is_one and y_is_one:
        return None
    tx = am.Identity(1) if x_is_one else am.Shift(xstart - 1)
    ty = am.Identity(1) if y_is_one else am.Shift(ystart - 1)
    return tx & ty


def filter_shift(column_offset, row_offset):
    """The filter-dependent pixel shift put in front of the distortion."""
    return am.Shift(column_offset) & am.Shift(row_offset)


def va_correction(va_scale, v2_ref=None, v3_ref=None):
    """Velocity-aberration scaling of V2, V3 (arcsec) about the reference point.

    ``v' = s * v + (1 - s) * v_ref``; the identity when ``va_scale`` is ``None`` or 1.
    """
    if va_scale is None or va_scale == 1:
        return am.Identity(2)
    if va_scale <= 0:
        raise BadInputError(f"VA_SCALE must be positive, got {va_scale}")
    scale = am.Scale(va_scale, name="dva_scale_v2") & am.Scale(va_scale, name="dva_scale_v3")
    v2_ref = 0.0 if v2_ref is None else v2_ref
    v3_ref = 0.0 if v3_ref is None else v3_ref
    if v2_ref == 0 and v3_ref == 0:
        return scale
    shift = (am.Shift((1 - va_scale) * v2_ref, name="dva_v2_shift")
             & am.Shift((1 - va_scale) * v3_ref, name="dva_v3_shift"))
    out = scale | shift
    out.name = "DVA_Correction"
    return out


def v2v3_to_sky(v2_ref, v3_ref, roll_ref, ra_ref, dec_ref):
    """V2, V3 (arcsec) -> RA, Dec (deg).

    The unit vector of (V2, V3) is turned by -V2_REF about z and +V3_REF about y (bringing the
    reference point onto the x axis), by ROLL_REF about x, then by DEC_REF about y and
    RA_REF about z.  V2 wraps at 180 deg, RA at 360 deg.
    """
    from gwcs.geometry import CartesianToSpherical, SphericalToCartesian

    angles = np.array([v2_ref * ARCSEC, -v3_ref * ARCSEC, roll_ref, dec_ref, -ra_ref])
    rotation = am.RotationSequence3D(angles, axes_order="zyxyz")
    to_deg = am.Scale(ARCSEC) & am.Scale(ARCSEC)
    model = to_deg | SphericalToCartesian(wrap_lon_at=180) | rotation | CartesianToSpherical(wrap_lon_at=360)
    model.name = "v23tosky"
    return model


def shape_bounding_box(shape):
    """``((x0, x1), (y0, y1))`` covering an image of ``shape`` (pixel edges)."""
    return ((-0.5, shape[-1] - 0.5), (-0.5, shape[-2] - 0.5))


def subarray_bounding_box(xsize, ysize):
    """The bounding box of a subarray in its own pixels (``None`` sizes give an empty box)."""
    x1 = -0.5 if xsize is None else xsize - 0.5
    y1 = -0.5 if ysize is None else ysize - 0.5
    return ((-0.5, x1), (-0.5, y1))


def model_bounding_box(transform):
    """A transform's own bounding box as ``((x0, x1), (y0, y1))``, or ``None`` if it has none."""
    try:
        bbox = transform.bounding_box
    except NotImplementedError:
        return None
    return tuple(tuple(float(v) for v in iv) for iv in bbox.bounding_box(order="F"))


def detector_to_v2v3(distortion, *, shape, distortion_bbox=None, filter_offset=None,
                     xstart=None, ystart=None, xsize=None, ysize=None):
    """Science pixel -> V2, V3 (arcsec) with its bounding box bound to it.

    ``distortion``: full-frame pixel -> V2, V3.  ``distortion_bbox``: its valid pixel range
    (``None``: the science array's ``shape``).  ``filter_offset``: ``(column, row)`` shift or
    ``None``.  The subarray corner and size are SUBSTRT1/2, SUBSIZE1/2.
    """
    transform = distortion
    if filter_offset is not None:
        transform = filter_shift(*filter_offset) | transform
    bbox = distortion_bbox if distortion_bbox is not None else shape_bounding_box(shape)
    bind_bounding_box(transform, bbox, order="F")
    sub = subarray_offset(xstart, ystart)
    if sub is not None:
        transform = sub | transform
        bind_bounding_box(transform, subarray_bounding_box(xsize, ysize), order="F")
    return transform


def imaging_frames():
    """The four frames of an imaging WCS, in pipeline order."""
    from gwcs import coordinate_frames as cf

    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    v2v3 = cf.Frame2D(name="v2v3", axes_order=(0, 1), axes_names=("v2", "v3"),
                      unit=(u.arcsec, u.arcsec))
    v2v3vacorr = cf.Frame2D(name="v2v3vacorr", axes_order=(0, 1), axes_names=("v2", "v3"),
                            unit=(u.arcsec, u.arcsec))
    world = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world")
    return detector, v2v3, v2v3vacorr, world


def imaging_wcs(det2v2v3, pointing: Pointing):
    """Assemble the gwcs from the detector -> V2, V3 transform and the pointing."""
    from gwcs import WCS

    detector, v2v3, v2v3vacorr, world = imaging_frames()
    va = va_correction(pointing.va_scale, pointing.v2_ref, pointing.v3_ref)
    sky = v2v3_to_sky(pointing.v2_ref, pointing.v3_ref, pointing.roll_ref, pointing.ra_ref, pointing.dec_ref)
    return WCS([(detector, det2v2v3), (v2v3, va), (v2v3vacorr, sky), (world, None)])


def imaging_wcs_for(meta, shape, distortion, *, filter_offset=None):
    """The imaging WCS of an exposure from its metadata and a loaded distortion transform.

    ``meta``: the exposure's ``model.meta`` (subarray and pointing keywords); ``shape``: its
    data shape; ``distortion``: full-frame pixel -> V2, V3 (its own bounding box, if any, is
    kept); ``filter_offset``: ``(column, row)`` or ``None``.
    """
    pointing = pointing_from_meta(meta)
    det2v2v3 = detector_to_v2v3(
        distortion, shape=shape, distortion_bbox=model_bounding_box(distortion),
        filter_offset=filter_offset,
        xstart=meta.get("subarray.xstart"), ystart=meta.get("subarray.ystart"),
        xsize=meta.get("subarray.xsize"), ysize=meta.get("subarray.ysize"))
    return imaging_wcs(det2v2v3, pointing)
