"""Large cosmic-ray events: NIR snowballs and MIRI showers (pure numpy/scipy).

Both follow the peer (stcal 1.20 ``flag_large_events`` / ``find_faint_extended``):

* connected regions are 8-connected (labelled sparsely from the set pixels' coordinates,
  numbered in raster order like an image labeller);
* a region's size test uses its area with holes filled;
* each region becomes an "ellipse" ``((x_centroid, y_centroid), (minor - 1, major - 1), angle)``
  where the axis lengths are ``4 * sqrt(eigenvalue)`` of the region's inertia tensor and the
  angle is the region orientation in degrees (the regionprops definitions);
* the expanded ellipses are rasterised with the same rule the peer uses: pixel centres at
  integer offsets from the rounded centre, half-axes rounded to integers, and a pixel is in
  when its normalised distance is strictly below 1, inside the same clipped bounding box.

Region parameters are first computed for all regions at once from coordinate sums; these can
differ from the peer's (an einsum contraction per region) in the last bit.  The last bit does
matter for drawing (a circle's on-axis pixels sit exactly at distance 1, and the orientation
decides on which side), so every ellipse that is drawn, every saturated core that may be
extended and every containment test within 1e-9 of the boundary is recomputed per region with
the peer's own sequence of operations (:meth:`Regions.exact`), which is bit-identical.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import ndimage

from jwcore import dq

from .twopoint import flat_nonzero, nan_median

JUMP = np.uint8(dq.JUMP_DET)
SAT = np.uint8(dq.SATURATED)
DNU = np.uint8(dq.DO_NOT_USE)

_EIGHT = np.ones((3, 3), dtype=bool)


# ---------------------------------------------------------------------------------------------
# regions and their ellipses


class Ellipses:
    """Ellipse parameters of a set of regions, as arrays (one entry per region)."""

    __slots__ = ("cx", "cy", "h", "w", "angle")

    def __init__(self, cx, cy, h, w, angle):
        self.cx = np.asarray(cx, dtype=np.float64)
        self.cy = np.asarray(cy, dtype=np.float64)
        self.h = np.asarray(h, dtype=np.float64)
        self.w = np.asarray(w, dtype=np.float64)
        self.angle = np.asarray(angle, dtype=np.float64)

    def __len__(self):
        return self.cx.size

    def take(self, idx):
        return Ellipses(self.cx[idx], self.cy[idx], self.h[idx], self.w[idx], self.angle[idx])

    def tuples(self):
        """The peer's representation ``((cx, cy), (h, w), angle)`` for each region."""
        return [
            ((float(a), float(b)), (float(c), float(d)), float(e))
            for a, b, c, d, e in zip(self.cx, self.cy, self.h, self.w, self.angle)
        ]

    @staticmethod
    def empty():
        z = np.zeros(0)
        return Ellipses(z, z, z, z, z)


def label_flat(idx: np.ndarray, shape) -> tuple[np.ndarray, int]:
    """8-connected component labels (0..n-1, numbered in raster order) of sorted flat indices."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    m = idx.size
    if m == 0:
        return np.zeros(0, dtype=np.intp), 0
    nx = shape[1]
    col = idx % nx
    src, dst = [], []
    for off, ok_col in ((1, col < nx - 1), (nx - 1, col > 0), (nx, None), (nx + 1, col < nx - 1)):
        tgt = idx + off
        pos = np.minimum(np.searchsorted(idx, tgt), m - 1)
        ok = idx[pos] == tgt
        if ok_col is not None:
            ok &= ok_col
        src.append(np.flatnonzero(ok))
        dst.append(pos[ok])
    src = np.concatenate(src)
    dst = np.concatenate(dst)
    graph = coo_matrix((np.ones(src.size, dtype=np.int8), (src, dst)), shape=(m, m))
    n, lab = connected_components(graph, directed=False)
    # renumber by first pixel in raster order (the numbering of an image labeller)
    first = np.full(n, m, dtype=np.intp)
    np.minimum.at(first, lab, np.arange(m))
    rank = np.empty(n, dtype=np.intp)
    rank[np.argsort(first, kind="stable")] = np.arange(n)
    return rank[lab], n


class Regions(Ellipses):
    """Ellipses of connected regions, with their pixels kept for exact re-computation.

    The vectorised parameters come from coordinate sums and may differ from the peer's
    floating-point contraction in the last bit.  Where the last bit matters (the orientation
    decides which pixels at exactly the rounded radius are drawn), use :meth:`exact`, which
    repeats the peer's arithmetic for the requested regions.
    """

    __slots__ = ("ids", "_ys", "_xs", "_start", "_stop")

    def __init__(self, cx, cy, h, w, angle, ids=None, pixels=None):
        super().__init__(cx, cy, h, w, angle)
        self.ids = np.zeros(0, dtype=np.intp) if ids is None else ids
        if pixels is not None:
            self._ys, self._xs, self._start, self._stop = pixels

    @staticmethod
    def empty():
        z = np.zeros(0)
        return Regions(z, z, z, z, z)

    def region_image(self, t):
        """``(image, row0, col0)``: bounding-box image of region ``t`` and its offset."""
        r = self.ids[t]
        ys = self._ys[self._start[r] : self._stop[r]]
        xs = self._xs[self._start[r] : self._stop[r]]
        y0, x0 = int(ys.min()), int(xs.min())
        img = np.zeros((int(ys.max()) - y0 + 1, int(xs.max()) - x0 + 1), dtype=bool)
        img[ys - y0, xs - x0] = True
        return img, y0, x0

    def exact(self, idx) -> Ellipses:
        idx = np.asarray(idx, dtype=np.intp)
        if idx.size == 0:
            return Ellipses.empty()
        return Ellipses(*zip(*(_exact_region(*self.region_image(t)) for t in idx)))


def _power_table(n, center):
    orders = np.arange(4, dtype=np.float64)
    delta = np.arange(n, dtype=np.float64) * 1.0 - center
    return delta[:, np.newaxis] ** orders


def _exact_region(region, y0, x0):
    """One region's ellipse, with the regionprops arithmetic (einsum contractions)."""
    img = region.astype(np.uint8).astype(np.float64)
    rows, cols = np.nonzero(region)
    n = rows.size
    c_r = float(rows.sum()) / n
    c_c = float(cols.sum()) / n
    # central moments: contract rows first, then columns (same operands as the peer)
    part = np.einsum(img, [2, 1], _power_table(img.shape[0], c_r), [2, 3], [3, 1], optimize="greedy")
    mu = np.einsum(part, [0, 2], _power_table(img.shape[1], c_c), [2, 3], [0, 3], optimize="greedy")
    mu0 = mu[0, 0]
    diag = np.array([mu[2, 0], mu[0, 2]])
    d = (np.sum(diag) - diag) / mu0
    b = -mu[1, 1] / mu0
    tensor = np.array([[d[0], b], [b, d[1]]])
    ev = np.linalg.eigvalsh(tensor)
    ev = sorted(np.clip(ev, 0, None), reverse=True)
    a, c = tensor[0, 0], tensor[1, 1]
    if a - c == 0:
        orient = math.pi / 4.0 if b < 0 else -math.pi / 4.0
    else:
        orient = 0.5 * math.atan2(-2 * b, c - a)
    return (
        float(np.mean(cols + x0)),
        float(np.mean(rows + y0)),
        4 * math.sqrt(ev[1]) - 1,
        4 * math.sqrt(ev[0]) - 1,
        float(np.degrees(orient)),
    )


def find_ellipses(mask: np.ndarray, min_area: float) -> Regions:
    """Ellipses of the 8-connected regions of ``mask`` whose filled area is >= ``min_area``."""
    mask = np.asarray(mask)
    return regions_from_flat(flat_nonzero(mask.astype(bool, copy=False)), mask.shape, min_area)


def regions_from_flat(idx: np.ndarray, shape, min_area: float) -> Regions:
    """:func:`find_ellipses` for a mask given as sorted flat indices of its set pixels."""
    lv, n = label_flat(idx, shape)
    if n == 0:
        return Regions.empty()
    nx = shape[1]
    ys = idx // nx
    xs = idx % nx
    area = np.bincount(lv, minlength=n)
    order = np.argsort(lv, kind="stable")
    stop = np.cumsum(area)
    pixels = (ys[order], xs[order], stop - area, stop)
    keep = area >= min_area
    # A hole needs at least 8 surrounding pixels, so only such small regions can grow by filling.
    check = np.flatnonzero(~keep & (area >= 8))
    if check.size:
        probe = Regions(*(np.zeros(n),) * 5, ids=np.arange(n), pixels=pixels)
        for r in check:
            img = probe.region_image(r)[0]
            if np.count_nonzero(ndimage.binary_fill_holes(img, _EIGHT)) >= min_area:
                keep[r] = True
    if not keep.any():
        return Regions.empty()
    yf = ys.astype(np.float64)
    xf = xs.astype(np.float64)
    sy = np.bincount(lv, weights=yf, minlength=n)
    sx = np.bincount(lv, weights=xf, minlength=n)
    syy = np.bincount(lv, weights=yf * yf, minlength=n)
    sxx = np.bincount(lv, weights=xf * xf, minlength=n)
    sxy = np.bincount(lv, weights=yf * xf, minlength=n)
    ids = np.flatnonzero(keep)
    nn = area[ids].astype(np.float64)
    mu20 = syy[ids] - sy[ids] ** 2 / nn
    mu02 = sxx[ids] - sx[ids] ** 2 / nn
    mu11 = sxy[ids] - sy[ids] * sx[ids] / nn
    tot = mu20 + mu02
    a = (tot - mu20) / nn
    c = (tot - mu02) / nn
    b = -mu11 / nn
    tensors = np.empty((ids.size, 2, 2))
    tensors[:, 0, 0] = a
    tensors[:, 1, 1] = c
    tensors[:, 0, 1] = b
    tensors[:, 1, 0] = b
    ev = np.clip(np.linalg.eigvalsh(tensors), 0, None)
    orient = np.where(
        a - c == 0, np.where(b < 0, math.pi / 4.0, -math.pi / 4.0), 0.5 * np.arctan2(-2 * b, c - a)
    )
    return Regions(
        sx[ids] / nn,
        sy[ids] / nn,
        4 * np.sqrt(ev.min(axis=1)) - 1,
        4 * np.sqrt(ev.max(axis=1)) - 1,
        np.degrees(orient),
        ids=ids,
        pixels=pixels,
    )


# ---------------------------------------------------------------------------------------------
# rasterising


def ellipse_pixels(shape, cx, cy, axis1, axis2, angle_deg):
    """Rows and columns of the filled ellipse the peer draws for one region.

    ``axis1`` is the full length along the region's minor direction (drawn as the column
    half-axis before rotation), ``axis2`` along its major direction.
    """
    nrows, ncols = shape
    col0 = int(round(cx))
    row0 = int(round(cy))
    c_rad = int(round(axis1 / 2))
    r_rad = int(round(axis2 / 2))
    half = max(c_rad, r_rad) + 2
    x1 = max(col0 - half, 0)
    x2 = min(col0 + half + 1, ncols)
    y1 = max(row0 - half, 0)
    y2 = min(row0 + half + 1, nrows)
    empty = (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp))
    if c_rad == 0 or r_rad == 0:
        return empty
    sub_h, sub_w = y2 - y1, x2 - x1
    r = row0 - y1
    c = col0 - x1
    rot = np.radians(angle_deg) % np.pi
    cos_r = np.cos(rot)
    sin_r = np.sin(rot)
    ext_r = abs(r_rad * cos_r) + c_rad * sin_r
    ext_c = r_rad * sin_r + abs(c_rad * cos_r)
    top = max(int(np.ceil(r - ext_r)), 0)
    left = max(int(np.ceil(c - ext_c)), 0)
    bottom = min(int(np.floor(r + ext_r)), sub_h - 1)
    right = min(int(np.floor(c + ext_c)), sub_w - 1)
    if bottom < top or right < left:
        return empty
    dr = (np.arange(0.0, float(bottom - top + 1)) - (r - top))[:, None]
    dc = (np.arange(0.0, float(right - left + 1)) - (c - left))[None, :]
    rot = rot % np.pi
    sin_a = np.sin(rot)
    cos_a = np.cos(rot)
    dist = ((dr * cos_a + dc * sin_a) / np.int64(r_rad)) ** 2 + (
        (dr * sin_a - dc * cos_a) / np.int64(c_rad)
    ) ** 2
    rr, cc = np.nonzero(dist < 1)
    return rr + (top + y1), cc + (left + x1)


def _expanded_axes(h, w, expansion, max_width):
    """Half-axes (integers) of a jump ellipse grown by ``expansion`` along its minor axis."""
    if w < h:
        axis1 = h + (expansion - 1.0) * w
        axis2 = w * expansion
    else:
        axis1 = h * expansion
        axis2 = w + (expansion - 1.0) * h
    axis1 = min(axis1, max_width)
    axis2 = min(axis2, max_width)
    return round(axis1 / 2), round(axis2 / 2)


def draw_jump_ellipses(gdq, intg, grp, ell: Ellipses, expansion, max_width, n_after=0):
    """OR JUMP into the expanded ellipses of ``ell`` (groups grp..grp+n_after, not SAT pixels)."""
    ngroups = gdq.shape[1]
    shape = gdq.shape[2:]
    for t in range(len(ell)):
        a1, a2 = _expanded_axes(float(ell.h[t]), float(ell.w[t]), expansion, max_width)
        rr, cc = ellipse_pixels(shape, ell.cx[t], ell.cy[t], a1 * 2, a2 * 2, ell.angle[t])
        if rr.size == 0:
            continue
        live = np.ones(rr.size, dtype=bool)
        for g in range(grp, min(grp + n_after + 1, ngroups)):
            plane = gdq[intg, g]
            vals = plane[rr, cc]
            # the peer zeroes its stamp where a group is saturated, for this and later groups
            live &= (vals & SAT) != SAT
            plane[rr[live], cc[live]] = vals[live] | JUMP


def _inside(points: Ellipses, ell: Ellipses) -> np.ndarray:
    """(len(ell), len(points)) values of the ellipse equation at each point-region centre.

    A centre is inside when the value is <= 1 (the peer's test, same operation order).
    """
    if len(ell) == 0 or len(points) == 0:
        return np.zeros((len(ell), len(points)))
    ang = [np.radians(180 - a) for a in ell.angle.tolist()]
    cos_a = np.array([np.cos(a) for a in ang])[:, None]
    sin_a = np.array([np.sin(a) for a in ang])[:, None]
    xc = points.cx[None, :] - ell.cx[:, None]
    yc = points.cy[None, :] - ell.cy[:, None]
    xct = xc * cos_a - yc * sin_a
    yct = xc * sin_a + yc * cos_a
    major = np.where(ell.w >= ell.h, ell.w * 0.5, ell.h * 0.5)[:, None]
    minor = np.where(ell.w >= ell.h, ell.h * 0.5, ell.w * 0.5)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        return (xct**2 / major**2) + (yct**2 / minor**2)


def _contains_any(ell: Regions, points: Ellipses) -> np.ndarray:
    """For each region of ``ell``: does it contain the centre of any of ``points``?"""
    if len(ell) == 0 or len(points) == 0:
        return np.zeros(len(ell), dtype=bool)
    rad = _inside(points, ell)
    hit = (rad <= 1).any(axis=1)
    # values within rounding of the boundary are decided with the peer's exact parameters
    close = np.flatnonzero((np.abs(rad - 1) < 1e-9).any(axis=1))
    if close.size:
        hit[close] = (_inside(points, ell.exact(close)) <= 1).any(axis=1)
    return hit


# ---------------------------------------------------------------------------------------------
# snowballs


def flag_snowballs(
    gdq,
    *,
    min_jump_area=5.0,
    min_sat_area=1.0,
    expand_factor=2.0,
    sat_required_snowball=True,
    min_sat_radius_extend=2.5,
    sat_expand=4,
    edge_size=25,
    max_extended_width=400,
    mask_persist_grps_next_int=True,
    persist_grps_flagged=25,
):
    """Grow jump regions with a saturated core into expanded ellipses (in place).

    Parameters are in the peer's internal units: ``sat_expand`` is the number of pixels added
    to the full axes of a saturated core (jwst passes twice its step parameter) and
    ``max_extended_width`` the maximum full axis (twice jwst's ``max_extended_radius``).
    Returns the number of snowballs.
    """
    nints, ngroups, nrows, ncols = gdq.shape
    shape = (nrows, ncols)
    if not gdq.flags.c_contiguous:
        raise ValueError("gdq must be C-contiguous")
    low = edge_size
    high = max(0, nrows - edge_size)
    persist = np.zeros((nints, nrows, ncols), dtype=np.uint8)
    total = 0
    for intg in range(nints):
        next_new_sat = None
        cached = None  # (mask, ellipses) of the last next-group saturation
        for grp in range(1, ngroups):
            flat = gdq[intg, grp].reshape(-1)
            sat_now = flat_nonzero(gdq[intg, grp], SAT)
            new_sat = sat_now[(gdq[intg, grp - 1].reshape(-1)[sat_now] & SAT) == 0]
            if grp < ngroups - 1:
                sat_next = flat_nonzero(gdq[intg, grp + 1], SAT)
                next_new_sat = sat_next[(flat[sat_next] & SAT) == 0]
            if cached is not None and np.array_equal(cached[0], new_sat):
                sat_ell = cached[1]
            else:
                sat_ell = regions_from_flat(new_sat, shape, min_sat_area)
            if grp < ngroups - 1:
                next_ell = regions_from_flat(next_new_sat, shape, min_sat_area)
                cached = (next_new_sat, next_ell)
            else:
                next_ell = Ellipses.empty()
            jump_ell = regions_from_flat(flat_nonzero(gdq[intg, grp], JUMP), shape, min_jump_area)

            if sat_required_snowball:
                edge = (
                    (jump_ell.cx < low) | (jump_ell.cy < low) | (jump_ell.cx > high) | (jump_ell.cy > high)
                )
                hit = edge | _contains_any(jump_ell, sat_ell)
                if grp < ngroups - 1:
                    hit |= _contains_any(jump_ell, next_ell)
                snow = jump_ell.exact(np.flatnonzero(hit))
                # the peer keeps one copy of identical ellipses
                seen = set()
                unique = []
                for t, key in enumerate(snow.tuples()):
                    if key not in seen:
                        seen.add(key)
                        unique.append(t)
                snow = snow.take(np.asarray(unique, dtype=np.intp))
                big = np.flatnonzero(np.minimum(sat_ell.h, sat_ell.w) > min_sat_radius_extend - 1e-6)
                _extend_saturation(
                    gdq,
                    persist,
                    intg,
                    grp,
                    sat_ell.exact(big),
                    min_sat_radius_extend,
                    sat_expand,
                    max_extended_width,
                )
            else:
                snow = jump_ell.exact(np.arange(len(jump_ell)))
            total += len(snow)
            draw_jump_ellipses(gdq, intg, grp, snow, expand_factor, max_extended_width, 0)

    if mask_persist_grps_next_int and persist_grps_flagged >= 1:
        last = min(persist_grps_flagged, ngroups)
        for intg in range(1, nints):
            gdq[intg, 1:last] |= persist[intg - 1][None]
    return total


def _extend_saturation(gdq, persist, intg, grp, sat_ell, min_radius, sat_expand, max_width):
    shape = gdq.shape[2:]
    for t in range(len(sat_ell)):
        h = float(sat_ell.h[t])
        w = float(sat_ell.w[t])
        if min(w, h) <= min_radius:
            continue
        a1 = min(h + sat_expand, max_width)
        a2 = min(w + sat_expand, max_width)
        rr, cc = ellipse_pixels(shape, sat_ell.cx[t], sat_ell.cy[t], a1, a2, sat_ell.angle[t])
        gdq[intg, grp:, rr, cc] = SAT
        rr, cc = ellipse_pixels(shape, sat_ell.cx[t], sat_ell.cy[t], h, w, sat_ell.angle[t])
        persist[intg, rr, cc] = JUMP


# ---------------------------------------------------------------------------------------------
# MIRI showers

_ROWS_PER_BLOCK_ELEMENTS = 1 << 21


def _shower_plane(data, gain, twopoint_gdq, i, g):
    """One group in electrons, NaN where the peer's shower search treats it as invalid."""
    x = data[i, g] * gain
    if x.dtype != np.float32:
        x = x.astype(np.float32)
    if twopoint_gdq is not None:
        np.putmask(x, (twopoint_gdq[i, g] & (SAT | DNU)) != 0, np.nan)
    return x


def _invalid_exact(gdq_plane):
    """The peer's ``nan_invalid_data``: DQ exactly DNU, SAT, JUMP, SAT+DNU or JUMP+DNU."""
    v = gdq_plane
    return (v == 1) | (v == 2) | (v == 3) | (v == 4) | (v == 5)


def _convolve_ignoring_nan(arr, kernel):
    """Normalised convolution that skips NaN pixels (zero padding outside the array)."""
    from scipy import signal

    good = np.isfinite(arr)
    arr = np.where(good, arr, 0).astype(arr.dtype)
    conv = signal.oaconvolve(arr, kernel, mode="same")
    pad_r = kernel.shape[0] // 2
    padded = np.ones((good.shape[0] + kernel.shape[0] - 1, good.shape[1] + kernel.shape[1] - 1))
    padded[pad_r:-pad_r, pad_r:-pad_r] = good
    norm = signal.oaconvolve(padded, kernel, mode="valid")
    good &= norm > 1e-3 * np.mean(kernel)
    conv /= norm
    conv[~good] = np.nan
    return conv


def flag_showers(
    data,
    twopoint_gdq,
    gdq,
    pdq,
    gain,
    rn_e,
    *,
    nframes=1,
    extend_snr_threshold=1.2,
    extend_min_area=90,
    extend_inner_radius=1.0,
    extend_outer_radius=2.6,
    extend_ellipse_expand_ratio=1.1,
    grps_masked_after_shower=5,
    max_extended_width=400,
    max_shower_amplitude=6.0,
    minimum_sigclip_groups=100,
    min_diffs_for_shower=10,
):
    """Flag faint extended emission (MIRI showers); returns ``(new gdq, number of showers)``.

    ``data`` is the ramp in DN, ``twopoint_gdq`` the group DQ the two-point step masked the
    data with (None when that step was skipped), ``gdq`` the current group DQ (not modified),
    ``rn_e`` the read noise in electrons.  ``max_shower_amplitude`` is the peer's limit on the
    change of a pixel's mean difference (electrons per group) that shower flagging may cause.
    """
    from astropy.convolution import Ring2DKernel

    nints, ngroups, ny, nx = data.shape
    nd = ngroups - 1
    n_dnu = sum(bool(np.all(gdq[i, g] & DNU)) for i in range(nints) for g in range(ngroups))
    if nints * nd - n_dnu < min_diffs_for_shower:
        return gdq, 0

    work = gdq.copy()
    refy, refx = np.nonzero(pdq == np.uint32(dq.REFERENCE_PIXEL))

    def plane(i, g):
        x = _shower_plane(data, gain, twopoint_gdq, i, g)
        x[_invalid_exact(gdq[i, g])] = np.nan
        return x

    rn2 = rn_e**2
    sigclip = nints >= minimum_sigclip_groups
    rows = max(1, _ROWS_PER_BLOCK_ELEMENTS // max(nints * ngroups * nx, 1))
    if sigclip:
        from astropy.stats import sigma_clipped_stats

        med = std = None
    else:
        med = np.empty((ny, nx), dtype=np.float32)
    for r0 in range(0, ny, rows):
        r1 = min(r0 + rows, ny)
        x = data[:, :, r0:r1] * gain[r0:r1]
        if x.dtype != np.float32:
            x = x.astype(np.float32)
        if twopoint_gdq is not None:
            np.putmask(x, (twopoint_gdq[:, :, r0:r1] & (SAT | DNU)) != 0, np.nan)
        x[_invalid_exact(gdq[:, :, r0:r1])] = np.nan
        fd = x[:, 1:] - x[:, :-1]
        if sigclip:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, m, sd = sigma_clipped_stats(fd, sigma=5, axis=0)
            if med is None:
                med = np.empty((nd, ny, nx), dtype=np.asarray(m).dtype)
                std = np.empty((nd, ny, nx), dtype=np.asarray(sd).dtype)
            med[:, r0:r1] = m
            std[:, r0:r1] = sd
        else:
            m, _ = nan_median(fd.reshape(nints * nd, -1))
            med[r0:r1] = m.astype(np.float32).reshape(r1 - r0, nx)
    if not sigclip:
        sigma = np.sqrt(np.abs(med) + rn2 / nframes)

    work[:, :, refy, refx] = DNU
    kernel = Ring2DKernel(extend_inner_radius, extend_outer_radius).array
    mask_bits = np.uint32(dq.JUMP_DET | dq.SATURATED | dq.DO_NOT_USE)
    found = []
    for i in range(nints):
        first_good = 0
        for g in range(ngroups):
            if not np.all(work[i, g] & DNU):
                first_good = g
                break
        prev = plane(i, first_good) if first_good < ngroups else None
        for g in range(first_good + 1, ngroups):
            cur = plane(i, g)
            fd = cur - prev
            prev = cur
            if sigclip:
                with np.errstate(invalid="ignore", divide="ignore"):
                    ratio = np.abs(fd - med[g - 1]) / std[g - 1]
            else:
                ratio = np.abs(fd - med) / sigma
            ratio = np.array(ratio, copy=True)
            bad = ((work[i, g].astype(np.uint32) | pdq) & mask_bits) != 0
            ratio[bad] = np.nan
            with np.errstate(invalid="ignore", divide="ignore"):
                smooth = _convolve_ignoring_nan(ratio, kernel)
                emission = smooth > extend_snr_threshold
            regions = find_ellipses(emission, extend_min_area)
            if len(regions):
                found.append((i, g, regions.exact(np.arange(len(regions)))))

    total = 0
    for i, g, ell in found:
        total += len(ell)
        draw_jump_ellipses(work, i, g, ell, extend_ellipse_expand_ratio, max_extended_width, grps_masked_after_shower)

    # keep the flags only where they change the pixel's mean difference by a plausible amount
    invalid = np.uint8(dq.DO_NOT_USE | dq.SATURATED | dq.JUMP_DET)
    for i in range(nints):
        for r0 in range(0, ny, rows):
            r1 = min(r0 + rows, ny)
            x = data[i, :, r0:r1] * gain[r0:r1]
            if x.dtype != np.float32:
                x = x.astype(np.float32)
            if twopoint_gdq is not None:
                np.putmask(x, (twopoint_gdq[i, :, r0:r1] & (SAT | DNU)) != 0, np.nan)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                t1 = np.where((gdq[i, :, r0:r1] & invalid) != 0, np.float32(np.nan), x)
                rate1 = np.nanmean(np.diff(t1, axis=0), axis=0)
                t2 = np.where((work[i, :, r0:r1] & invalid) != 0, np.float32(np.nan), x)
                rate2 = np.nanmean(np.diff(t2, axis=0), axis=0)
            change = np.abs(rate1 - rate2)
            with np.errstate(invalid="ignore"):
                revert = ~np.isfinite(change) | (change > max_shower_amplitude)
            yy, xx = np.nonzero(revert)
            work[i, :, r0 + yy, xx] = gdq[i, :, r0 + yy, xx]
    return work, total
