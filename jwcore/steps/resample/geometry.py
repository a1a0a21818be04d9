"""Footprints on the sky: S_REGION polygons, their areas, overlaps and centre.

Pure functions on numbers (no files, no logging).  Detector footprints are small (arcminutes),
so overlaps are computed in a gnomonic (TAN) projection about a common tangent point: a great
circle projects to a straight line there, so clipping the projected polygons as plane polygons
gives exactly the spherical intersection (for polygons within a hemisphere).  Areas use the
signed solid angles of the triangles (tangent point, v_i, v_i+1) (Van Oosterom & Strackee),
which stays accurate for arcsecond-sized polygons where the angle-sum formula loses digits.

>>> sq = np.array([[10.0, 0.0], [10.001, 0.0], [10.001, 0.001], [10.0, 0.001]])
>>> round(polygon_area(sq[:, 0], sq[:, 1]) / np.deg2rad(0.001) ** 2, 6)
1.0
"""

from __future__ import annotations

import re

import numpy as np

__all__ = [
    "sregion_polygons", "footprint_center", "unit_vectors", "tangent_project", "tangent_deproject",
    "polygon_area", "clip_convex", "intersect", "make_ccw",
]

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def sregion_polygons(s_region: str) -> list[np.ndarray]:
    """The (N, 2) (RA, Dec) vertex arrays of an S_REGION (one per ``POLYGON``)."""
    out = []
    for part in re.split(r"(?i)polygon", s_region or ""):
        values = [float(v) for v in _NUMBER.findall(part)]
        if len(values) >= 6:
            out.append(np.asarray(values[: len(values) // 2 * 2], float).reshape(-1, 2))
    return out


def unit_vectors(ra, dec) -> np.ndarray:
    """(3, N) unit vectors of (RA, Dec) in degrees."""
    lon, lat = np.deg2rad(np.asarray(ra, float)), np.deg2rad(np.asarray(dec, float))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def footprint_center(vertices) -> tuple[float, float]:
    """Centre of the bounding box (in x, y, z) of all vertices, as (RA, Dec) degrees.

    ``vertices``: one (N, 2) array or a list of them.  This is how jwst places the fiducial
    (CRVAL) of a mosaic.
    """
    v = np.vstack(vertices) if isinstance(vertices, (list, tuple)) else np.asarray(vertices)
    x, y, z = unit_vectors(v[:, 0], v[:, 1])
    xm = (np.max(x) + np.min(x)) / 2.0
    ym = (np.max(y) + np.min(y)) / 2.0
    zm = (np.max(z) + np.min(z)) / 2.0
    lon = np.rad2deg(np.arctan2(ym, xm)) % 360.0
    lat = np.rad2deg(np.arctan2(zm, np.sqrt(xm ** 2 + ym ** 2)))
    return float(lon), float(lat)


def _tangent_basis(ra0, dec0):
    a, d = np.deg2rad(ra0), np.deg2rad(dec0)
    center = np.array([np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)])
    east = np.array([-np.sin(a), np.cos(a), 0.0])
    north = np.cross(center, east)
    return center, east, north


def tangent_project(ra, dec, ra0, dec0):
    """Gnomonic projection about (ra0, dec0): (xi, eta) in radians (east, north)."""
    c, e, n = _tangent_basis(ra0, dec0)
    v = unit_vectors(ra, dec)
    w = np.tensordot(c, v, axes=1)
    return np.tensordot(e, v, axes=1) / w, np.tensordot(n, v, axes=1) / w


def tangent_deproject(xi, eta, ra0, dec0):
    """Inverse of :func:`tangent_project`: (RA, Dec) in degrees."""
    c, e, n = _tangent_basis(ra0, dec0)
    xi, eta = np.asarray(xi, float), np.asarray(eta, float)
    v = c[:, None] + e[:, None] * xi.ravel() + n[:, None] * eta.ravel()
    v /= np.linalg.norm(v, axis=0)
    ra = np.rad2deg(np.arctan2(v[1], v[0])) % 360.0
    dec = np.rad2deg(np.arcsin(np.clip(v[2], -1.0, 1.0)))
    return ra.reshape(xi.shape), dec.reshape(xi.shape)


def polygon_area(ra, dec) -> float:
    """Area (steradians, >= 0) of the spherical polygon with great-circle edges."""
    ra, dec = np.asarray(ra, float), np.asarray(dec, float)
    if ra.size >= 2 and ra[0] == ra[-1] and dec[0] == dec[-1]:
        ra, dec = ra[:-1], dec[:-1]
    if ra.size < 3:
        return 0.0
    v = unit_vectors(ra, dec)
    center = v.sum(axis=1)
    norm = np.linalg.norm(center)
    if norm == 0:
        return 0.0
    a = center / norm
    b, c = v, np.roll(v, -1, axis=1)
    triple = np.einsum("i,ij->j", a, np.cross(b, c, axis=0))
    denom = 1.0 + a @ b + a @ c + np.einsum("ij,ij->j", b, c)
    return float(abs(np.sum(2.0 * np.arctan2(triple, denom))))


def _signed_area(x, y) -> float:
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def make_ccw(x, y):
    """The plane polygon (x, y) with counter-clockwise order and no closing vertex."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size >= 2 and x[0] == x[-1] and y[0] == y[-1]:
        x, y = x[:-1], y[:-1]
    if _signed_area(x, y) < 0:
        x, y = x[::-1], y[::-1]
    return x, y


def clip_convex(subject, clip):
    """Sutherland-Hodgman: the part of plane polygon ``subject`` inside convex ``clip``.

    Both are ``(x, y)`` counter-clockwise vertex arrays (see :func:`make_ccw`).  Returns
    ``(x, y)`` arrays (possibly empty).
    """
    px, py = list(subject[0]), list(subject[1])
    cx, cy = clip
    n = len(cx)
    for i in range(n):
        if not px:
            break
        ax, ay = cx[i], cy[i]
        bx, by = cx[(i + 1) % n], cy[(i + 1) % n]
        ex, ey = bx - ax, by - ay

        def side(x, y):
            return ex * (y - ay) - ey * (x - ax)

        qx, qy = [], []
        m = len(px)
        for k in range(m):
            x0, y0 = px[k - 1], py[k - 1]
            x1, y1 = px[k], py[k]
            s0, s1 = side(x0, y0), side(x1, y1)
            if s1 >= 0:
                if s0 < 0:
                    t = s0 / (s0 - s1)
                    qx.append(x0 + t * (x1 - x0))
                    qy.append(y0 + t * (y1 - y0))
                qx.append(x1)
                qy.append(y1)
            elif s0 >= 0:
                t = s0 / (s0 - s1)
                qx.append(x0 + t * (x1 - x0))
                qy.append(y0 + t * (y1 - y0))
        px, py = qx, qy
    return np.asarray(px, float), np.asarray(py, float)


def intersect(poly_a, poly_b):
    """The overlap of two sky polygons ((N, 2) RA/Dec arrays) as an (M, 2) array, or ``None``.

    The second polygon should be convex (a detector footprint); the first may be any simple
    polygon.
    """
    ra0, dec0 = footprint_center([poly_a, poly_b])
    ax, ay = make_ccw(*tangent_project(poly_a[:, 0], poly_a[:, 1], ra0, dec0))
    bx, by = make_ccw(*tangent_project(poly_b[:, 0], poly_b[:, 1], ra0, dec0))
    x, y = clip_convex((ax, ay), (bx, by))
    if x.size < 3 or abs(_signed_area(x, y)) == 0.0:
        return None
    ra, dec = tangent_deproject(x, y, ra0, dec0)
    return np.column_stack([ra, dec])
