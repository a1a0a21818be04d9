"""Cross-matching two source lists in a common tangent plane, as jwst's tweakreg does.

The recipe (tweakwcs ``XYXYMatch`` over IRAF's ``xyxymatch`` "tolerance" algorithm):

1. *Initial offset* (``use2dhist``): histogram all image - reference position differences
   within ``searchrad`` in bins of about one image pixel (``pscale``); the offset is the peak
   of a quadratic fitted to the non-empty bins of a 5x5 box around the fullest bin
   (:func:`estimate_2dhist_shift`).  Without ``use2dhist`` the user's ``xoffset, yoffset``.
2. The offset is subtracted from the image positions; both lists are sorted by (y, x) and any
   source within ``separation`` of an earlier (kept) source of the same list is dropped.
3. Each remaining reference source takes the nearest remaining image source within
   ``tolerance`` (an image source may serve more than one reference source, as in IRAF).

All coordinates share one unit (arcsec in tweakreg).  Pure numpy/scipy.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.spatial import cKDTree

log = logging.getLogger("jwcal.step.tweakreg")

__all__ = ["histogram_shift", "find_peak", "estimate_2dhist_shift", "drop_close", "xyxymatch", "match_catalogs"]


def histogram_shift(imxy: np.ndarray, refxy: np.ndarray, radius: float) -> np.ndarray:
    """2-D histogram (rows: dy, columns: dx) of image - reference differences within
    ``radius`` (all in bin units); bins are centred on integers -r..r, r = ceil(radius)."""
    imxy = np.asarray(imxy, dtype=float).reshape(-1, 2)
    refxy = np.asarray(refxy, dtype=float).reshape(-1, 2)
    half = radius + 0.5
    r = int(np.ceil(radius))
    edges = np.linspace(-r - 0.5, r + 0.5, 2 * r + 2)
    if len(imxy) == 0 or len(refxy) == 0:
        return np.zeros((2 * r + 1, 2 * r + 1))
    tree = cKDTree(refxy)
    near = tree.query_ball_point(imxy, half * np.sqrt(2.0))
    counts = np.fromiter((len(n) for n in near), dtype=int, count=len(near))
    mi = np.repeat(np.arange(len(imxy)), counts)
    mr = np.fromiter((j for n in near for j in n), dtype=int, count=int(counts.sum()))
    dx = imxy[mi, 0] - refxy[mr, 0]
    dy = imxy[mi, 1] - refxy[mr, 1]
    keep = (dx < half) & (dx >= -half) & (dy < half) & (dy >= -half)
    h, _, _ = np.histogram2d(dx[keep], dy[keep], bins=[edges, edges])
    return h.T


def _centroid(values, xs, ys, box):
    """Centre of mass of ``values`` at (xs, ys); ``None`` if they sum to zero."""
    v = np.where(np.isfinite(values), values, 0.0)
    total = v.sum()
    if total == 0:
        return None
    return float(np.dot(xs, v) / total), float(np.dot(ys, v) / total)


def find_peak(data: np.ndarray, box: int = 5, mask: np.ndarray | None = None):
    """Sub-bin peak ``(x, y)`` of a 2-D array and a status string.

    The fullest (masked-in) element is found; if it lies on the border of its ``box`` x
    ``box`` window (clipped to the array) its integer position is returned
    (``"WARNING:EDGE"``); otherwise a 2-D quadratic is fitted to the masked-in elements of
    the window and its maximum returned (``"SUCCESS"``), falling back to the window's centre
    of mass when there are fewer than 6 elements, the quadratic has no maximum or the maximum
    falls outside the window.  ``"ERROR:NODATA"`` (the array centre) when nothing counts.
    """
    data = np.asarray(data, dtype=float)
    ny, nx = data.shape
    ok = np.isfinite(data) if mask is None else (np.asarray(mask, bool) & np.isfinite(data))
    centre = ((nx - 1.0) / 2.0, (ny - 1.0) / 2.0)
    if not ok.any():
        return centre, "ERROR:NODATA"
    flat = np.where(ok, data, -np.inf).ravel()
    jmax, imax = divmod(int(np.argmax(flat)), nx)
    if data[jmax, imax] < 1:
        return centre, "ERROR:NODATA"
    x1 = max(0, imax - box // 2)
    x2 = min(nx, x1 + box)
    y1 = max(0, jmax - box // 2)
    y2 = min(ny, y1 + box)
    if imax in (x1, x2 - 1) or jmax in (y1, y2 - 1):
        return (float(imax), float(jmax)), "WARNING:EDGE"
    if x2 - x1 < box:
        if x1 == 0:
            x2 = min(nx, box)
        if x2 == nx:
            x1 = max(0, nx - box)
    if y2 - y1 < box:
        if y1 == 0:
            y2 = min(ny, box)
        if y2 == ny:
            y1 = max(0, ny - box)
    yy, xx = np.mgrid[y1:y2, x1:x2]
    sel = ok[y1:y2, x1:x2].ravel()
    xs = xx.ravel()[sel].astype(float)
    ys = yy.ravel()[sel].astype(float)
    vals = data[y1:y2, x1:x2].ravel()[sel]

    def fallback(status):
        c = _centroid(vals, xs, ys, box)
        if c is None:
            return ((x1 + x2 - 1) / 2.0, (y1 + y2 - 1) / 2.0), "ERROR:NODATA"
        return c, status

    if vals.size < 6:
        return fallback("WARNING:CENTER-OF-MASS")
    # z = c0 + c1 u + c2 v + c3 u v + c4 u^2 + c5 v^2 with u, v counted from 1 at the window
    # corner (with few, collinear bins the minimum-norm solution depends on this origin)
    u, v = xs - x1 + 1.0, ys - y1 + 1.0
    design = np.stack([np.ones_like(u), u, v, u * v, u * u, v * v], axis=1)
    try:
        c, *_ = np.linalg.lstsq(design, vals, rcond=None)
    except np.linalg.LinAlgError:
        return fallback("WARNING:CENTER-OF-MASS")
    if not np.all(np.isfinite(c)):
        return fallback("WARNING:CENTER-OF-MASS")
    _, cx, cy, cxy, cxx, cyy = c
    det = 4.0 * cxx * cyy - cxy * cxy
    if det <= 0 or (cxx > 0 and cyy >= 0) or (cxx >= 0 and cyy > 0):
        (xc, yc), status = fallback("WARNING:BADFIT")
        return (xc, yc), status if status.startswith("ERROR") else "WARNING:BADFIT"
    xm = (cy * cxy - 2.0 * cyy * cx) / det + x1 - 1.0
    ym = (cx * cxy - 2.0 * cxx * cy) / det + y1 - 1.0
    if x1 <= xm <= x2 - 1 and y1 <= ym <= y2 - 1:
        return (float(xm), float(ym)), "SUCCESS"
    return fallback("WARNING:CENTER-OF-MASS")


def estimate_2dhist_shift(imxy, refxy, searchrad: float = 3.0, pscale: float = 1.0):
    """Initial (x, y) offset of the image list relative to the reference list (units of the
    inputs), from the peak of the difference histogram; ``(0, 0)`` if there is none."""
    imxy = np.asarray(imxy, dtype=float).reshape(-1, 2)
    refxy = np.asarray(refxy, dtype=float).reshape(-1, 2)
    hist = histogram_shift(imxy / pscale, refxy / pscale, searchrad / pscale)
    nonzero = int(np.count_nonzero(hist))
    if nonzero == 0:
        log.warning("No matches found within a search radius of %g arcsec.", searchrad)
        return 0.0, 0.0
    if nonzero == 1:
        yp, xp = np.unravel_index(int(np.argmax(hist)), hist.shape)
        xs, ys = pscale * xp - searchrad, pscale * yp - searchrad
        log.info("Initial shift %g, %g arcsec from a single histogram bin (%d pairs).", xs, ys, int(hist.max()))
        return float(xs), float(ys)
    (xp, yp), status = find_peak(hist, box=5, mask=hist > 0)
    if status.startswith("ERROR"):
        log.warning("No valid shift found within a search radius of %g arcsec.", searchrad)
        return 0.0, 0.0
    if status == "WARNING:EDGE":
        log.info("The histogram peak lies at its edge; a larger searchrad may help.")
    xs, ys = pscale * xp - searchrad, pscale * yp - searchrad
    log.info("Initial shift %g, %g arcsec (histogram peak %d pairs).", xs, ys, int(hist.max()))
    return float(xs), float(ys)


def drop_close(xy: np.ndarray, separation: float) -> np.ndarray:
    """Indices (into ``xy``) kept after sorting by (y, x) and dropping any point within
    ``separation`` of an earlier kept point; in sorted order."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    order = np.lexsort((xy[:, 0], xy[:, 1]))
    if len(order) < 2 or separation <= 0:
        return order
    pts = xy[order]
    tree = cKDTree(pts)
    pairs = tree.query_pairs(separation, output_type="ndarray")
    if len(pairs) == 0:
        return order
    # a point is removed by the first earlier point that is still kept: walk in sorted order
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    starts = np.searchsorted(pairs[:, 0], np.arange(len(pts)))
    ends = np.searchsorted(pairs[:, 0], np.arange(len(pts)), side="right")
    keep = np.ones(len(pts), dtype=bool)
    for i in np.unique(pairs[:, 0]):
        if keep[i]:
            keep[pairs[starts[i]:ends[i], 1]] = False
    return order[keep]


def xyxymatch(imxy, refxy, origin=(0.0, 0.0), tolerance: float = 1.0, separation: float = 0.0):
    """``(ref_idx, input_idx)`` of matched pairs: each reference point (after the
    ``separation`` cleaning) takes the nearest ``imxy - origin`` point within ``tolerance``."""
    imxy = np.asarray(imxy, dtype=float).reshape(-1, 2)
    refxy = np.asarray(refxy, dtype=float).reshape(-1, 2)
    if len(imxy) == 0 or len(refxy) == 0:
        return np.array([], dtype=int), np.array([], dtype=int)
    moved = imxy - np.asarray(origin, dtype=float)
    ref_keep = drop_close(refxy, separation)
    in_keep = drop_close(moved, separation)
    if len(ref_keep) == 0 or len(in_keep) == 0:
        return np.array([], dtype=int), np.array([], dtype=int)
    tree = cKDTree(moved[in_keep])
    dist, j = tree.query(refxy[ref_keep], k=1, distance_upper_bound=np.nextafter(tolerance, np.inf))
    found = np.isfinite(dist)
    return ref_keep[found].astype(int), in_keep[j[found]].astype(int)


def match_catalogs(refxy, imxy, *, searchrad=2.0, separation=1.0, use2dhist=True, tolerance=0.7,
                   xoffset=0.0, yoffset=0.0, pscale=1.0):
    """Match image positions to reference positions (tangent-plane arcsec).

    Returns ``(ref_idx, input_idx, (xoff, yoff))``.  ``pscale`` (arcsec per image pixel at the
    plane's origin) sets the histogram bin size.
    """
    if use2dhist:
        offset = estimate_2dhist_shift(imxy, refxy, searchrad=searchrad, pscale=pscale)
    else:
        offset = (float(xoffset), float(yoffset))
    ref_idx, in_idx = xyxymatch(imxy, refxy, origin=offset, tolerance=tolerance, separation=separation)
    return ref_idx, in_idx, offset
