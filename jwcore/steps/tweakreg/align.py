"""Relative and absolute alignment of exposure catalogs (jwst tweakreg's ``align_wcs`` logic).

Everything here works on :class:`Exposure` records -- a source list, the sky positions the
input WCS gives it, the exposure's tangent plane and the correction found so far -- so the
pixel data never has to be in memory.  The correction of an exposure is an affine map
``p -> M p + s`` of its tangent plane (arcsec), exactly what the ``v2v3corr`` frame of the
output WCS applies (:func:`jwcore.steps.tweakreg.tangent.corrected_wcs`): the corrected sky
position of a point the input WCS puts at ``w`` is ``plane^-1(M plane(w) + s)``.

Relative alignment (:func:`align_groups` without a reference catalog): exposures sharing a
``group_id`` (the detectors of one exposure) move together.  With ``enforce_user_order`` (or
without ``expand_refcat``, jwst's default) the first group's catalog is the reference and the
others are aligned to it in input order; otherwise the pair of groups with the largest sky
overlap starts and the next group is always the one overlapping the (expanded) reference
catalog most.  Each group is matched (:mod:`.match`) and fitted (:mod:`.fit`) in the tangent
plane of its first member; the fit is carried to every member's own plane by the linearized
plane-to-plane map.  ``expand_refcat`` adds a group's unmatched sources to the reference.

Absolute alignment (:func:`absolute_align`): all exposures form one group fitted to a
reference catalog of RA/Dec (e.g. a Gaia extract read from a local file).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .fit import MIN_POINTS, FitError, iter_linear_fit
from .match import match_catalogs
from .tangent import TangentPlane, tp_to_tp

log = logging.getLogger("jwcal.step.tweakreg")

__all__ = ["AlignError", "Exposure", "RefCatalog", "MatchParams", "align_groups", "relative_align",
           "absolute_align", "correction_is_small", "polygon_area", "convex_hull", "clip_polygon"]

ABS_GROUP_ID = "987654"


class AlignError(Exception):
    """Alignment cannot be done (too few catalogs, bad parameters): the step records SKIPPED."""


@dataclass
class MatchParams:
    searchrad: float = 2.0
    separation: float = 1.0
    use2dhist: bool = True
    tolerance: float = 0.7
    xoffset: float = 0.0
    yoffset: float = 0.0


@dataclass
class Exposure:
    """One exposure's source list and tangent-plane correction.

    ``ra``, ``dec``: sky positions of the sources through the *input* WCS; ``corners``:
    (ra, dec) of the bounding-box corners through the input WCS; ``plane``: the exposure's
    tangent plane; ``pscale``: arcsec per pixel at the plane's origin; ``base_matrix``,
    ``base_shift``: a correction the input WCS already carries (``v2v3corr``), else identity.
    ``matrix``, ``shift``: the correction found here, on top of the input WCS.
    """

    name: str
    group_id: str
    ids: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    corners: tuple
    plane: TangentPlane
    pscale: float
    base_matrix: np.ndarray = field(default_factory=lambda: np.eye(2))
    base_shift: np.ndarray = field(default_factory=lambda: np.zeros(2))
    matrix: np.ndarray = field(default_factory=lambda: np.eye(2))
    shift: np.ndarray = field(default_factory=lambda: np.zeros(2))
    fit_info: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.fit_info.get("status", "")

    def correct(self, ra, dec):
        """Sky positions of input-WCS positions under the current correction."""
        ra = np.asarray(ra, dtype=float)
        if np.array_equal(self.matrix, np.eye(2)) and not np.any(self.shift):
            return ra, np.asarray(dec, dtype=float)
        xt, yt = self.plane.to_plane(ra, dec)
        p = self.matrix @ np.array([xt.ravel(), yt.ravel()]) + self.shift[:, None]
        r, d = self.plane.to_sky(p[0], p[1])
        return r.reshape(ra.shape), d.reshape(ra.shape)

    def world(self):
        return self.correct(self.ra, self.dec)

    def footprint(self):
        return self.correct(*self.corners)

    def _total(self):
        return self.matrix @ self.base_matrix, self.matrix @ self.base_shift + self.shift

    def to_tp(self, ra, dec):
        """Alignment-plane coordinates (arcsec) of sky positions.

        As tweakwcs defines them for a WCS that already carries a correction ``p -> A p + t``:
        that map applied once more to the gnomonic coordinates (identity before any fit)."""
        a, t = self._total()
        xt, yt = self.plane.to_plane(ra, dec)
        q = a @ np.array([np.ravel(xt), np.ravel(yt)]) + t[:, None]
        return q[0].reshape(np.shape(xt)), q[1].reshape(np.shape(xt))

    def from_tp(self, x, y):
        a, t = self._total()
        g = np.linalg.solve(a, np.array([np.ravel(x), np.ravel(y)]) - t[:, None])
        return self.plane.to_sky(g[0], g[1])

    def apply(self, matrix, shift, fit_on: "Exposure | None" = None):
        """Compose the correction ``p -> matrix p + shift`` found in ``fit_on``'s alignment
        plane (default: this exposure's) with the current one."""
        matrix = np.asarray(matrix, dtype=float)
        shift = np.asarray(shift, dtype=float)
        if fit_on is not None and fit_on is not self:
            r, t = tp_to_tp(fit_on, self, self.pscale)
            rinv = np.linalg.inv(r)
            conj = r @ matrix @ rinv
            matrix, shift = conj, r @ shift - conj @ t + t
        self.matrix = matrix @ self.matrix
        self.shift = matrix @ self.shift + shift

    def reset(self):
        self.matrix = np.eye(2)
        self.shift = np.zeros(2)


class RefCatalog:
    """Reference sources (RA/Dec, deg) that unmatched sources can be added to."""

    def __init__(self, ra, dec, ids=None, name="reference"):
        self.ra = np.asarray(ra, dtype=float).ravel()
        self.dec = np.asarray(dec, dtype=float).ravel()
        self.ids = np.arange(1, self.ra.size + 1) if ids is None else np.asarray(ids).ravel()
        self.name = name

    def __len__(self):
        return self.ra.size

    def expand(self, ra, dec):
        start = int(np.max(self.ids)) + 1 if self.ids.size else 1
        self.ra = np.concatenate([self.ra, np.asarray(ra, float)])
        self.dec = np.concatenate([self.dec, np.asarray(dec, float)])
        self.ids = np.concatenate([self.ids, np.arange(start, start + np.size(ra))])

    def polygon(self, plane: TangentPlane):
        x, y = plane.to_plane(self.ra, self.dec)
        ok = np.isfinite(x) & np.isfinite(y)
        return convex_hull(np.column_stack([x[ok], y[ok]]))


class Group:
    """Exposures that move together (one ``group_id``)."""

    def __init__(self, members: list[Exposure], name: str):
        self.members = members
        self.name = name

    @property
    def lead(self) -> Exposure:
        """The member whose alignment plane the group is matched and fitted in."""
        return self.members[0]

    def catalog(self):
        """(ra, dec, member index, source id) of all members' sources, corrected."""
        ras, decs, owner, ids = [], [], [], []
        for k, m in enumerate(self.members):
            r, d = m.world()
            ras.append(r)
            decs.append(d)
            owner.append(np.full(r.size, k))
            ids.append(np.asarray(m.ids))
        if not ras:
            return (np.array([]),) * 2 + (np.array([], int),) * 2
        return np.concatenate(ras), np.concatenate(decs), np.concatenate(owner), np.concatenate(ids)

    def nsources(self) -> int:
        return int(sum(m.ra.size for m in self.members))

    def polygon(self, plane: TangentPlane):
        """Convex hull of the members' sources as the input WCSs place them (of the footprint
        for a member without sources) -- the region jwst's overlap ordering uses."""
        pts = []
        for m in self.members:
            x, y = plane.to_plane(*((m.ra, m.dec) if m.ra.size else m.corners))
            pts.append(np.column_stack([x, y]))
        pts = np.concatenate(pts)
        return convex_hull(pts[np.all(np.isfinite(pts), axis=1)])

    def set_status(self, status: str):
        for m in self.members:
            m.fit_info = {"status": status}


# -- polygons (overlap areas decide the alignment order when it is not the input order) ------
def _cross(a, b) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise convex hull (monotone chain) of ``(N, 2)`` points."""
    pts = np.unique(np.asarray(points, dtype=float).reshape(-1, 2), axis=0)
    if len(pts) < 3:
        return pts

    def half(seq):
        out = []
        for p in seq:
            while len(out) >= 2 and _cross(out[-1] - out[-2], p - out[-2]) <= 0:
                out.pop()
            out.append(p)
        return out

    lower = half(pts)
    upper = half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def polygon_area(poly: np.ndarray) -> float:
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def clip_polygon(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Intersection of two convex counter-clockwise polygons (Sutherland-Hodgman)."""
    if len(subject) < 3 or len(clip) < 3:
        return np.zeros((0, 2))
    out = [np.asarray(p, float) for p in subject]
    for a, b in zip(clip, np.roll(clip, -1, axis=0)):
        if not out:
            break
        inp, out = out, []
        edge = b - a

        def inside(p):
            return _cross(edge, p - a) >= 0

        for p, q in zip(inp, inp[1:] + inp[:1]):
            pin, qin = inside(p), inside(q)
            if pin:
                out.append(p)
            if pin != qin:
                d = q - p
                den = _cross(edge, d)
                if den != 0:
                    t = _cross(edge, a - p) / den
                    out.append(p + t * d)
    return np.array(out) if out else np.zeros((0, 2))


def _overlap(poly_a, poly_b) -> float:
    return polygon_area(clip_polygon(poly_a, poly_b))


# -- one alignment ---------------------------------------------------------------------------
def _align_group(group: Group, ref: RefCatalog, params: MatchParams, minobj: int, fitgeom: str,
                 nclip: int, sigma: float):
    """Match and fit one group to the reference; returns the unmatched (ra, dec) (corrected)."""
    for m in group.members:
        m.fit_info = {"status": "FAILED: Unknown error"}
    lead = group.lead
    ra, dec, owner, _ = group.catalog()
    gx, gy = lead.to_tp(ra, dec)
    rx, ry = lead.to_tp(ref.ra, ref.dec)
    gvalid = np.flatnonzero(np.isfinite(gx) & np.isfinite(gy))
    rvalid = np.flatnonzero(np.isfinite(rx) & np.isfinite(ry))
    img = np.column_stack([gx, gy])
    refxy = np.column_stack([rx, ry])
    if gvalid.size and rvalid.size:
        ri, ii, offset = match_catalogs(refxy[rvalid], img[gvalid], pscale=lead.pscale,
                                        searchrad=params.searchrad, separation=params.separation,
                                        use2dhist=params.use2dhist, tolerance=params.tolerance,
                                        xoffset=params.xoffset, yoffset=params.yoffset)
        ref_idx, in_idx = rvalid[ri], gvalid[ii]
    else:
        ref_idx = in_idx = np.array([], dtype=int)
    nmatch = len(ref_idx)
    log.info("Found %d matches for '%s'...", nmatch, group.name)
    matched = np.zeros(len(ra), dtype=bool)
    matched[in_idx] = True
    if nmatch < minobj:
        log.warning("Not enough matches (%d) found for image catalog '%s'. Min required: %d.",
                    nmatch, group.name, minobj)
        group.set_status("FAILED: not enough matches")
        return ra[~matched], dec[~matched], False
    try:
        fit = iter_linear_fit(refxy[ref_idx], img[in_idx], fitgeom=fitgeom, nclip=nclip, sigma=sigma)
    except FitError as exc:
        log.warning("Fit failed for '%s': %s", group.name, exc)
        group.set_status(f"FAILED: {exc}")
        return ra[~matched], dec[~matched], False
    if fitgeom == "shift":
        log.info("Computed 'shift' fit for '%s': XSH: %.6g  YSH: %.6g", group.name, *fit["shift"])
    else:
        log.info("Computed '%s' fit for '%s': XSH: %.6g  YSH: %.6g  ROT: %.6g  SCALE: %.6g", fitgeom,
                 group.name, fit["shift"][0], fit["shift"][1], fit["<rot>"], fit["<scale>"])
    log.info("FIT RMSE: %.6g   FIT MAE: %.6g   (%d objects)", fit["rmse"], fit["mae"], int(fit["fitmask"].sum()))
    info = {k: fit[k] for k in ("matrix", "shift", "center", "fitmask", "proper_rot", "proper", "rot",
                                "<rot>", "scale", "<scale>", "skew", "rmse", "mae", "std", "fitgeom")}
    info.update(status="SUCCESS", eff_minobj=minobj, nmatches=nmatch, matched_ref_idx=ref_idx,
                matched_input_idx=in_idx)
    fit_on = _frozen(lead)
    for m in group.members:
        m.apply(fit["matrix"], fit["shift"], fit_on)
        m.fit_info = dict(info)
    ra2, dec2, _, _ = group.catalog()
    return ra2[~matched], dec2[~matched], True


def _frozen(e: Exposure) -> Exposure:
    """A copy of ``e``'s current plane state (the fit's plane must not move while applied)."""
    return Exposure(e.name, e.group_id, e.ids[:0], e.ra[:0], e.dec[:0], e.corners, e.plane, e.pscale,
                    e.base_matrix.copy(), e.base_shift.copy(), e.matrix.copy(), e.shift.copy())


def align_groups(exposures: list[Exposure], refcat: RefCatalog | None = None, *, enforce_user_order=True,
                 expand_refcat=False, minobj=None, params: MatchParams | None = None, fitgeom="rshift",
                 nclip=3, sigma=3.0) -> RefCatalog:
    """Align exposures (grouped by ``group_id``) to each other or to ``refcat``.

    Updates each exposure's correction and ``fit_info`` (``status`` ``SUCCESS``,
    ``REFERENCE`` or ``FAILED: ...``).  Returns the (possibly expanded) reference catalog.
    Raises :class:`AlignError` when there are too few non-empty catalogs.
    """
    params = params or MatchParams()
    if fitgeom not in MIN_POINTS:
        raise ValueError(f"unsupported fitgeometry {fitgeom!r}")
    if minobj is None:
        minobj = MIN_POINTS[fitgeom]
    groups: dict = {}
    order = []
    for e in exposures:
        e.fit_info = {"status": "FAILED: Unknown error"}
        if e.group_id not in groups:
            groups[e.group_id] = []
            order.append(e.group_id)
        groups[e.group_id].append(e)
    glist = []
    for gid in order:
        g = Group(groups[gid], name=f"GROUP ID: {gid}")
        if g.nsources() == 0:
            log.warning("Group with ID '%s' will not be aligned: empty source catalog", gid)
            g.set_status("FAILED: empty source catalog")
            continue
        glist.append(g)
    if (refcat is None and len(glist) < 2) or not glist:
        raise AlignError("Too few input images (or groups of images) with non-empty catalogs.")
    user_order = enforce_user_order or not expand_refcat
    if refcat is None:
        ref_group, current, area = _max_overlap_pair(glist, user_order)
        log.info("Selected image '%s' as reference image", ref_group.name)
        ra, dec, _, ids = ref_group.catalog()
        refcat = RefCatalog(ra, dec, None, name=ref_group.name)
        for m in ref_group.members:
            m.fit_info = {"status": "REFERENCE"}
    else:
        current, area = _max_overlap_image(refcat, glist, user_order)
    while current is not None:
        log.info("Aligning image catalog '%s' to the reference catalog.", current.name)
        ura, udec, ok = _align_group(current, refcat, params, minobj, fitgeom, nclip, sigma)
        if expand_refcat:
            if ok or not area:
                refcat.expand(ura, udec)
                log.info("Added %d unmatched sources from '%s' to the reference catalog.", len(ura), current.name)
            else:
                log.warning("Failed to align catalog %s; it is not added to the expanded reference catalog.",
                            current.name)
        current, area = _max_overlap_image(refcat, glist, user_order)
    return refcat


def _max_overlap_pair(groups: list, user_order: bool):
    if len(groups) == 1:
        return groups.pop(0), None, None
    if len(groups) == 2 or user_order:
        a = groups.pop(0)
        b = groups.pop(0)
        return a, b, _overlap(a.polygon(a.lead.plane), b.polygon(a.lead.plane))
    n = len(groups)
    m = np.zeros((n, n))
    for i in range(n):
        plane = groups[i].lead.plane
        pi = groups[i].polygon(plane)
        for j in range(i + 1, n):
            m[i, j] = m[j, i] = _overlap(pi, groups[j].polygon(plane))
    i, j = np.unravel_index(int(np.argmax(m)), m.shape)
    if m[i].sum() < m[:, j].sum():
        i, j = j, i
    area = m[i, j]
    row = np.delete(m[i], [i, j])
    first, second = groups[i], groups[j]
    rest = [g for k, g in enumerate(groups) if k not in (i, j)]
    rest = [rest[k] for k in np.argsort(row, kind="stable")[::-1]]
    groups[:] = rest
    return first, second, area


def _max_overlap_image(refcat: RefCatalog, groups: list, user_order: bool):
    if not groups:
        return None, None
    if user_order:
        return groups.pop(0), None
    plane = groups[0].lead.plane
    rpoly = refcat.polygon(plane)
    areas = [_overlap(g.polygon(plane), rpoly) for g in groups]
    k = int(np.argmax(areas))
    return groups.pop(k), areas[k]


# -- the two passes tweakreg makes -----------------------------------------------------------
def correction_is_small(exposures: list[Exposure], params: MatchParams) -> bool:
    """False when any exposure's footprint moved by ``2 (searchrad + tolerance)`` arcsec or
    more (``2 (max|offset| + tolerance)`` without ``use2dhist``): a mismatch, not a tweak."""
    if params.use2dhist:
        limit = 2.0 * (params.searchrad + params.tolerance)
    else:
        limit = 2.0 * (max(abs(params.xoffset), abs(params.yoffset)) + params.tolerance)
    for e in exposures:
        r0, d0 = (np.asarray(c, float) for c in e.corners)
        r1, d1 = e.footprint()
        sep = _separation_arcsec(r0, d0, r1, d1)
        if not np.all(sep < limit):
            log.warning("WCS of %s has been tweaked by %.3g arcsec (limit %.3g)", e.name, float(np.nanmax(sep)), limit)
            return False
    return True


def _separation_arcsec(r0, d0, r1, d1):
    r0, d0, r1, d1 = (np.deg2rad(np.asarray(v, float)) for v in (r0, d0, r1, d1))
    sdd = np.sin((d1 - d0) / 2) ** 2
    sdr = np.sin((r1 - r0) / 2) ** 2
    return np.rad2deg(2 * np.arcsin(np.sqrt(sdd + np.cos(d0) * np.cos(d1) * sdr))) * 3600.0


def relative_align(exposures: list[Exposure], *, params: MatchParams, enforce_user_order=False,
                   expand_refcat=False, minobj=15, fitgeom="rshift", nclip=3, sigma=3.0) -> None:
    """Align the exposures to each other.  Raises :class:`AlignError` (and leaves every
    exposure uncorrected) if that cannot be done or the corrections are implausibly large."""
    if params.separation <= np.sqrt(2.0) * params.tolerance:
        raise AlignError("Parameter 'separation' must be larger than 'tolerance' by at least a factor "
                         "of sqrt(2) to avoid source confusion.")
    align_groups(exposures, None, enforce_user_order=enforce_user_order, expand_refcat=expand_refcat,
                 minobj=minobj, params=params, fitgeom=fitgeom, nclip=nclip, sigma=sigma)
    if not correction_is_small(exposures, params):
        for e in exposures:
            e.reset()
            e.fit_info = {"status": "FAILED: correction too large"}
        raise AlignError(f"WCS has been tweaked by more than {10 * params.tolerance} arcsec; "
                         "skipping relative alignment...")


def absolute_align(exposures: list[Exposure], refcat: RefCatalog, *, params: MatchParams, minobj=15,
                   fitgeom="rshift", nclip=3, sigma=3.0) -> None:
    """Align all exposures together (one group) to an absolute reference catalog."""
    if params.separation <= np.sqrt(2.0) * params.tolerance:
        raise AlignError("Parameter 'abs_separation' must be larger than 'abs_tolerance' by at least a "
                         "factor of sqrt(2) to avoid source confusion.")
    if len(refcat) < minobj:
        raise AlignError(f"Not enough sources ({len(refcat)}) in the reference catalog for the "
                         "single-group alignment step to perform a fit. Skipping alignment to the "
                         "input reference catalog!")
    saved = [(e.group_id, e.fit_info) for e in exposures]
    for e in exposures:
        e.group_id = ABS_GROUP_ID
    try:
        align_groups(exposures, refcat, enforce_user_order=True, expand_refcat=False, minobj=minobj,
                     params=params, fitgeom=fitgeom, nclip=nclip, sigma=sigma)
    finally:
        for e, (gid, _) in zip(exposures, saved):
            e.group_id = gid
