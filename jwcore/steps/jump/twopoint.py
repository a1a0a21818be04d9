"""Two-point difference jump detection on ramps (pure numpy).

The algorithm is the one ``jwst`` runs in its jump step (stcal 1.20 ``find_crs``, single
process): the first differences of each pixel's ramp are compared with a median of the
differences, scaled by the expected noise, and the largest outliers are flagged as jumps.

Everything here works on plain arrays; the data are in electrons (DN times gain) and the read
noise is the squared CDS read noise in electrons (``(readnoise * gain) ** 2``, float32), exactly
as the peer computes them.  The arithmetic is arranged so every comparison with a threshold sees
the same floating-point value as the peer's float64 arrays:

* first differences are float32 differences of float32 electrons (held in float32 here, the
  peer holds the same values in float64);
* medians are float64 (the mean of two middle float32 values does not fit in float32);
* in the iterative search the residual ``|diff| - median`` is rounded to float32 before it is
  divided by the float64 sigma, and medians of later iterations are rounded to float32 first.

Work is done on row blocks (memory stays bounded whatever the ramp size) and optionally in
threads.  Only the pixels that still carry a candidate jump take part in later iterations.
Neighbour flagging and after-jump flagging are computed sparsely, at flagged pixels only.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from jwcore import dq

JUMP = np.uint8(dq.JUMP_DET)
SAT = np.uint8(dq.SATURATED)
DNU = np.uint8(dq.DO_NOT_USE)
SAT_OR_DNU = np.uint8(dq.SATURATED | dq.DO_NOT_USE)

# Target number of elements of one (diffs x pixels) block.
_BLOCK_ELEMENTS = 1 << 20
# Up to this many values per pixel are ordered with a comparator network, beyond with np.sort.
_NETWORK_MAX = 40


@dataclass(frozen=True)
class TwoPointConfig:
    """Detection settings, in the peer's internal units (electrons, groups)."""

    rejection_threshold: float = 4.0
    three_group_rejection_threshold: float = 6.0  # used when 2 differences are usable
    four_group_rejection_threshold: float = 5.0  # used when 3 differences are usable
    flag_4_neighbors: bool = True
    max_jump_to_flag_neighbors: float = 1000.0
    min_jump_to_flag_neighbors: float = 10.0
    after_jump_flag_e1: float = 0.0
    after_jump_flag_n1: int = 0
    after_jump_flag_e2: float = 0.0
    after_jump_flag_n2: int = 0
    minimum_groups: int = 3
    minimum_sigclip_groups: int = 100
    only_use_ints: bool = True
    min_diffs_single_pass: int = 10
    nframes: int = 1


# ---------------------------------------------------------------------------------------------
# order statistics along axis 0


def _network(n: int) -> list[tuple[int, int]]:
    """Comparators of Batcher's odd-even merge sort for ``n`` inputs (padding dropped)."""
    pairs = []
    size = 1
    while size < n:
        size *= 2
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    a, b = i + j, i + j + k
                    if (a // (2 * p)) == (b // (2 * p)) and b < n:
                        pairs.append((a, b))
            k //= 2
        p *= 2
    return pairs


_NETWORK_CACHE: dict[int, list[tuple[int, int]]] = {}


def sort_axis0(a: np.ndarray) -> np.ndarray:
    """Sort a (K, P) array along axis 0 with NaN placed last (as +inf); a new array or view.

    Missing values become +inf, so entries at positions >= the number of valid values are
    +inf; order statistics below that count are unaffected (genuine +inf sorts there too).
    """
    k = a.shape[0]
    if k > _NETWORK_MAX:
        # Each pixel's values sorted as one contiguous row of a transposed copy (a strided
        # sort along axis 0 is several times slower); the copy's source rows are padded so
        # that a row length of a multiple of 4 kB does not make the transposition thrash
        # the cache.  Returns a (K, P) view of the sorted (P, K) array.
        p = a.shape[1]
        b = np.empty((k, p + 16), a.dtype)[:, :p]
        np.copyto(b, a)
        b[np.isnan(a)] = np.inf
        t = np.ascontiguousarray(b.T)
        t.sort(axis=1)
        return t.T
    b = np.where(np.isnan(a), np.array(np.inf, a.dtype), a)
    if k <= 1:
        return b
    pairs = _NETWORK_CACHE.get(k)
    if pairs is None:
        pairs = _NETWORK_CACHE[k] = _network(k)
    rows = list(b)
    tmp = np.empty_like(rows[0])
    for i, j in pairs:
        np.minimum(rows[i], rows[j], out=tmp)
        np.maximum(rows[i], rows[j], out=rows[j])
        rows[i], tmp = tmp, rows[i]
    return np.stack(rows)


def _take(s: np.ndarray, idx: np.ndarray, common: int | None = None) -> np.ndarray:
    """``s[idx[p], p]`` for every column ``p``.

    ``common`` is the index most columns use (e.g. the one for a pixel with every value
    valid): those are copied as one row, only the others are gathered.
    """
    if common is None or not 0 <= common < s.shape[0]:
        return np.take_along_axis(s, idx[None, :], axis=0)[0]
    out = s[common].copy()
    odd = np.flatnonzero(idx != common)
    if odd.size:
        out[odd] = s[idx[odd], odd]
    return out


def nan_median(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median over axis 0 ignoring NaN, as float64 (``np.nanmedian``'s value).

    Returns ``(median, nvalid)``.
    """
    k = a.shape[0]
    nvalid = k - np.count_nonzero(np.isnan(a), axis=0)
    s = sort_axis0(a)
    lo = _take(s, np.maximum((nvalid - 1) // 2, 0), (k - 1) // 2).astype(np.float64)
    hi = _take(s, nvalid // 2, k // 2).astype(np.float64)
    med = (lo + hi) * 0.5
    med[nvalid == 0] = np.nan
    return med, nvalid


def clipped_median(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The peer's median of absolute differences with the largest clipped.

    With 4+ valid values every value equal to the maximum is dropped before the median; with
    3 the plain median; with 2 the smaller value; with fewer NaN.  Returns
    ``(median float64, nvalid, sorted values)``.
    """
    k = a.shape[0]
    nan = np.isnan(a)
    nvalid = k - np.count_nonzero(nan, axis=0)
    s = sort_axis0(a)
    mx = _take(s, np.maximum(nvalid - 1, 0), k - 1)
    ties = np.count_nonzero(a == mx[None, :], axis=0)
    m = np.where(nvalid >= 4, nvalid - ties, nvalid)
    # most pixels: all k values valid and one maximum, so m = k - 1 (or k when k < 4)
    mc = k - 1 if k >= 4 else k
    lo = _take(s, np.maximum((m - 1) // 2, 0), (mc - 1) // 2).astype(np.float64)
    hi = _take(s, m // 2, mc // 2).astype(np.float64)
    med = (lo + hi) * 0.5
    two = nvalid == 2
    med[two] = s[0, two]
    med[(m == 0) | (nvalid < 2)] = np.nan
    return med, nvalid, s


def _sigma(med: np.ndarray, rn2_over_nframes: np.ndarray) -> np.ndarray:
    sig = np.sqrt(np.abs(med) + rn2_over_nframes)
    sig[sig == 0.0] = np.nan
    return sig


def _thresholds(nvalid: np.ndarray, cfg: TwoPointConfig) -> np.ndarray:
    thr = np.full(nvalid.shape, np.inf)
    thr[nvalid >= 4] = cfg.rejection_threshold
    thr[nvalid == 3] = cfg.four_group_rejection_threshold
    thr[nvalid == 2] = cfg.three_group_rejection_threshold
    return thr


# ---------------------------------------------------------------------------------------------
# per-block detection


def _electron_diffs(data, gdq, gain, r0, r1):
    """float32 first differences in electrons, NaN where either group is SAT or DNU."""
    d = data[:, :, r0:r1] * gain[r0:r1]
    if d.dtype != np.float32:
        d = d.astype(np.float32)
    np.putmask(d, (gdq[:, :, r0:r1] & SAT_OR_DNU) != 0, np.nan)
    return d[:, 1:] - d[:, :-1]


def _iterative_block(data, gdq, gain, rn2n, cfg, r0, r1):
    """Iterative search (few differences): flag the largest outlier, clip it, repeat."""
    nints, ngroups, _, nx = data.shape
    nd = ngroups - 1
    k = nints * nd
    fd = _electron_diffs(data, gdq, gain, r0, r1)
    p_all = (r1 - r0) * nx
    a = np.abs(fd).reshape(k, p_all)
    del fd
    rn2n_blk = rn2n[r0:r1].reshape(-1)

    med, nvalid, s = clipped_median(a)
    sig = _sigma(med, rn2n_blk)
    thr = _thresholds(nvalid, cfg)
    if nints == 1:
        # |f32(x - med)| is monotone on either side of the median, so the largest residual
        # is reached at the smallest or the largest valid value.
        lo = s[0].astype(np.float64)
        hi = _take(s, np.maximum(nvalid - 1, 0), k - 1).astype(np.float64)
        emax = np.maximum(np.abs((lo - med).astype(np.float32)), np.abs((hi - med).astype(np.float32)))
        cr = (emax / sig > thr)[None, :]
    else:
        e = np.abs((a - med).astype(np.float32)).reshape(nints, nd, p_all)
        emax = np.fmax.reduce(e, axis=1)  # NaN-ignoring max, NaN when all are NaN
        cr = emax / sig > thr
        del e
    del s
    cand = np.flatnonzero(cr.any(axis=0))
    if cand.size == 0:
        return
    sub = a[:, cand].astype(np.float64)
    del a
    rn_sub = rn2n_blk[cand]
    pix = cand
    cr_sub = cr[:, cand]
    med_sub = med[cand]
    sig_sub = sig[cand]
    flagged_k = []
    flagged_p = []
    first = True
    for _ in range(k):
        if not first:
            med_sub, nv, _s = clipped_median(sub)
            med_sub = med_sub.astype(np.float32).astype(np.float64)
            sig_sub = _sigma(med_sub, rn_sub)
        e = np.abs((sub - med_sub).astype(np.float32))
        ratio = e / sig_sub
        r3 = ratio.reshape(nints, nd, -1)
        if not first:
            cr_sub = np.fmax.reduce(r3, axis=1) > _thresholds(nv, cfg)
        gmax = np.fmax.reduce(ratio, axis=0)
        first = False
        new = (r3 == gmax) & cr_sub[:, None, :]
        new = new.reshape(k, -1)
        kk, pp = np.nonzero(new)
        if kk.size == 0:
            break
        flagged_k.append(kk)
        flagged_p.append(pix[pp])
        sub[kk, pp] = np.nan
        keep = np.flatnonzero(new.any(axis=0))
        sub = sub[:, keep]
        rn_sub = rn_sub[keep]
        pix = pix[keep]
    if flagged_k:
        kk = np.concatenate(flagged_k)
        pp = np.concatenate(flagged_p)
        gdq[kk // nd, kk % nd + 1, r0 + pp // nx, pp % nx] |= JUMP


def _single_pass_block(data, gdq, gain, rn2n, cfg, r0, r1):
    """One pass (many differences): every difference far from the median is a jump."""
    nints, ngroups, _, nx = data.shape
    nd = ngroups - 1
    fd = _electron_diffs(data, gdq, gain, r0, r1)
    p_all = (r1 - r0) * nx
    med, _ = nan_median(fd.reshape(nints * nd, p_all))
    sig = _sigma(med, rn2n[r0:r1].reshape(-1)).reshape(r1 - r0, nx)
    med = med.reshape(r1 - r0, nx)
    for i in range(nints):
        for j in range(nd):
            f = fd[i, j].astype(np.float64)
            with np.errstate(invalid="ignore"):
                hit = (np.abs(f - med) / sig > cfg.rejection_threshold) & np.isfinite(f)
            gdq[i, j + 1, r0:r1][hit] |= JUMP


def _sigma_clip_block(data, gdq, gain, rn2n, cfg, r0, r1):
    """Many integrations: sigma-clip each difference against the other integrations."""
    from astropy.stats import sigma_clip

    fd = _electron_diffs(data, gdq, gain, r0, r1).astype(np.float64)
    axis = 0 if cfg.only_use_ints else (0, 1)
    clipped = sigma_clip(fd, sigma=cfg.rejection_threshold, axis=axis, masked=True)
    hit = np.ma.getmaskarray(clipped) & np.isfinite(fd)
    blk = gdq[:, 1:, r0:r1]
    hit &= (blk & SAT_OR_DNU) == 0
    blk |= hit.astype(np.uint8) * JUMP


# ---------------------------------------------------------------------------------------------
# sparse helpers for the post-processing


def flat_nonzero(plane: np.ndarray, bits: int = 0xFF) -> np.ndarray:
    """Sorted flat indices where ``plane & bits`` is non-zero (``plane``: 2-D uint8 or bool).

    Sparse planes are scanned eight bytes at a time.
    """
    a = np.ascontiguousarray(plane).reshape(-1).view(np.uint8)
    n = a.size
    n8 = n - n % 8
    word_mask = np.uint64(int.from_bytes(bytes([bits & 0xFF]) * 8, "little"))
    words = np.flatnonzero(a[:n8].view(np.uint64) & word_mask)
    if words.size * 8 > n // 8:
        return np.flatnonzero(a & np.uint8(bits))
    cand = (words[:, None] * 8 + np.arange(8)).reshape(-1)
    tail = np.arange(n8, n)
    cand = np.concatenate([cand, tail]) if tail.size else cand
    return cand[(a[cand] & np.uint8(bits)) != 0]



def _pixel_stats(data, gdq, gain, rn2n, ys, xs):
    """First differences (float64), signed median and sigma at the given pixels."""
    d = data[:, :, ys, xs] * gain[ys, xs]
    if d.dtype != np.float32:
        d = d.astype(np.float32)
    np.putmask(d, (gdq[:, :, ys, xs] & SAT_OR_DNU) != 0, np.nan)
    fd = (d[:, 1:] - d[:, :-1]).astype(np.float64)  # (nints, nd, U)
    nints, nd, u = fd.shape
    med, _ = nan_median(fd.reshape(nints * nd, u))
    sig = _sigma(med, rn2n[ys, xs])
    return fd, med, sig


def _jump_coords(gdq):
    """(int, group, y, x) of every JUMP flag in groups 1.., gathered plane by plane."""
    nints, ngroups = gdq.shape[:2]
    parts = []
    for i in range(nints):
        for g in range(1, ngroups):
            flat = flat_nonzero(gdq[i, g], JUMP)
            ys, xs = np.divmod(flat, gdq.shape[3])
            if ys.size:
                parts.append((np.full(ys.size, i), np.full(ys.size, g), ys, xs))
    if not parts:
        e = np.zeros(0, dtype=np.intp)
        return e, e, e, e
    return tuple(np.concatenate([p[n] for p in parts]) for n in range(4))


_PIXEL_CHUNK = 1 << 16


def _jump_values(data, gdq, gain, rn2n, ii, gg, ys, xs):
    """For each jump (int ii, group gg, pixel ys/xs): its difference, the pixel's median and sigma.

    Pixels are gathered in chunks so memory stays bounded by the chunk, not the jump count.
    """
    nx = gdq.shape[3]
    upix, inv = np.unique(ys * nx + xs, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(0, upix.size + _PIXEL_CHUNK, _PIXEL_CHUNK))
    diff = np.empty(ii.size)
    med = np.empty(ii.size)
    sig = np.empty(ii.size)
    for c, (j0, j1) in enumerate(zip(bounds[:-1], bounds[1:])):
        if j1 <= j0:
            continue
        p0 = c * _PIXEL_CHUNK
        pix = upix[p0 : p0 + _PIXEL_CHUNK]
        fd, m, sg = _pixel_stats(data, gdq, gain, rn2n, pix // nx, pix % nx)
        sel = order[j0:j1]
        loc = inv[sel] - p0
        diff[sel] = fd[ii[sel], gg[sel] - 1, loc]
        med[sel] = m[loc]
        sig[sel] = sg[loc]
    return diff, med, sig


def _flag_neighbors(data, gdq, gain, rn2n, cfg):
    ii, gg, ys, xs = _jump_coords(gdq)
    if ii.size == 0:
        return
    ny, nx = gdq.shape[2:]
    diff, med, sig = _jump_values(data, gdq, gain, rn2n, ii, gg, ys, xs)
    with np.errstate(invalid="ignore"):
        ratio = np.abs(diff - med) / sig
        sel = (ratio < cfg.max_jump_to_flag_neighbors) & (ratio > cfg.min_jump_to_flag_neighbors)
    if not sel.any():
        return
    ii, gg, ys, xs = ii[sel], gg[sel], ys[sel], xs[sel]
    ti = [ii]
    tg = [gg]
    ty = [ys]
    tx = [xs]
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        yy = ys + dy
        xx = xs + dx
        ok = (yy >= 0) & (yy < ny) & (xx >= 0) & (xx < nx)
        ti.append(ii[ok])
        tg.append(gg[ok])
        ty.append(yy[ok])
        tx.append(xx[ok])
    ti, tg, ty, tx = (np.concatenate(v) for v in (ti, tg, ty, tx))
    vals = gdq[ti, tg, ty, tx]
    ok = (vals & SAT_OR_DNU) == 0
    gdq[ti[ok], tg[ok], ty[ok], tx[ok]] = vals[ok] | JUMP


def _flag_after_jumps(data, gdq, gain, rn2n, cfg):
    """Flag the groups that follow large jumps (transients after a jump)."""
    ii, gg, ys, xs = _jump_coords(gdq)
    if ii.size == 0:
        return
    ngroups = gdq.shape[1]
    diff, med, _ = _jump_values(data, gdq, gain, rn2n, ii, gg, ys, xs)
    ejump = diff - med
    span = np.full(ii.size, -1, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        span = np.where(ejump >= cfg.after_jump_flag_e1, max(cfg.after_jump_flag_n1, 0), span)
        big2 = ejump >= cfg.after_jump_flag_e2
    span = np.where(big2, np.maximum(span, max(cfg.after_jump_flag_n2, 0)), span)
    keep = span >= 0
    ii, gg, ys, xs, span = ii[keep], gg[keep], ys[keep], xs[keep], span[keep]
    # groups g .. min(g + span, ngroups - 1)
    ti, tg, ty, tx = [], [], [], []
    for off in range(int(span.max(initial=-1)) + 1):
        sel = (span >= off) & (gg + off < ngroups)
        ti.append(ii[sel])
        tg.append(gg[sel] + off)
        ty.append(ys[sel])
        tx.append(xs[sel])
    if not ti:
        return
    ti, tg, ty, tx = (np.concatenate(v) for v in (ti, tg, ty, tx))
    vals = gdq[ti, tg, ty, tx]
    ok = (vals & SAT_OR_DNU) == 0
    gdq[ti[ok], tg[ok], ty[ok], tx[ok]] = vals[ok] | JUMP


# ---------------------------------------------------------------------------------------------
# driver


def _row_blocks(ny, per_row, rows=None):
    if rows is None:
        rows = max(1, _BLOCK_ELEMENTS // max(per_row, 1))
    return [(r, min(r + rows, ny)) for r in range(0, ny, rows)]


def choose_path(gdq, cfg: TwoPointConfig) -> str:
    """Which detection branch the peer takes: 'skip', 'sigclip', 'single' or 'iterative'."""
    nints, ngroups = gdq.shape[:2]
    flagged = np.array(
        [[bool(np.all(gdq[i, g] & DNU)) for g in range(ngroups)] for i in range(nints)]
    ).reshape(nints, ngroups)
    per_int = flagged.sum(axis=1)
    max_flagged = int(per_int.max(initial=0))
    total_flagged = int(per_int.sum())
    total_groups = nints * ngroups - total_flagged
    total_sigclip_groups = nints if cfg.only_use_ints else total_groups
    min_usable_groups = ngroups - max_flagged
    min_usable_diffs = min_usable_groups - 1

    if cfg.only_use_ints:
        sigclip_fails = nints < cfg.minimum_sigclip_groups
    else:
        sigclip_fails = total_sigclip_groups < cfg.minimum_sigclip_groups
    noise_fails = min_usable_groups < cfg.minimum_groups
    if sigclip_fails and noise_fails:
        return "skip"
    if cfg.only_use_ints:
        use_sigclip = nints >= cfg.minimum_sigclip_groups
    else:
        use_sigclip = total_groups >= cfg.minimum_sigclip_groups
    if use_sigclip:
        return "sigclip"
    if min_usable_diffs >= cfg.min_diffs_single_pass:
        return "single"
    return "iterative"


def find_crs(data, gdq, gain, rn2, cfg: TwoPointConfig, *, max_workers=1, block_rows=None) -> int:
    """Flag jumps in ``gdq`` (modified in place); return the number of primary jump flags.

    ``data`` is the ramp in DN (float32, 4-D), ``gain`` the gain (e/DN, 2-D), ``rn2`` the
    squared read noise in electrons (float32, 2-D).  Returns -99 when the peer would skip
    detection for lack of usable groups (gdq untouched).
    """
    nints, ngroups, ny, nx = data.shape
    path = choose_path(gdq, cfg)
    if path == "skip":
        return -99
    rn2n = rn2.astype(np.float64) / float(cfg.nframes)
    block = {"iterative": _iterative_block, "single": _single_pass_block, "sigclip": _sigma_clip_block}[path]
    per_row = nints * ngroups * nx
    if path == "sigclip":
        per_row *= 4
    blocks = _row_blocks(ny, per_row, block_rows)

    def run(b):
        block(data, gdq, gain, rn2n, cfg, b[0], b[1])

    # Warning filters are process-wide: set them here, around all the worker threads.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if path == "sigclip":
            from astropy.utils.exceptions import AstropyUserWarning

            warnings.simplefilter("ignore", AstropyUserWarning)
        if max_workers and max_workers > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(max_workers=max_workers) as ex:
                list(ex.map(run, blocks))
        else:
            for b in blocks:
                run(b)

    if path == "sigclip":
        # a group in which every pixel is JUMP or DNU: undo the pixels that are only JUMP
        for i in range(nints):
            for g in range(ngroups):
                plane = gdq[i, g]
                if np.all((plane & (JUMP | DNU)) != 0):
                    plane[plane == JUMP] = 0

    n_primary = sum(int(np.count_nonzero(gdq[i] & JUMP)) for i in range(nints))

    if cfg.flag_4_neighbors:
        _flag_neighbors(data, gdq, gain, rn2n, cfg)
    if cfg.after_jump_flag_n1 > 0 or cfg.after_jump_flag_n2 > 0:
        _flag_after_jumps(data, gdq, gain, rn2n, cfg)
    return n_primary
