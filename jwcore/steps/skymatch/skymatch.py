"""Sky matching: absolute ("local", "global") and relative ("match") sky levels of exposures.

The methods are those of jwst's skymatch (drizzlepac's, renamed):

* ``local`` (drizzlepac ``localmin``): each exposure (or group) gets its own sky statistic;
* ``global`` (``globalmin``): every exposure gets the smallest of those;
* ``match``: for every overlapping pair (i, j) the sky statistic of i inside the overlap and
  of j inside the overlap should differ by the sky difference; the (npix-weighted) least-squares
  solution of all pairs gives relative levels, shifted so the lowest (``match_down``) or highest
  is 0;
* ``global+match``: ``match``, then ``global`` on the matched images.

A *group* (exposures taken together, e.g. the detectors of one NIRCam exposure) is matched as
one: its statistic is the npix-weighted mean over members in an overlap, and the minimum over
members for a whole-image statistic.

Memory: footprints (a few vertices per exposure) are all that is kept of every exposure; the
pixels are read one exposure at a time through ``open_member(i)`` (which yields the SCI values
and the usable-pixel mask), at most twice (a second pass only when ``subtract`` changes the
images between the match and the global stage).  Every statistic an exposure contributes
(whole image, overlap with each other exposure or group) is computed while it is open.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ..resample.geometry import intersect, polygon_area

log = logging.getLogger("jwcal.step.skymatch")

__all__ = ["METHODS", "normalize_method", "bounding_polygon", "SkyMember", "overlap_mask", "match_sky",
           "solve_sky_deltas"]

METHODS = ("local", "global", "match", "global+match", "user")
_ALIASES = {"localmin": "local", "globalmin": "global", "globalmin+match": "global+match"}


def normalize_method(method: str) -> str:
    """jwst's method name for ``method`` (drizzlepac's ``localmin``/``globalmin`` accepted)."""
    m = (method or "").strip().lower()
    m = _ALIASES.get(m, m)
    if m not in METHODS:
        raise ValueError(f"skymethod must be one of {', '.join(METHODS)} (or localmin, globalmin, "
                         f"globalmin+match), not {method!r}")
    return m


def bounding_polygon(wcs, shape, stepsize=None) -> np.ndarray:
    """(N, 2) RA/Dec of the image outline (pixel edges), a vertex every ``stepsize`` pixels
    (``None``: the 4 corners), closed (last vertex = first)."""
    ny, nx = shape
    nint_x = 2 if stepsize is None else max(2, int(np.ceil((nx + 1.0) / stepsize)))
    nint_y = 2 if stepsize is None else max(2, int(np.ceil((ny + 1.0) / stepsize)))
    xs = np.linspace(-0.5, nx - 0.5, nint_x)
    ys = np.linspace(-0.5, ny - 0.5, nint_y)[1:-1]
    bx = np.concatenate([xs, np.full(ys.size, nx - 0.5), xs[::-1], np.full(ys.size, -0.5), xs[:1]])
    by = np.concatenate([np.full(xs.size, -0.5), ys, np.full(xs.size, ny - 0.5), ys[::-1], [-0.5]])
    ra, dec = wcs(bx, by, with_bounding_box=False)[:2]
    ra, dec = np.array(ra, float), np.array(dec, float)
    ra[-1], dec[-1] = ra[0], dec[0]
    return np.column_stack([ra, dec])


@dataclass
class SkyMember:
    """One exposure: its outline, shape and sky value (its WCS is read again when it is open)."""

    index: int
    sky_id: str
    polygon: np.ndarray          # closed (N, 2) RA/Dec
    shape: tuple
    sky: float = 0.0
    valid: bool = False
    area: float = field(init=False)

    def __post_init__(self):
        self.area = polygon_area(self.polygon[:-1, 0], self.polygon[:-1, 1])

    def overlaps(self, other: "SkyMember"):
        """(intersection polygon (N, 2) closed, area sr) with another member, or (None, 0)."""
        poly = intersect(self.polygon[:-1], other.polygon[:-1])
        if poly is None:
            return None, 0.0
        area = polygon_area(poly[:, 0], poly[:, 1])
        return np.vstack([poly, poly[:1]]), area


def overlap_mask(wcs, shape, polygons, pixels=None) -> np.ndarray:
    """Pixels of an image (``wcs``, ``shape``) inside any of the sky ``polygons`` (closed
    (N, 2) RA/Dec arrays).  ``pixels``: their vertices already in pixel coordinates."""
    from gwcs.region import Polygon

    if pixels is None:
        pixels = _to_pixels(wcs, polygons)
    mask = np.zeros(shape, dtype=bool)
    for poly, (x, y) in zip(polygons, pixels):
        if len(poly) < 4:
            continue
        mask = Polygon(True, list(zip(x, y))).scan(mask)
    return mask


def _to_pixels(wcs, polygons):
    """Pixel coordinates of the vertices of many sky polygons, in one WCS evaluation."""
    if not polygons:
        return []
    allv = np.vstack(polygons)
    x, y = wcs.invert(allv[:, 0], allv[:, 1], with_bounding_box=False)
    out, k = [], 0
    for poly in polygons:
        out.append((x[k:k + len(poly)], y[k:k + len(poly)]))
        k += len(poly)
    return out


class _Entity:
    """An image or a group of images matched together."""

    def __init__(self, key, members):
        self.key = key
        self.members = members

    @property
    def is_group(self):
        return len(self.members) > 1

    @property
    def sky(self):
        return self.members[0].sky

    def add_sky(self, delta):
        for m in self.members:
            m.sky += delta


def _member_overlap_stats(member, data, mask, wcs, entities, own_key, skystat):
    """{entity key: (raw statistic or None, npix, area)} of ``member``'s pixels overlapping
    each other entity."""
    out, todo = {}, []
    for ent in entities:
        if ent.key == own_key:
            continue
        polys, area = [], 0.0
        for other in ent.members:
            poly, a = member.overlaps(other)
            if a == 0.0 or poly is None:
                continue
            area += a
            polys.append(poly)
        if area == 0.0:
            out[ent.key] = (None, 0, 0.0)
        else:
            todo.append((ent.key, polys, area))
    pixels = _to_pixels(wcs, [p for _, polys, _ in todo for p in polys])
    k = 0
    for key, polys, area in todo:
        fill = overlap_mask(wcs, member.shape, polys, pixels[k:k + len(polys)]) & mask
        k += len(polys)
        values = data[fill]
        if values.size < 1:
            out[key] = (None, 0, 0.0)
            continue
        sky, npix = _stat(skystat, values)
        out[key] = (sky, npix, area if sky is not None else 0.0)
    return out


def _stat(skystat, values):
    try:
        sky, npix = skystat(values)
    except ValueError:
        return None, 0
    if sky is None or not np.isfinite(sky):
        return None, 0
    return sky, int(npix)   # the statistic's own scalar type (see skystats)


def _entity_overlap_sky(ent, other, table, delta):
    """Entity ``ent``'s sky inside its overlap with ``other`` (jwst SkyImage/SkyGroup.calc_sky)."""
    if not ent.is_group:
        m = ent.members[0]
        raw, npix, area = table[m.index].get(other.key, (None, 0, 0.0))
        if raw is None:
            return None, 0, 0.0
        return (raw - m.sky if delta else raw), npix, area
    wsky, wght, area = 0.0, 0, 0.0
    for m in ent.members:
        raw, npix, a = table[m.index].get(other.key, (None, 0, 0.0))
        area += a
        if raw is not None and npix > 0:
            wsky += (raw - m.sky if delta else raw) * npix
            wght += npix
    if wght == 0 or area == 0.0:
        return None, wght, area
    return wsky / wght, wght, area


def _entity_full_sky(ent, full, delta):
    best, wght, area = None, 0, 0.0
    for m in ent.members:
        raw, npix = full[m.index]
        if raw is None:
            continue
        sky = raw - m.sky if delta else raw
        if not ent.is_group:
            return sky, npix, m.area
        if best is None or best > sky:
            best, wght, area = sky, npix, m.area
    return best, wght, area


def solve_sky_deltas(A: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Least-squares relative sky levels from the pairwise overlap statistics.

    ``A[j, i]``: sky of i in its overlap with j; ``W[j, i]`` its pixel count.  Each pair with
    both weights > 0 gives the equation w (d_i - d_j) = w (A[j, i] - A[i, j]) with w the mean
    of the two weights; entities in no valid pair get NaN.
    """
    ns = A.shape[0]
    Wm = 0.5 * (W + W.T)
    rows, rhs, seen = [], [], np.zeros(ns, bool)
    for i in range(ns):
        for j in range(i + 1, ns):
            if W[i, j] > 0 and W[j, i] > 0:
                r = np.zeros(ns)
                r[i], r[j] = Wm[i, j], -Wm[i, j]
                rows.append(r)
                rhs.append(Wm[i, j] * (A[j, i] - A[i, j]))
                seen[i] = seen[j] = True
    K = np.array(rows, float).reshape(len(rows), ns)
    F = np.array(rhs, float)
    try:
        rank = np.linalg.matrix_rank(K, 1.0e-12)
    except np.linalg.LinAlgError:
        log.warning("Unable to compute sky: no valid data in common image areas")
        return np.full(ns, np.nan)
    if rank < ns - 1:
        log.warning("Sky matching: %d unknown sky values but only %d independent equations (rank); "
                    "sky is matched within separate subsets of the images only", ns, rank)
    deltas = np.linalg.pinv(K, rcond=1.0e-12) @ F if K.size else np.zeros(ns)
    deltas[~seen] = np.nan
    return deltas


def match_sky(members, group_keys, open_member, skystat, method="match", match_down=True, subtract=False):
    """Compute sky values in place (``member.sky``, ``member.valid``).

    ``members``: :class:`SkyMember` list (``sky`` = the current level when ``subtract``);
    ``group_keys``: one key per member (equal keys are matched as a group); ``open_member(i,
    offsets)``: context manager yielding ``(data, mask, wcs)`` of member ``i`` with the
    ``offsets`` (a list) subtracted from ``data`` in turn.  Returns the per-member list of sky values
    subtracted from the data (empty unless ``subtract``).
    """
    method = normalize_method(method)
    do_match = "match" in method
    do_global = "global" in method
    order: list = []
    by_key: dict = {}
    for m, k in zip(members, group_keys):
        if k not in by_key:
            by_key[k] = []
            order.append(k)
        by_key[k].append(m)
    entities = [_Entity(k, by_key[k]) for k in order]
    own = {m.index: e.key for e in entities for m in e.members}
    offsets = {m.index: [] for m in members}

    def measure(overlaps: bool, full: bool):
        table, whole = {}, {}
        for m in members:
            with open_member(m.index, offsets[m.index]) as (data, mask, wcs):
                if overlaps:
                    table[m.index] = _member_overlap_stats(m, data, mask, wcs, entities, own[m.index], skystat)
                if full:
                    whole[m.index] = _stat(skystat, data[mask])
        return table, whole

    two_pass = do_match and subtract
    table, whole = measure(overlaps=do_match, full=not two_pass)

    def apply(ent, delta, valid):
        if subtract:
            for m in ent.members:
                offsets[m.index].append(delta)
        ent.add_sky(delta)
        for m in ent.members:
            m.valid = valid

    if do_match:
        ns = len(entities)
        A, W = np.zeros((ns, ns)), np.zeros((ns, ns))
        apply_sky = not subtract
        for i in range(ns):
            for j in range(i + 1, ns):
                s1, w1, a1 = _entity_overlap_sky(entities[i], entities[j], table, apply_sky)
                s2, w2, a2 = _entity_overlap_sky(entities[j], entities[i], table, apply_sky)
                if a1 == 0.0 or a2 == 0.0 or s1 is None or s2 is None:
                    continue
                A[j, i], W[j, i], A[i, j], W[i, j] = s1, w1, s2, w2
        deltas = solve_sky_deltas(A, W)
        good = np.isfinite(deltas)
        if np.any(good):
            deltas[good] -= np.amin(deltas[good]) if match_down else np.amax(deltas[good])
        for ent, d in zip(entities, deltas):
            if np.isfinite(d):
                apply(ent, float(d), True)
            else:
                log.warning("Sky matching: no sky difference for %s (no overlap)", ent.key)
                apply(ent, 0.0, False)
    if do_global or not do_match:
        if two_pass:
            _, whole = measure(overlaps=False, full=True)
        skies = [_entity_full_sky(e, whole, not subtract)[0] for e in entities]
        if do_global:
            valid_skies = [s for s in skies if s is not None]
            minsky = min(valid_skies) if valid_skies else None
            if minsky is None:
                log.warning('Unable to compute a "global" sky value')
            for ent in entities:
                if minsky is None:
                    apply(ent, 0.0, ent.members[0].valid)
                else:
                    apply(ent, minsky, True)
        else:
            for ent, sky in zip(entities, skies):
                if sky is None:
                    log.warning("Unable to compute the sky of %s", ent.key)
                    apply(ent, 0.0, False)
                else:
                    apply(ent, sky, True)
    return [offsets[m.index] for m in members]
