"""Linear fits between matched source lists, with sigma clipping (tweakreg's ``fitgeometry``).

The model maps image positions ``u`` onto reference positions ``x``:
``x ~ M @ u + s``.  Geometries:

* ``shift``: ``M = I``; ``s`` is the mean difference.
* ``rshift``: ``M`` a rotation (scale fixed to 1), least squares (the rotation that best
  aligns the centred lists, as IRAF geomap's rotation fit).
* ``rscale``: rotation and one scale.
* ``general``: any 2x2 ``M`` (per-axis scale, rotation and skew), linear least squares.

``M``'s convention is tweakreg's: a proper rotation by ``theta`` is ``[[c, s], [-s, c]]``.

:func:`iter_linear_fit` refits ``nclip`` times without the points whose residual norm is at
least ``sigma`` x RMSE of the previous fit (points clipped earlier may come back, as in
tweakwcs without ``clip_accum``), stopping early when nothing is clipped or too few points
would remain.  The centre of rotation is the mean image position.  Pure numpy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_POINTS", "fit_shift", "fit_rotation", "fit_general", "iter_linear_fit", "decompose"]

MIN_POINTS = {"shift": 1, "rshift": 2, "rscale": 2, "general": 3}


class FitError(ValueError):
    """Too few or degenerate points for the requested geometry."""


def fit_shift(x, u):
    if len(x) < 1:
        raise FitError("at least one point is needed to fit a shift")
    return np.eye(2), (x - u).mean(axis=0)


def fit_rotation(x, u, fit_scale: bool):
    """Best rotation (optionally scale) about the centroids, reflections allowed."""
    if len(x) < 2:
        raise FitError("at least two points are needed to fit a rotation")
    xm, um = x.mean(axis=0), u.mean(axis=0)
    xc, uc = x - xm, u - um
    sxu, sxv = np.dot(xc[:, 0], uc[:, 0]), np.dot(xc[:, 0], uc[:, 1])
    syu, syv = np.dot(xc[:, 1], uc[:, 0]), np.dot(xc[:, 1], uc[:, 1])
    improper = sxu * syv - sxv * syu < 0
    if improper:
        num, den = sxv + syu, sxu - syv
    else:
        num, den = sxv - syu, sxu + syv
    theta = 0.0 if (num == 0 and den == 0) else np.arctan2(num, den)
    c, s = np.cos(theta), np.sin(theta)
    if fit_scale:
        norm = np.dot(uc[:, 0], uc[:, 0]) + np.dot(uc[:, 1], uc[:, 1])
        if norm <= 0:
            raise FitError("singular fit: the image positions coincide")
        mag = (den * c + num * s) / norm
    else:
        mag = 1.0
    matrix = mag * (np.array([[c, s], [s, -c]]) if improper else np.array([[c, s], [-s, c]]))
    return matrix, xm - matrix @ um


def fit_general(x, u):
    if len(x) < 3:
        raise FitError("at least three points are needed for a general linear fit")
    design = np.column_stack([u, np.ones(len(u))])
    coef, _, rank, _ = np.linalg.lstsq(design, x, rcond=None)
    if rank < 3 or not np.all(np.isfinite(coef)):
        raise FitError("singular fit: suspected colinear points")
    return coef[:2].T.copy(), coef[2].copy()


def _fit(x, u, fitgeom):
    if fitgeom == "shift":
        return fit_shift(x, u)
    if fitgeom == "rshift":
        return fit_rotation(x, u, fit_scale=False)
    if fitgeom == "rscale":
        return fit_rotation(x, u, fit_scale=True)
    if fitgeom == "general":
        return fit_general(x, u)
    raise ValueError(f"unsupported fitgeometry {fitgeom!r}; use shift, rshift, rscale or general")


def _stats(resid):
    norm = np.linalg.norm(resid, axis=1)
    return {
        "rmse": float(np.sqrt(np.mean(norm ** 2))) if len(norm) else float("nan"),
        "mae": float(np.mean(norm)) if len(norm) else float("nan"),
        "std": float(np.linalg.norm(resid.std(axis=0))) if len(norm) else float("nan"),
    }


def decompose(matrix, fitgeom: str = "general") -> dict:
    """Rotation (deg), scales and skew of a fit matrix (tweakreg's reporting)."""
    m = np.asarray(matrix, dtype=float)
    det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    sdet = 1.0 if det >= 0 else -1.0
    s = float(np.sqrt(abs(det)))
    if fitgeom == "shift":
        return {"proper_rot": 0.0, "rot": (0.0, 0.0), "<rot>": 0.0, "scale": (1.0, 1.0), "<scale>": 1.0,
                "skew": 0.0, "proper": det >= 0}
    if fitgeom == "general":
        sx, sy = np.hypot(m[0, 0], m[1, 0]), np.hypot(m[0, 1], m[1, 1])
    else:
        sx = sy = s
    w = m / np.array([sx, sy])
    proper_rot = float(np.rad2deg(np.arctan2(w[0, 1] - sdet * w[1, 0], w[0, 0] + sdet * w[1, 1])))
    if det >= 0 and fitgeom in ("rshift", "rscale"):
        rotx = roty = rot = proper_rot
        skew = 0.0
    else:
        rotx = float(np.rad2deg(np.arctan2(-w[1, 0], w[0, 0])))
        roty = float(np.rad2deg(np.arctan2(w[0, 1], w[1, 1])))
        rot = 0.5 * (rotx + roty)
        skew = float(np.mod(roty - rotx - 180.0, 360.0) - 180.0)
    return {"proper_rot": proper_rot, "rot": (rotx, roty), "<rot>": rot, "scale": (float(sx), float(sy)),
            "<scale>": s, "skew": skew, "proper": det >= 0}


def iter_linear_fit(xy, uv, fitgeom: str = "rshift", nclip: int = 3, sigma: float = 3.0) -> dict:
    """Fit ``xy ~ matrix @ uv + shift`` (``(N, 2)`` arrays) with ``nclip`` clipping rounds.

    Returns a dict: ``matrix``, ``shift`` (for the origin), ``center``, ``fitmask`` (points
    used in the final fit), ``resids`` (of those), ``rmse``, ``mae``, ``std``, ``eff_nclip``,
    ``fitgeom`` and the :func:`decompose` entries.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    uv = np.asarray(uv, dtype=float).reshape(-1, 2)
    if fitgeom not in MIN_POINTS:
        raise ValueError(f"unsupported fitgeometry {fitgeom!r}; use shift, rshift, rscale or general")
    if xy.shape != uv.shape:
        raise ValueError("xy and uv must have the same shape")
    minobj = MIN_POINTS[fitgeom]
    nclip = int(nclip or 0)
    if nclip < 0:
        raise ValueError("nclip must be non-negative")
    if nclip and sigma <= 0:
        raise ValueError("sigma must be positive")
    if len(xy) == minobj:
        nclip = 0
    center = uv.mean(axis=0) if len(uv) else np.zeros(2)
    x = xy - center
    u = uv - center
    mask = np.ones(len(x), dtype=bool)
    matrix, shift = _fit(x, u, fitgeom)
    resid = x - u @ matrix.T - shift
    stats = _stats(resid)
    eff = 0
    for _ in range(nclip):
        good = np.linalg.norm(resid, axis=1) < sigma * stats["rmse"]
        if np.count_nonzero(good) < minobj or good.all():
            break
        eff += 1
        prev = mask
        mask = np.ones(len(x), dtype=bool)
        mask[prev] = good
        matrix, shift = _fit(x[mask], u[mask], fitgeom)
        resid = x[mask] - u[mask] @ matrix.T - shift
        stats = _stats(resid)
    shift0 = shift + center - matrix @ center
    out = {"matrix": matrix, "shift": shift0, "center": center, "fitmask": mask, "resids": resid,
           "eff_nclip": eff, "fitgeom": fitgeom, **stats}
    out.update(decompose(matrix, fitgeom))
    return out
