"""Sky corrections (shift, rotation, scale) applied to an imaging gwcs and its FITS keywords.

A correction acts in the gnomonic tangent plane at a centre (``ra0``, ``dec0``): with
``xi`` towards east (increasing RA) and ``eta`` towards north, both in arcsec,

    (xi', eta') = M (xi, eta) + (dra, ddec)

where ``M`` is ``scale`` times a rotation by ``rotation`` degrees *from north towards east*
(counter-clockwise on a north-up, east-left image), or an explicit 2x2 ``matrix``.  So a pure
shift moves every source by ``dra`` arcsec east and ``ddec`` arcsec north (tangent-plane
offsets, i.e. ``dra`` is the RA offset times cos(Dec)); a rotation turns the image about the
centre.  Corrections are appended to the gwcs in front of its ``world`` frame (as an exact
3x3 map of direction vectors, see :func:`correction_matrix`), so the detector-to-sky chain
(and its inverse) stay intact, and the SCI header's FITS WCS is refitted
to the corrected gwcs (TAN-SIP for exposures that carry SIP terms, TAN for resampled images).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from astropy.modeling import models as am

__all__ = ["SkyCorrection", "correction_matrix", "correction_transform", "corrected_wcs", "apply_correction",
           "linear_tan_keywords"]

ARCSEC = 1.0 / 3600.0


@dataclass(frozen=True)
class SkyCorrection:
    """A tangent-plane correction (see the module docstring); ``ra0``/``dec0`` (deg): the
    centre of rotation and scale (``None``: the image's reference point)."""

    dra: float = 0.0
    ddec: float = 0.0
    rotation: float = 0.0
    scale: float = 1.0
    matrix: tuple | None = None
    ra0: float | None = None
    dec0: float | None = None

    def linear(self) -> np.ndarray:
        if self.matrix is not None:
            return np.asarray(self.matrix, float).reshape(2, 2)
        t = np.radians(self.rotation)
        c, s = np.cos(t), np.sin(t)
        return self.scale * np.array([[c, s], [-s, c]])

    def is_identity(self) -> bool:
        return self.dra == 0 and self.ddec == 0 and np.allclose(self.linear(), np.eye(2), rtol=0, atol=1e-15)

    def as_dict(self) -> dict:
        return {"dra": float(self.dra), "ddec": float(self.ddec), "rotation": float(self.rotation),
                "scale": float(self.scale), "matrix": None if self.matrix is None else np.asarray(self.matrix).tolist(),
                "ra0": self.ra0, "dec0": self.dec0}


def _tan_plane(ra0, dec0):
    """(ra, dec) -> (xi, eta) in degrees at (ra0, dec0), xi east, eta north; and its inverse."""
    # with LONPOLE 180 the projection's x grows with RA (east) and y with Dec (north)
    forward = am.RotateCelestial2Native(ra0, dec0, 180.0) | am.Sky2Pix_TAN()
    backward = am.Pix2Sky_TAN() | am.RotateNative2Celestial(ra0, dec0, 180.0)
    forward.inverse = backward
    return forward, backward


def _local_frame(ra0, dec0) -> np.ndarray:
    """Rows: the unit vectors towards (ra0, dec0), east and north there (Cartesian ICRS)."""
    a, d = np.radians(ra0), np.radians(dec0)
    return np.array([[np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)],
                     [-np.sin(a), np.cos(a), 0.0],
                     [-np.sin(d) * np.cos(a), -np.sin(d) * np.sin(a), np.cos(d)]])


def _linear3(matrix: np.ndarray):
    """A 3x3 linear map of (x, y, z) built from standard models (so a gwcs holding it can be
    saved as ASDF): output i = sum_j matrix[i, j] * input j."""
    rows = []
    for i in range(3):
        terms = [am.Mapping((j,), n_inputs=3) | am.Scale(float(matrix[i, j])) for j in range(3)]
        rows.append(terms[0] + terms[1] + terms[2])
    return am.Mapping((0, 1, 2, 0, 1, 2, 0, 1, 2)) | (rows[0] & rows[1] & rows[2])


def correction_matrix(corr: SkyCorrection, ra0: float, dec0: float) -> np.ndarray:
    """The correction as a 3x3 matrix on direction vectors.

    In the frame whose x axis points at the centre (y east, z north), gnomonic coordinates are
    ``xi = y/x``, ``eta = z/x``; the tangent-plane affine ``(xi, eta) -> M (xi, eta) + t`` is
    then the linear map ``(x, y, z) -> (x, M (y, z) + x t)`` - exact, with no projection model
    in the gwcs."""
    m = corr.linear()
    t = np.radians(np.array([corr.dra, corr.ddec]) * ARCSEC)
    a = np.eye(3)
    a[1:, 1:] = m
    a[1:, 0] = t
    r = _local_frame(ra0, dec0)
    return r.T @ a @ r


def correction_transform(corr: SkyCorrection, ra0: float, dec0: float):
    """The (ra, dec) -> (ra', dec') transform of ``corr`` about (``ra0``, ``dec0``), degrees,
    with its exact inverse."""
    from gwcs.geometry import CartesianToSpherical, SphericalToCartesian

    mat = correction_matrix(corr, ra0, dec0)
    linear = _linear3(mat)
    linear.inverse = _linear3(np.linalg.inv(mat))
    model = SphericalToCartesian(wrap_lon_at=360) | linear | CartesianToSpherical(wrap_lon_at=360)
    model.name = "sky_alignment"
    return model


def _reference_point(wcs, meta, shape):
    """Default centre: the image's FITS reference pixel on the sky, else its centre."""
    info = meta.get("wcsinfo") or {}
    cx, cy = info.get("crpix1"), info.get("crpix2")
    if cx is None or cy is None:
        cx, cy = (shape[-1] + 1) / 2.0, (shape[-2] + 1) / 2.0
    ra, dec = wcs(float(cx) - 1, float(cy) - 1, with_bounding_box=False)
    return float(ra), float(dec)


def corrected_wcs(wcs, corr: SkyCorrection, center):
    """A copy of ``wcs`` whose transform into the ``world`` frame is followed by ``corr``
    about ``center`` = (ra0, dec0)."""
    new = copy.deepcopy(wcs)
    frame = new.output_frame.name if new.output_frame is not None else "world"
    new.insert_transform(frame, correction_transform(corr, *center), after=False)
    return new


def linear_tan_keywords(wcs, crpix, step: float = 1.0) -> dict:
    """TAN keywords (crval, cd) of ``wcs`` at 1-based ``crpix``: the sky position of that pixel
    and the local Jacobian in the tangent plane there (finite differences of ``step`` pixels)."""
    x0, y0 = float(crpix[0]) - 1, float(crpix[1]) - 1
    ra0, dec0 = (float(v) for v in wcs(x0, y0, with_bounding_box=False))
    to_plane, _ = _tan_plane(ra0, dec0)
    xs = np.array([x0 + step, x0 - step, x0, x0])
    ys = np.array([y0, y0, y0 + step, y0 - step])
    ra, dec = wcs(xs, ys, with_bounding_box=False)
    xi, eta = to_plane(ra, dec)
    # FITS intermediate world coordinates: first axis along RA increasing (= xi)
    cd = np.array([[(xi[0] - xi[1]) / (2 * step), (xi[2] - xi[3]) / (2 * step)],
                   [(eta[0] - eta[1]) / (2 * step), (eta[2] - eta[3]) / (2 * step)]])
    return {"crval1": ra0 % 360.0, "crval2": dec0, "cd1_1": cd[0, 0], "cd1_2": cd[0, 1], "cd2_1": cd[1, 0],
            "cd2_2": cd[1, 1]}


def _update_fits_keywords(model, wcs) -> None:
    from ..wcs.fitsapprox import apply_sip_keywords, s_region, sip_keywords

    tree_meta = model.tree["meta"]
    info = tree_meta.setdefault("wcsinfo", {})
    crpix = [info.get("crpix1"), info.get("crpix2")]
    shape = model.data.shape
    if crpix[0] is None or crpix[1] is None:
        crpix = [(shape[-1] + 1) / 2.0, (shape[-2] + 1) / 2.0]
    if "a_order" in info:     # an exposure with a SIP approximation: refit it
        keywords = sip_keywords(wcs, crpix=crpix)
        apply_sip_keywords(info, keywords)
    else:                     # a resampled (TAN) image: new CRVAL and linear matrix
        lin = linear_tan_keywords(wcs, crpix)
        info["crval1"], info["crval2"] = lin["crval1"], lin["crval2"]
        cd = np.array([[lin["cd1_1"], lin["cd1_2"]], [lin["cd2_1"], lin["cd2_2"]]])
        if all(k in info for k in ("cdelt1", "cdelt2")) and not any(k in info for k in ("cd1_1", "cd2_2")):
            cdelt = np.array([float(info["cdelt1"]), float(info["cdelt2"])])
            pc = cd / cdelt[:, None]
            info.update({"pc1_1": pc[0, 0], "pc1_2": pc[0, 1], "pc2_1": pc[1, 0], "pc2_2": pc[1, 1]})
        else:
            for k in ("pc1_1", "pc1_2", "pc2_1", "pc2_2", "cdelt1", "cdelt2"):
                info.pop(k, None)
            info.update({k: lin[k] for k in ("cd1_1", "cd1_2", "cd2_1", "cd2_2")})
        info.setdefault("ctype1", "RA---TAN")
        info.setdefault("ctype2", "DEC--TAN")
        info["crpix1"], info["crpix2"] = float(crpix[0]), float(crpix[1])
    try:
        region = s_region(wcs, shape)
    except Exception:   # no bounding box and an odd shape: keep the old footprint
        region = None
    if region is not None:
        info["s_region"] = region


def apply_correction(model, corr: SkyCorrection) -> tuple[float, float]:
    """Correct ``model.meta.wcs`` (in place on the model; the gwcs object is replaced by a
    corrected copy) and refit its FITS WCS keywords and S_REGION.  Records the correction in
    ``meta.jwcal.alignment``.  Returns the centre (ra0, dec0) used."""
    from ..errors import BadInputError

    wcs = model.meta.wcs
    if wcs is None:
        raise BadInputError(f"{model.meta.filename or 'input'}: no gwcs (meta.wcs); run assign_wcs (or resample) first")
    center = (corr.ra0, corr.dec0)
    if center[0] is None or center[1] is None:
        center = _reference_point(wcs, model.meta, model.data.shape)
    new = corrected_wcs(wcs, corr, center)
    model.meta.wcs = new
    _update_fits_keywords(model, new)
    history = model.meta.get("jwcal.alignment") or []
    model.meta.set("jwcal.alignment", [*list(history), {**corr.as_dict(), "ra0": center[0], "dec0": center[1]}])
    return center
