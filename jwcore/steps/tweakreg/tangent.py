"""Tangent planes of an imaging gwcs and the tangent-plane correction frame ``v2v3corr``.

An imaging WCS ends with the attitude rotation ``v2v3(vacorr) -> world``: a 3-D rotation by
(V2_REF, -V3_REF, ROLL_REF) about z, y, x followed by (DEC_REF, -RA_REF) about y, z.  The
first three rotations put the aperture reference point on the x axis of a frame whose y, z
axes are the local RA, Dec directions; the gnomonic coordinates ``(y/x, z/x)`` of a unit
vector in that frame are the *tangent plane* of the exposure.  Because the last two rotations
only depend on (RA_REF, DEC_REF), the tangent-plane position of a sky point is the gnomonic
projection about (RA_REF, DEC_REF) -- :class:`TangentPlane` -- whatever the detector.

jwst records an alignment as an affine map ``p -> M p + t`` of that plane, inserted in the
WCS between ``v2v3vacorr`` (or ``v2v3``) and a new frame ``v2v3corr``: V2, V3 are rotated
into the plane, corrected, rotated back (:func:`tpcorr_model`).  The submodels carry the
names jwst and tweakwcs look for (``det_to_optic_axis``, ``tp_affine``), so a corrected WCS
can be tweaked again by either package, and only serializable astropy/gwcs models are used,
so it round-trips through the ASDF extension.

Pure functions of numbers and transforms; no I/O.
"""

from __future__ import annotations

import copy

import numpy as np
from astropy.modeling import models as am

__all__ = [
    "RAD2ARCSEC", "TPCORR_NAME", "TangentPlane", "sky_rotation", "correction_frame_name",
    "existing_correction", "tpcorr_model", "corrected_wcs", "tp_to_tp",
]

RAD2ARCSEC = 3600.0 * 180.0 / np.pi
TPCORR_NAME = "JWST tangent-plane linear correction. v1"
correction_frame_name = "v2v3corr"


def _rotation_matrix(angles_deg, axes: str) -> np.ndarray:
    """3x3 matrix of ``RotationSequence3D(angles, axes)`` (``v_out = R @ v_in``)."""
    rot = am.RotationSequence3D(list(angles_deg), axes_order=axes)
    cols = [np.asarray(rot(*e), dtype=float).ravel() for e in np.eye(3)]
    return np.stack(cols, axis=1)


def _unit(ra, dec):
    a = np.deg2rad(np.asarray(ra, dtype=float))
    d = np.deg2rad(np.asarray(dec, dtype=float))
    cd = np.cos(d)
    return np.stack([cd * np.cos(a), cd * np.sin(a), np.sin(d)])


class TangentPlane:
    """Gnomonic coordinates (arcsec) about (ra0, dec0) on the axes jwst's attitude defines."""

    def __init__(self, ra0: float, dec0: float):
        self.ra0 = float(ra0)
        self.dec0 = float(dec0)
        self._r = _rotation_matrix([self.dec0, -self.ra0], "yz")

    def to_plane(self, ra, dec):
        u = self._r.T @ _unit(ra, dec).reshape(3, -1)
        shape = np.shape(ra)
        with np.errstate(divide="ignore", invalid="ignore"):
            bad = u[0] <= 0
            xt = np.where(bad, np.nan, u[1] / u[0]) * RAD2ARCSEC
            yt = np.where(bad, np.nan, u[2] / u[0]) * RAD2ARCSEC
        return xt.reshape(shape), yt.reshape(shape)

    def to_sky(self, xt, yt):
        xt, yt = np.broadcast_arrays(np.asarray(xt, dtype=float), np.asarray(yt, dtype=float))
        shape = xt.shape
        v = np.stack([np.ones(xt.size), xt.ravel() / RAD2ARCSEC, yt.ravel() / RAD2ARCSEC])
        w = self._r @ v
        ra = np.mod(np.rad2deg(np.arctan2(w[1], w[0])), 360.0)
        dec = np.rad2deg(np.arctan2(w[2], np.hypot(w[0], w[1])))
        return ra.reshape(shape), dec.reshape(shape)


def _submodels(model):
    """All leaf models of a (compound) model, depth first (and the model itself)."""
    from astropy.modeling import CompoundModel

    if isinstance(model, CompoundModel):
        return [model] + _submodels(model.left) + _submodels(model.right)
    return [model]


def sky_rotation(wcs) -> dict:
    """``{v2_ref, v3_ref (arcsec), roll_ref, ra_ref, dec_ref (deg)}`` of the attitude rotation.

    Read from the 5-angle ``RotationSequence3D`` of the transform into the last frame;
    raises ``ValueError`` when the WCS has no such rotation.
    """
    frames = wcs.available_frames
    last = frames[-1]
    transform = wcs.get_transform(frames[-2], last)
    for m in _submodels(transform):
        if isinstance(m, am.RotationSequence3D) and np.size(m.angles.value) == 5:
            v2, nv3, roll, dec, nra = (float(a) for a in m.angles.value)
            return {"v2_ref": v2 * 3600.0, "v3_ref": -nv3 * 3600.0, "roll_ref": roll,
                    "ra_ref": np.mod(-nra, 360.0), "dec_ref": dec}
    raise ValueError("the WCS has no attitude rotation (5-angle RotationSequence3D) into its world frame")


def _named(model, name):
    from astropy.modeling import CompoundModel

    for m in _submodels(model):
        if m.name == name and not isinstance(m, CompoundModel):
            return m
    return None


def existing_correction(wcs):
    """``(matrix, translation_rad, (v2_ref, v3_ref, roll_ref))`` of a ``v2v3corr`` frame, or ``None``."""
    frames = wcs.available_frames
    if correction_frame_name not in frames:
        return None
    idx = frames.index(correction_frame_name)
    tpcorr = wcs.get_transform(frames[idx - 1], correction_frame_name)
    affine = _named(tpcorr, "tp_affine")
    rot = _named(tpcorr, "det_to_optic_axis")
    if affine is None or rot is None:
        raise ValueError("the WCS has a v2v3corr frame that is not a tangent-plane correction")
    v2, nv3, roll = (float(a) for a in rot.angles.value)
    return (np.array(affine.matrix.value, dtype=float), np.array(affine.translation.value, dtype=float),
            (v2 * 3600.0, -nv3 * 3600.0, roll))


def tpcorr_model(v2_ref: float, v3_ref: float, roll_ref: float, matrix, translation_rad):
    """V2, V3 (arcsec) -> corrected V2, V3: rotate into the tangent plane of (V2_REF, V3_REF,
    ROLL_REF), apply ``p -> matrix @ p + translation`` (plane units: radians), rotate back.
    The inverse uses the inverse affine map."""
    from gwcs.geometry import CartesianToSpherical, SphericalToCartesian

    matrix = np.asarray(matrix, dtype=float)
    translation = np.asarray(translation_rad, dtype=float)
    inv_matrix = np.linalg.inv(matrix)

    def chain(affine):
        to_deg = am.Scale(1.0 / 3600.0, name="arcsec_to_deg_1D")
        to_deg = to_deg & to_deg
        to_deg.name = "arcsec_to_deg_2D"
        to_arcsec = am.Scale(3600.0, name="deg_to_arcsec_1D")
        to_arcsec = to_arcsec & to_arcsec
        to_arcsec.name = "deg_to_arcsec_2D"
        rot = am.RotationSequence3D([v2_ref / 3600.0, -v3_ref / 3600.0, roll_ref], "zyx",
                                    name="det_to_optic_axis")
        unrot = rot.inverse
        unrot.name = "optic_axis_to_det"
        # Cartesian (x, y, z) -> plane (y/x, z/x) and back to the unnormalized (1, xt, yt).
        to_plane = (am.Mapping((0, 1, 2), name="xyz") / am.Mapping((0, 0, 0), n_inputs=3, name="xxx")
                    | am.Mapping((1, 2), name="xtyt"))
        to_plane.name = "Cartesian 3D to TAN"
        from_plane = (am.Mapping((0, 0, 1), n_inputs=2, name="xtyt2xyz")
                      | am.Const1D(1, name="one") & am.Identity(2, name="I(2D)"))
        from_plane.name = "TAN to cartesian 3D"
        return (to_deg | SphericalToCartesian(name="s2c", wrap_lon_at=180) | rot | to_plane | affine
                | from_plane | unrot | CartesianToSpherical(name="c2s", wrap_lon_at=180) | to_arcsec)

    forward = chain(am.AffineTransformation2D(matrix, translation, name="tp_affine"))
    forward.name = TPCORR_NAME
    backward = chain(am.AffineTransformation2D(inv_matrix, -inv_matrix @ translation, name="tp_affine_inv"))
    backward.name = f"Inverse {TPCORR_NAME}"
    forward.inverse = backward
    return forward


def corrected_wcs(wcs, matrix, shift_arcsec, ref_angles=None, name=None):
    """A new gwcs with the plane correction ``p -> matrix @ p + shift`` (arcsec) applied
    after any correction ``wcs`` already has (``v2v3corr``), as jwst's tweakreg records it.

    ``ref_angles``: ``(v2_ref, v3_ref, roll_ref)`` defining the correction's plane for a WCS
    without one (default: the attitude rotation's).
    """
    from gwcs import WCS
    from gwcs import coordinate_frames as cf
    from astropy import units as u

    matrix = np.asarray(matrix, dtype=float)
    shift_rad = np.asarray(shift_arcsec, dtype=float) / RAD2ARCSEC
    frames = wcs.available_frames
    steps = [(step.frame, step.transform) for step in wcs.pipeline]
    old = existing_correction(wcs)
    if old is not None:
        old_m, old_t, angles = old
        new_m = matrix @ old_m
        new_t = matrix @ old_t + shift_rad
        idx = frames.index(correction_frame_name) - 1
        steps[idx] = (steps[idx][0], tpcorr_model(*angles, new_m, new_t))
    else:
        if ref_angles is None:
            att = sky_rotation(wcs)
            ref_angles = (att["v2_ref"], att["v3_ref"], att["roll_ref"])
        anchor = "v2v3vacorr" if "v2v3vacorr" in frames else "v2v3"
        if anchor not in frames:
            raise ValueError("the WCS has no v2v3 frame to attach a tangent-plane correction to")
        idx = frames.index(anchor)
        frame, sky = steps[idx]
        corr_frame = cf.Frame2D(name=correction_frame_name, axes_order=(0, 1), axes_names=("v2", "v3"),
                                unit=(u.arcsec, u.arcsec))
        steps[idx] = (frame, tpcorr_model(*ref_angles, matrix, shift_rad))
        steps.insert(idx + 1, (corr_frame, sky))
    steps = [(copy.deepcopy(f) if not isinstance(f, str) else f, t) for f, t in steps]
    out = WCS(steps, name=name if name is not None else wcs.name)
    return out


def tp_to_tp(src, dst, scale: float):
    """Linear approximation ``q = r @ p + t`` of the map between two alignment planes (objects
    with ``to_tp(ra, dec)`` and ``from_tp(x, y)``), from a right triangle of side ``scale``
    arcsec at ``src``'s origin (jwst's recipe)."""
    x = np.array([-0.5, 0.5, -0.5, 0.0]) * scale
    y = np.array([-0.5, -0.5, 0.5, 0.0]) * scale
    xq, yq = dst.to_tp(*src.from_tp(x, y))
    r = np.array([xq[1:3] - xq[0], yq[1:3] - yq[0]]) / scale
    t = np.array([xq[3], yq[3]])
    return r, t
