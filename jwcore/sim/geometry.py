"""Where a detector looks: the distortion (science pixel -> V2V3) and the pointing (V2V3 -> sky).

The distortion is the SIAF chain as jwst's imaging distortion references hold it:
pixel offsets from the aperture reference pixel -> ideal (arcsec) by a cubic polynomial (the
plate scales plus a mild radial and a small quadratic term) -> V2V3 by the V3IdlYAngle
rotation and VIdlParity flip.  The inverse polynomials are fitted once (least squares on a
grid) so the model can be inverted as jwst's WCS requires.

The pointing follows jwst's ``v23tosky``: a 3-D rotation by (V2_REF, -V3_REF, ROLL_REF,
DEC_REF, -RA_REF) about the z, y, x, y, z axes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .detector import DetectorSpec

_ARCSEC = 1.0 / 3600.0


# -- distortion ----------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _poly_terms(spec: DetectorSpec):
    """(Sci->Idl x coeffs, y coeffs) as {(i, j): c} in pixels -> arcsec, i: power of x."""
    sx, sy = spec.sci_scale
    ny, nx = spec.shape
    half = 0.5 * float(np.hypot(nx, ny))
    k = spec.distortion / half ** 2          # radial: fractional `distortion` at the corner
    q = 0.25 * spec.distortion / half        # a small quadratic (keystone-like) term
    cx = {(1, 0): sx, (3, 0): sx * k, (1, 2): sx * k, (2, 0): sx * q, (0, 2): -0.5 * sx * q}
    cy = {(0, 1): sy, (0, 3): sy * k, (2, 1): sy * k, (1, 1): sy * q}
    return cx, cy


def _eval_poly(coeffs, u, v):
    out = np.zeros(np.broadcast(u, v).shape)
    for (i, j), c in coeffs.items():
        out = out + c * u ** i * v ** j
    return out


def sci_to_idl(spec: DetectorSpec, x, y):
    """0-based full-frame science pixel -> ideal (arcsec)."""
    u = np.asarray(x, float) - (spec.sci_ref[0] - 1.0)
    v = np.asarray(y, float) - (spec.sci_ref[1] - 1.0)
    cx, cy = _poly_terms(spec)
    return _eval_poly(cx, u, v), _eval_poly(cy, u, v)


def idl_to_v2v3(spec: DetectorSpec, xi, yi):
    t = np.deg2rad(spec.v3_idl_yangle)
    p = spec.vparity
    v2 = spec.v2_ref + p * xi * np.cos(t) + yi * np.sin(t)
    v3 = spec.v3_ref - p * xi * np.sin(t) + yi * np.cos(t)
    return v2, v3


def v2v3_to_idl(spec: DetectorSpec, v2, v3):
    t = np.deg2rad(spec.v3_idl_yangle)
    p = spec.vparity
    d2 = np.asarray(v2, float) - spec.v2_ref
    d3 = np.asarray(v3, float) - spec.v3_ref
    xi = p * (d2 * np.cos(t) - d3 * np.sin(t))
    yi = d2 * np.sin(t) + d3 * np.cos(t)
    return xi, yi


@lru_cache(maxsize=64)
def _inverse_terms(spec: DetectorSpec, degree: int = 5):
    """Least-squares Idl -> Sci polynomial (arcsec -> pixel offsets), as SIAF's Idl2Sci."""
    ny, nx = spec.shape
    gy, gx = np.mgrid[-0.5:ny + 0.5:(ny + 1) / 40.0, -0.5:nx + 0.5:(nx + 1) / 40.0]
    xi, yi = sci_to_idl(spec, gx.ravel(), gy.ravel())
    u = gx.ravel() - (spec.sci_ref[0] - 1.0)
    v = gy.ravel() - (spec.sci_ref[1] - 1.0)
    scale = float(np.max(np.abs(np.concatenate([xi, yi]))))
    a, b = xi / scale, yi / scale
    terms = [(i - j, j) for i in range(degree + 1) for j in range(i + 1)]
    design = np.stack([a ** i * b ** j for i, j in terms], axis=1)
    cu, *_ = np.linalg.lstsq(design, u, rcond=None)
    cv, *_ = np.linalg.lstsq(design, v, rcond=None)
    cx = {t: c / scale ** (t[0] + t[1]) for t, c in zip(terms, cu)}
    cy = {t: c / scale ** (t[0] + t[1]) for t, c in zip(terms, cv)}
    return cx, cy


def idl_to_sci(spec: DetectorSpec, xi, yi):
    cx, cy = _inverse_terms(spec)
    xi = np.asarray(xi, float)
    yi = np.asarray(yi, float)
    return (_eval_poly(cx, xi, yi) + spec.sci_ref[0] - 1.0,
            _eval_poly(cy, xi, yi) + spec.sci_ref[1] - 1.0)


def pixel_area_map(spec: DetectorSpec, dtype=np.float32, window=None):
    """Relative pixel area (Jacobian of sci->ideal over the nominal sx*sy), full frame or the
    ``window`` (a :class:`~jwcore.sim.detector.Subarray`) of it."""
    ny, nx = spec.shape
    ysl, xsl = window.slices if window is not None else (slice(0, ny), slice(0, nx))
    y, x = np.mgrid[ysl, xsl].astype(float)
    u = x - (spec.sci_ref[0] - 1.0)
    v = y - (spec.sci_ref[1] - 1.0)
    cx, cy = _poly_terms(spec)

    def d(coeffs, wrt):
        out = np.zeros_like(u)
        for (i, j), c in coeffs.items():
            if wrt == 0 and i:
                out += c * i * u ** (i - 1) * v ** j
            elif wrt == 1 and j:
                out += c * j * u ** i * v ** (j - 1)
        return out

    jac = d(cx, 0) * d(cy, 1) - d(cx, 1) * d(cy, 0)
    return (np.abs(jac) / (spec.sci_scale[0] * spec.sci_scale[1])).astype(dtype)


def distortion_model(spec: DetectorSpec):
    """astropy model: 0-based full-frame science pixel (x, y) -> (V2, V3) arcsec, with inverse
    and bounding box, laid out like jwst's imaging distortion reference files."""
    from astropy.modeling import models as m

    def poly(coeffs, degree):
        p = m.Polynomial2D(degree)
        for (i, j), c in coeffs.items():
            setattr(p, f"c{i}_{j}", c)
        return p

    x0, y0 = spec.sci_ref[0] - 1.0, spec.sci_ref[1] - 1.0
    cx, cy = _poly_terms(spec)
    t = np.deg2rad(spec.v3_idl_yangle)
    p = spec.vparity
    rot2 = m.Polynomial2D(1, c1_0=p * np.cos(t), c0_1=np.sin(t))
    rot3 = m.Polynomial2D(1, c1_0=-p * np.sin(t), c0_1=np.cos(t))
    forward = (m.Shift(-x0) & m.Shift(-y0) | m.Mapping((0, 1, 0, 1)) | poly(cx, 3) & poly(cy, 3)
               | m.Mapping((0, 1, 0, 1)) | rot2 & rot3 | m.Shift(spec.v2_ref) & m.Shift(spec.v3_ref))
    ix, iy = _inverse_terms(spec)
    irot_x = m.Polynomial2D(1, c1_0=p * np.cos(t), c0_1=-p * np.sin(t))
    irot_y = m.Polynomial2D(1, c1_0=np.sin(t), c0_1=np.cos(t))
    inverse = (m.Shift(-spec.v2_ref) & m.Shift(-spec.v3_ref) | m.Mapping((0, 1, 0, 1)) | irot_x & irot_y
               | m.Mapping((0, 1, 0, 1)) | poly(ix, 5) & poly(iy, 5) | m.Shift(x0) & m.Shift(y0))
    forward.inverse = inverse
    ny, nx = spec.shape
    forward.bounding_box = ((-0.5, ny - 0.5), (-0.5, nx - 0.5))
    forward.name = f"{spec.detector.lower()}_distortion"
    return forward


def filter_offset(spec: DetectorSpec, filter_name: str) -> tuple[float, float]:
    """(column, row) offset in pixels of a filter (the FILTEROFFSET reference): a small fixed
    displacement, the simulator shifts the scene by the same amount; (0, 0) unless the spec
    declares ``filter_offsets``."""
    if not spec.filter_offsets:
        return (0.0, 0.0)
    h = sum((k + 1) * ord(c) for k, c in enumerate(filter_name.upper()))
    return (round(((h % 97) / 97.0 - 0.5) * 0.6, 4), round((((h // 97) % 89) / 89.0 - 0.5) * 0.6, 4))


# -- pointing --------------------------------------------------------------------------------
def _unit(lon_deg, lat_deg):
    lon = np.deg2rad(np.asarray(lon_deg, float))
    lat = np.deg2rad(np.asarray(lat_deg, float))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _lonlat(vec):
    x, y, z = vec
    lon = np.rad2deg(np.arctan2(y, x))
    lat = np.rad2deg(np.arctan2(z, np.hypot(x, y)))
    return lon, lat


@dataclass(frozen=True)
class Pointing:
    """The attitude for one exposure: the aperture reference point (V2_REF, V3_REF) looks at
    (RA_REF, DEC_REF) with V3 at position angle ROLL_REF there."""

    v2_ref: float
    v3_ref: float
    ra_ref: float
    dec_ref: float
    roll_ref: float

    @property
    def matrix(self) -> np.ndarray:
        """3x3 rotation taking V-frame unit vectors to sky unit vectors: jwst's v23tosky
        sequence z(V2_REF), y(-V3_REF), x(ROLL_REF), y(DEC_REF), z(-RA_REF)."""
        from astropy.modeling.rotations import RotationSequence3D

        angles = [self.v2_ref * _ARCSEC, -self.v3_ref * _ARCSEC, self.roll_ref, self.dec_ref, -self.ra_ref]
        rot = RotationSequence3D(angles, axes_order="zyxyz")
        cols = [np.array(rot(*e), float).ravel() for e in np.eye(3)]
        return np.stack(cols, axis=1)

    def v2v3_to_sky(self, v2, v3):
        ra, dec = _lonlat(self.matrix @ _unit(np.asarray(v2) * _ARCSEC, np.asarray(v3) * _ARCSEC).reshape(3, -1))
        shape = np.shape(v2)
        return (np.mod(ra, 360.0).reshape(shape), dec.reshape(shape))

    def sky_to_v2v3(self, ra, dec):
        shape = np.shape(ra)
        v2, v3 = _lonlat(self.matrix.T @ _unit(ra, dec).reshape(3, -1))
        v2 = (v2 + 180.0) % 360.0 - 180.0
        return (v2 * 3600.0).reshape(shape), (v3 * 3600.0).reshape(shape)

    def v1(self):
        """(RA_V1, DEC_V1, PA_V3): where V1 (V2 = V3 = 0) points and the V3 position angle there."""
        ra, dec = self.v2v3_to_sky(np.array([0.0, 0.0]), np.array([0.0, 60.0]))
        pa = position_angle(ra[0], dec[0], ra[1], dec[1])
        return float(ra[0]), float(dec[0]), float(pa)


def position_angle(ra1, dec1, ra2, dec2):
    """Position angle (deg, N through E) of point 2 seen from point 1."""
    r1, d1, r2, d2 = map(np.deg2rad, (ra1, dec1, ra2, dec2))
    y = np.sin(r2 - r1) * np.cos(d2)
    x = np.cos(d1) * np.sin(d2) - np.sin(d1) * np.cos(d2) * np.cos(r2 - r1)
    return np.mod(np.rad2deg(np.arctan2(y, x)), 360.0)


def pixel_to_sky(spec: DetectorSpec, pointing: Pointing, x, y):
    """0-based full-frame science pixel -> (RA, Dec) deg."""
    return pointing.v2v3_to_sky(*idl_to_v2v3(spec, *sci_to_idl(spec, x, y)))


def sky_to_pixel(spec: DetectorSpec, pointing: Pointing, ra, dec):
    """(RA, Dec) deg -> 0-based full-frame science pixel (x, y)."""
    return idl_to_sci(spec, *v2v3_to_idl(spec, *pointing.sky_to_v2v3(ra, dec)))


def pointing_for(spec: DetectorSpec, ra: float, dec: float, pa_aper: float,
                 dx_idl: float = 0.0, dy_idl: float = 0.0) -> Pointing:
    """The pointing that puts sky position (ra, dec) at ideal offset (dx, dy) arcsec from the
    aperture reference point, with ROLL_REF = ``pa_aper`` at the reference point."""
    base = Pointing(spec.v2_ref, spec.v3_ref, ra, dec, pa_aper)
    if dx_idl == 0.0 and dy_idl == 0.0:
        return base
    v2, v3 = idl_to_v2v3(spec, -dx_idl, -dy_idl)
    ra_ref, dec_ref = base.v2v3_to_sky(np.array(v2), np.array(v3))
    return Pointing(spec.v2_ref, spec.v3_ref, float(ra_ref), float(dec_ref), pa_aper)
