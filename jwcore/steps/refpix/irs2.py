"""NIRSpec IRS2 reference-pixel correction, matching ``jwst`` 3.0.0 ``refpix`` for IRS2 data.

Readout layout
--------------
An IRS2 ramp (readout patterns NRSIRS2 and NRSIRS2RAPID) is 3200 x 2048 in DMS orientation
(``(nints, ngroups, 3200, 2048)``).  In the *detector* frame (NRS1: the DMS array
transposed; NRS2: transposed and flipped on both axes) a row of 3200 samples holds five
outputs of 640 samples each: first the reference output (no light-sensitive pixels), then
the four amplifiers.  Within an amplifier, every ``nrs_normal`` (NRS_NORM, 16) normal
samples are followed by ``nrs_reference`` (NRS_REF, 4) interleaved reference samples,
starting half a block in (8 normal samples, 4 reference, 16 normal, 4 reference, ...,
8 normal), which gives 32 groups of reference samples per amplifier.  The interleaved
reference samples come in two pairs ("odd" and "even" reference pixels, each read twice).
Dropping the reference output and the interleaved samples leaves the 2048 x 2048 image.
:func:`irs2_normal_mask` is the boolean mask of the normal samples (in readout order).

The correction (what ``jwst``'s ``RefPixStep`` does, in this order)
-------------------------------------------------------------------
1. :func:`flag_bad_refpix` (``ovr_corr_mitigation_ftr`` = ``n_sigma``): in DMS orientation,
   for every output (the reference output included), every integration and every pair of
   interleaved reference rows, the mean absolute difference of the two reads, their mean
   and their standard deviation over all groups and columns.  Pairs not yet flagged
   (BAD_REF_PIXEL anywhere in the row) enter sigma-clipped statistics (astropy's
   ``sigma_clipped_stats``, clipping at ``n_sigma``); a pair whose difference, mean or
   spread is more than ``n_sigma`` standard deviations above the clipped mean is flagged.
   The flagged rows (and the rows flagged beforehand) get BAD_REF_PIXEL | DO_NOT_USE over
   the whole row of PIXELDQ.
2. Optionally (``irs2_mean_subtraction``) :func:`mean_subtract_irs2`: the near-IR top/bottom
   reference-row correction, in the detector frame, over five 640-column sections (the
   reference output is a section too), with the odd/even split following the IRS2 column
   parity (interleaved pairs: first pair odd, second pair even); never the side correction.
3. :func:`replace_bad_refpix`: every row flagged BAD_REF_PIXEL gets the average of the rows
   one reference period (``nrs_normal + nrs_reference``) below and above it, or the one of
   them that exists and is not flagged, or else the neighbouring reference row of the other
   pair (two rows away), or else 0 (then filled by the interpolation below).
4. :func:`correct_irs2` with the REFPIX reference (an IRS2 table of complex ``alpha`` and
   ``beta`` coefficients per amplifier, length 2048 x 712, and an optional DQ table):

   a. interleaved reference columns that the reference's DQ table marks as bad (and that
      are not yet flagged) are replaced as in step 3 (in the detector frame);
   b. per integration, the mean over groups of every sample (float64) is subtracted;
   c. per group, each output is laid out in time order, 712 samples per row (512 normal
      samples, 128 reference samples, 2 idle samples per jump to the reference pixels
      and 8 at the end of a row), the outputs read in the opposite direction being flipped;
   d. a straight line in time, fitted to the non-zero samples of the four first and last
      rows, is subtracted from every non-zero sample of each output;
   e. the gaps of the reference output are filled by a sine-weighted interpolation, and
      then everything but its normal-position samples is replaced by three iterations of
      a low-pass Fourier filter;
   f. for each amplifier, a time line that is zero except around each group of reference
      samples, where the four samples fill eight positions (the group and one idle sample
      on each side) in the order 1, 3, 1, 3, 2, 4, 2, 4 (the two reads of the odd and of
      the even reference pixel), and
      ``ifft(fft(that) * beta + fft(reference output) * alpha)`` (both FFTs normalised by
      the length) is subtracted from the amplifier's samples;
   g. the normal samples (``preserve_refpix=False``: 2048 columns) or all samples
      (``preserve_refpix=True``: 3200 columns, the reference output included) are put
      back in place, and the group mean of step b is added back to the normal samples
      and the reference output (not to the interleaved reference samples).

   The FFTs are numpy's, in single precision (complex64) as ``jwst`` calls them, on the
   same 1458176-long time lines, so the results are the same to the last bit.

``preserve_refpix=False`` (the default of the step) returns a 2048 x 2048 ramp and the
caller strips the interleaved rows from PIXELDQ and GROUPDQ too (:func:`strip_irs2_rows`);
``True`` keeps the 3200-row layout (used to make IRS2 bias references).

Everything is vectorised with numpy, except loops over the 320 reference-row pairs of an
integration (statistics, each over all groups and columns, one pair at a time so that the
float32 sums are jwst's) and over the rows to replace.  The groups of an integration are
corrected independently (the only cross-group quantity, the mean over groups, is computed
first), one group per worker thread.  Memory besides the input ramp: the 2048-row output
(or none: with ``preserve_refpix`` the input is overwritten), the coefficients (93 MB), per
integration the float64 group mean (52 MB + 33 MB for its normal columns), and about
120 MB per worker.  ``jwst`` holds several copies of a whole integration instead.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from jwcore import dq
from jwcore.steps.refpix._clip import clipped_mean
from jwcore.steps.refpix.nir import dms_to_detector

__all__ = [
    "IRS2_TABLE_LENGTH",
    "irs2_normal_mask",
    "irs2_odd_mask",
    "irs2_dms_rows",
    "irs2_coefficients",
    "flag_bad_refpix",
    "replace_bad_refpix",
    "mean_subtract_irs2",
    "clobber_bad_refpix",
    "correct_irs2",
    "strip_irs2_rows",
]

#: Number of rows (real and imaginary parts interleaved) of each column of the REFPIX table.
IRS2_TABLE_LENGTH = 2 * 712 * 2048

_BAD_REF = np.uint32(dq.BAD_REF_PIXEL)
_DNU = np.uint32(dq.DO_NOT_USE)
_NORMAL_PER_OUTPUT = 512
_NREF = 4  # top/bottom reference rows (detector frame)


# --------------------------------------------------------------------------- geometry
def irs2_normal_mask(length: int = 3200, ny: int = 2048, nrs_normal: int = 16, nrs_reference: int = 4):
    """Boolean mask (``max(length, ny)`` long) of the normal samples of an IRS2 row.

    In readout order (detector frame; DMS rows for NRS1, reversed for NRS2).  False for the
    reference output (the first fifth) and for the interleaved reference samples.
    """
    n, r = int(nrs_normal), int(nrs_reference)
    size = max(int(length), int(ny))
    refout = size // 5
    period = n + r
    part = refout - (n // 2 + r)
    tail = part - (part // period) * period

    def pattern(m):
        pos = np.arange(m) - n // 2
        return ~((pos >= 0) & (pos % period < r))

    mask = np.ones(size, dtype=bool)
    mask[:refout] = False
    if tail == n // 2:
        mask[refout:] = pattern(size - refout)
    else:
        one = pattern(refout)
        for q in range(4):
            j = refout * (q + 1)
            mask[j : j + refout] = one if q % 2 == 0 else one[::-1]
    return mask


def irs2_odd_mask(length: int = 3200, ny: int = 2048, nrs_normal: int = 16, nrs_reference: int = 4):
    """Boolean mask of the "odd" detector columns of IRS2 data (the rest are "even").

    Normal samples alternate odd/even from the first column; of each group of interleaved
    reference samples the first pair is odd and the second pair even.  The reference
    output follows the pattern of the first amplifier.
    """
    length = int(length)
    ref = ~irs2_normal_mask(length, ny, nrs_normal, nrs_reference)
    sector = length // 5
    ref[:sector] = ref[sector : 2 * sector]
    k = np.arange(ref.size) % 4
    odd = np.arange(ref.size) % 2 == 0
    odd[ref & (k >= 2)] = False
    odd[ref & (k < 2)] = True
    return odd


def irs2_dms_rows(fastaxis: int, length: int = 3200, nrs_normal: int = 16, nrs_reference: int = 4):
    """Mask of the normal rows of IRS2 data in DMS orientation.

    IRS2 data are read with the fast axis along the DMS rows (``|FASTAXIS| = 2``); a negative
    FASTAXIS (NIRSpec NRS2) reverses them.
    """
    mask = irs2_normal_mask(length, 2048, nrs_normal, nrs_reference)
    return mask[::-1].copy() if int(fastaxis) < 0 else mask


def _to_detector(a, fastaxis: int, slowaxis: int):
    """View of ``a`` (..., 3200, 2048) in the detector frame (..., 2048, 3200), from the
    readout directions (NRS1: FASTAXIS 2, SLOWAXIS 1 -> transposed; NRS2: -2, -1 -> transposed
    and reversed), which is how jwst orients NRS1/NRS2 IRS2 data."""
    return dms_to_detector(a, int(fastaxis), int(slowaxis))


def irs2_coefficients(columns) -> tuple[np.ndarray, np.ndarray]:
    """``(alpha, beta)``, complex64 arrays (4, N/2) from the REFPIX table columns.

    ``columns`` maps ``alpha_0..3`` and ``beta_0..3`` to 1-D float arrays of length N that
    hold real and imaginary parts alternately.
    """
    def one(name):
        col = np.asarray(columns[name])
        return col[0:-1:2] + 1j * col[1 : len(col) : 2]   # (complex64 for float32 columns)

    first = np.asarray(columns["alpha_0"])
    alpha = np.ones((4, len(first) // 2), dtype=np.complex64)
    beta = np.zeros((4, len(first) // 2), dtype=np.complex64)
    for k in range(4):
        alpha[k] = one(f"alpha_{k}")
        beta[k] = one(f"beta_{k}")
    return alpha, beta


# ----------------------------------------------------------------- bad reference rows
def _pair_rows(nrows, nrs_normal, nrs_reference):
    """First rows of the interleaved reference pairs, per output: list of 5 int arrays."""
    sector = nrows // 5
    period = nrs_normal + nrs_reference
    starts = np.arange(nrs_normal // 2, sector, period)
    within = np.arange(0, nrs_reference, 2)
    local = (starts[:, None] + within[None, :]).ravel()
    return [k * sector + local for k in range(5)]


def flag_bad_refpix(data, pixeldq, *, nrs_normal: int = 16, nrs_reference: int = 4, n_sigma: float = 3.0):
    """Flag suspicious interleaved reference rows (``jwst``'s ``flag_bad_refpix`` with
    ``flag_only=True``); PIXELDQ is updated in place, the data are not changed.

    ``data``: (nints, ngroups, 3200, ncols) DMS orientation; ``pixeldq``: (3200, ncols).
    Returns the boolean mask (3200,) of the flagged rows (including those flagged before).
    """
    from astropy.stats import sigma_clipped_stats

    nints = data.shape[0]
    nrows = data.shape[-2]
    bad = np.any(pixeldq & _BAD_REF, axis=1)
    initial = bad.copy()
    for rows in _pair_rows(nrows, nrs_normal, nrs_reference):
        for j in range(nints):
            cube = data[j]
            flagged = initial.copy()
            use = [ri for ri in rows if not (flagged[ri] or flagged[ri + 1])]
            if use:   # (no usable pair: nothing is flagged, as the statistics are NaN)
                # one pair at a time, so that every reduction has jwst's summation order
                diffs = np.array([np.mean(np.abs(cube[:, ri + 1, :] - cube[:, ri, :])) for ri in use])
                means = np.array([np.mean(cube[:, ri : ri + 2, :]) for ri in use])
                stds = np.array([np.std(cube[:, ri : ri + 2, :]) for ri in use])
                first = np.array(use, dtype=int)
                for values in (diffs, means, stds):
                    centre, _, spread = sigma_clipped_stats(values, sigma=n_sigma)
                    high = (values - centre) > (n_sigma * spread)
                    flagged[first[high]] = True
                    flagged[first[high] + 1] = True
            bad |= flagged
    pixeldq[bad] |= _BAD_REF | _DNU
    return bad


def _replace_rows(data, rows, bad, is_ref, lo, hi, period):
    """Replace ``rows`` (axis -2 of ``data``) with values from good reference rows.

    Sources (``bad`` False) are taken one ``period`` below and above (averaged when both
    exist), else the neighbouring pair two rows away (first below, then above, when it is
    an interleaved reference row), else 0.  Rows are limited to ``[lo, hi)``.
    """
    for row in rows:
        low, high = row - period, row + period
        v1 = data[..., low, :] if low >= lo and not bad[low] else None
        v2 = data[..., high, :] if high < hi and not bad[high] else None
        if v1 is not None and v2 is not None:
            value = np.mean([v1, v2], axis=0)
        elif v1 is not None or v2 is not None:
            value = v1 if v1 is not None else v2
        else:
            value = 0.0
            if row - 2 >= lo and is_ref[row - 2] and not bad[row - 2]:
                value = data[..., row - 2, :]
            elif row + 2 < hi and is_ref[row + 2] and not bad[row + 2]:
                value = data[..., row + 2, :]
        data[..., row, :] = value


def replace_bad_refpix(data, pixeldq, *, nrs_normal: int = 16, nrs_reference: int = 4) -> int:
    """Replace the rows flagged BAD_REF_PIXEL (anywhere in the row of ``pixeldq``) in place
    (``jwst``'s ``flag_bad_refpix`` with ``replace_only=True``).  Returns their number."""
    nrows = data.shape[-2]
    sector = nrows // 5
    bad = np.any(pixeldq & _BAD_REF, axis=1)
    is_ref = np.zeros(nrows, dtype=bool)
    for rows in _pair_rows(nrows, nrs_normal, nrs_reference):
        is_ref[rows] = True
        is_ref[rows + 1] = True
    period = nrs_normal + nrs_reference
    for k in range(5):
        lo, hi = k * sector, (k + 1) * sector
        rows = lo + np.flatnonzero(bad[lo:hi])
        _replace_rows(data, rows, bad, is_ref, lo, hi, period)
    return int(bad.sum())


def clobber_bad_refpix(data, pixeldq, output, odd_even, mask, *, fastaxis, slowaxis, nrs_normal: int = 16,
                       nrs_reference: int = 4):
    """Replace the interleaved reference samples that the REFPIX DQ table marks bad, in place
    (``jwst``'s ``clobber_ref``; each table row handled in turn, samples already flagged
    BAD_REF_PIXEL in ``pixeldq`` are left as they are).

    ``output`` (1-4), ``odd_even`` (1 or 2) and ``mask`` (32 bits, one per reference group,
    counted in detector column order) are the columns of the table.
    """
    det = np.swapaxes(_to_detector(data, fastaxis, slowaxis), -2, -1)   # detector columns on axis -2
    pdq_det = _to_detector(pixeldq, fastaxis, slowaxis)
    ncols = det.shape[-2]
    sector = ncols // 5
    flags = np.any(pdq_det & _BAD_REF, axis=0)
    is_ref = ~irs2_normal_mask(ncols, det.shape[-1], nrs_normal, nrs_reference)
    is_ref[:sector] = is_ref[2 * sector : 3 * sector]
    period = nrs_normal + nrs_reference
    bits = np.arange(32, dtype=np.int64)
    for out, oe, m in zip(np.asarray(output).astype(np.int64), np.asarray(odd_even).astype(np.int64),
                          np.asarray(mask).astype(np.uint64)):
        if not 1 <= out <= 4:
            raise ValueError(f"IRS2 DQ table: output {out} is not 1-4")
        offset = int(out) * sector
        pair = 3 - oe if out % 2 == 0 else oe
        groups = bits[((int(m) >> bits) & 1) == 1]
        new = []
        for g in groups:
            first = offset + nrs_normal // 2 + int(g) * period + 2 * (int(pair) - 1)
            for col in (first, first + 1):
                if not flags[col]:
                    new.append(col)
                    flags[col] = True
        _replace_rows(det, new, flags, is_ref, offset, offset + sector, period)


# -------------------------------------------------------------- IRS2 mean subtraction
def mean_subtract_irs2(data, pixeldq, *, fastaxis: int, slowaxis: int, nrs_normal: int = 16,
                       nrs_reference: int = 4, odd_even_columns: bool = True, siglimit: float = 3.0,
                       max_workers: int | None = 2):
    """Top/bottom reference-row correction of IRS2 data in place (``irs2_mean_subtraction``).

    ``jwst``'s near-IR correction without side pixels, on five sections of the detector frame
    (the reference output included), 640 columns each: for each section the sigma-clipped
    means (``siglimit``) of the usable (not DO_NOT_USE) top and bottom reference rows,
    separately for odd and even columns (:func:`irs2_odd_mask`) if ``odd_even_columns``,
    are averaged and subtracted from the section.  All in float32 as ``jwst``.
    """
    ncols = data.shape[-2]          # 3200 (detector columns)
    nrows = data.shape[-1]          # 2048 (detector rows)
    sector = ncols // 5
    odd = irs2_odd_mask(ncols, nrows, nrs_normal, nrs_reference)
    pdq = dms_to_detector(np.asarray(pixeldq), fastaxis, slowaxis)
    det = dms_to_detector(data, fastaxis, slowaxis)
    edges = {"bottom": slice(0, _NREF), "top": slice(nrows - _NREF, nrows)}

    plan = []   # per section: (column index arrays, [(top idx, bottom idx)] per column group)
    for k in range(5):
        cols = np.arange(k * sector, (k + 1) * sector)
        groups = [cols[odd[cols]], cols[~odd[cols]]] if odd_even_columns else [cols]
        sel = []
        for g in groups:
            per_edge = []
            for name in ("top", "bottom"):
                good = (pdq[edges[name]][:, g] & _DNU) == 0
                per_edge.append(good)
            sel.append((g, per_edge))
        plan.append(sel)

    def correct(plane):
        results = []
        for sel in plan:
            refs = []
            for g, (good_top, good_bottom) in sel:
                t = clipped_mean(plane[edges["top"]][:, g][good_top], siglimit)
                b = clipped_mean(plane[edges["bottom"]][:, g][good_bottom], siglimit)
                if t is None:
                    refs.append(b)
                elif b is None:
                    refs.append(t)
                else:
                    refs.append(0.5 * (t + b))
            results.append(refs)
        for sel, refs in zip(plan, results):
            if any(r is None for r in refs):
                continue
            for (g, _), ref in zip(sel, refs):
                plane[:, g] -= ref

    planes = [det[i, j] for i in range(det.shape[0]) for j in range(det.shape[1])]
    workers = min(max_workers or 1, len(planes)) if planes else 1
    if workers <= 1:
        for p in planes:
            correct(p)
    else:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            list(ex.map(correct, planes))


# ------------------------------------------------------------------- main correction
class _Plan:
    """Index bookkeeping and filters of the time-ordered IRS2 correction."""

    def __init__(self, ny, nx, n, r, pad, preserve):
        self.ny, self.nx, self.n, self.r, self.pad = ny, nx, n, r, pad
        self.sector = nx // 5
        self.row = (n + r + 2) * _NORMAL_PER_OUTPUT // n + pad           # 712
        self.preserve = preserve
        i_n = np.arange(_NORMAL_PER_OUTPUT, dtype=np.intp)
        i_r = np.arange(_NORMAL_PER_OUTPUT // n * r, dtype=np.intp)
        # columns (within an output) of the normal and reference samples, and their
        # positions on the time line (2 idle samples per jump to the reference samples)
        self.hnorm = i_n + r * ((i_n + n // 2) // n)
        self.href = i_r + n * (i_r // r) + n // 2
        self.hnorm1 = i_n + (r + 2) * ((i_n + n // 2) // n)
        self.href1 = i_r + (n + 2) * (i_r // r) + n // 2 + 1
        self.unpad = np.sort(np.concatenate([self.hnorm1, self.href1]))
        self.keep = self.unpad if preserve else self.hnorm1
        # reference samples on the amplifiers' time lines: target positions ``ht`` (each
        # group of reference samples widened by one idle sample on each side) and their
        # sources ``hs`` (the group's samples in the order 1, 3, 1, 3, 2, 4, 2, 4 for r=4)
        nblk, width = _NORMAL_PER_OUTPUT // n, n + r + 2
        grid = np.arange(nblk * width, dtype=np.int64).reshape(nblk, width)
        lo, hi = (n - r) // 2 + 1, n // 2 + 1 + 3 * r // 2
        ht = grid.copy()
        ht[:, :lo] = -1
        ht[:, hi:] = -1
        hs = ht.copy()
        pairs = np.arange(r, dtype=np.intp).reshape(2, r // 2).T
        order = np.concatenate([pairs, pairs], axis=1).ravel() + n // 2 + 1
        hs[:, n // 2 + 1 - r // 2 : n // 2 + 1 + r // 2 + r] = hs[:, order]
        self.ht = ht[ht >= 0]
        hs = hs[hs >= 0]
        if r % 4 == 2:
            hs = hs.reshape(-1, 2)[:, ::-1].ravel()
        self.hs = hs
        # time of every sample, centred (float32 as jwst)
        t = np.arange(ny * self.row, dtype=np.float32).reshape(ny, self.row)
        t -= t.mean(dtype=np.float64)
        self.time = t
        self.edge_rows = np.concatenate([np.arange(4), np.arange(ny - 4, ny)]).astype(np.intp)
        # sine weights of the gap interpolation
        self.sine = np.sin(np.arange(1, 32, dtype=np.float32) / 32.0 * np.pi)
        # low-pass filter of the reference output: 1, cosine roll-off, 0, roll-off, 1
        length = ny * self.row
        elen = 110000 // (n + r + 2)
        blen = (_NORMAL_PER_OUTPUT + _NORMAL_PER_OUTPUT // n * (r + 2) + pad) // (n + r + 2) * ny // 2 - elen // 2
        roll = (np.cos(np.arange(elen, dtype=np.float64) * np.pi / float(elen)) + 1.0) / 2.0
        half = np.concatenate([np.ones(blen), roll, np.zeros(length // 2 - 2 * blen - 2 * elen), roll[::-1],
                               np.ones(blen)])
        self.lowpass = np.concatenate([half, np.roll(half, -1)[::-1]])
        normal = np.zeros((ny, self.row), dtype=bool)
        normal[:, self.hnorm1] = True
        self.normal_flat = normal.ravel()
        self.norm = float(ny * self.row)


def _remove_slope(line, plan):
    """Subtract the straight line (in time) fitted to the non-zero samples of the first and
    last four rows from every non-zero sample of one output's time lines, in place."""
    edge = line[plan.edge_rows]
    use = edge != 0.0
    y = edge[use]
    x = plan.time[plan.edge_rows][use]
    if x.size < 1:
        intercept = slope = np.float32(0.0)
    else:
        count = float(x.size)
        mx, my = x.mean(), y.mean()
        sxx, sxy = (x**2).sum(), (x * y).sum()
        slope = (sxy - count * mx * my) / (sxx - count * mx**2)
        intercept = my - slope * mx
        intercept, slope = np.float32(intercept), np.float32(slope)
    weight = (line != 0.0).astype(np.int8)
    line -= (intercept + plan.time * slope) * weight


def _fill_reference_output(line, plan):
    """Fill the reference output's time lines (in place): zero samples by sine-weighted
    interpolation, then all but the normal positions by the iterated low-pass filter."""
    from scipy.ndimage import convolve1d

    flat = line.reshape(-1)
    have = (flat != 0.0).astype(np.float32)
    num = convolve1d(flat, plan.sine, mode="wrap")
    den = convolve1d(have, plan.sine, mode="wrap")
    empty = den == 0.0
    num = np.where(empty, 0.0, num)
    den = np.where(empty, 1.0, den)
    flat += (num / den) * (1.0 - have)

    keep = flat[plan.normal_flat]
    p = flat.copy()
    for _ in range(3):
        spec = np.fft.fft(p)
        spec *= plan.lowpass
        p[:] = np.fft.ifft(spec).real
        p[plan.normal_flat] = keep
    flat[:] = p


def _correct_group(plane, offset, alpha, beta, plan):
    """Correct one detector-frame group (ny, 3200); returns (ny, 2048) or (ny, 3200)."""
    ny, sector, row = plan.ny, plan.sector, plan.row
    lines = np.zeros((5, ny, row), dtype=np.float32)
    sec = np.empty((ny, sector), dtype=np.float32)
    for k in range(5):
        cols = slice(k * sector, (k + 1) * sector)
        # group minus the mean over groups: float64 arithmetic rounded to float32, as jwst
        np.subtract(plane[:, cols], offset[:, cols], out=sec, casting="same_kind")
        flipped = sec[:, ::-1] if k % 2 == 0 else sec
        lines[k][:, plan.hnorm1] = flipped[:, plan.hnorm]
        lines[k][:, plan.href1] = flipped[:, plan.href]
    del sec
    for k in range(5):
        _remove_slope(lines[k], plan)
    _fill_reference_output(lines[0], plan)

    # (in-place operations give the same bits as jwst's ``fft(..) / n`` etc.: same dtypes)
    refout = np.fft.fft(lines[0].reshape(-1))
    refout /= plan.norm
    tmp = np.empty_like(refout)
    for k in range(1, 5):
        ref = np.zeros((ny, row), dtype=np.float32)
        ref[:, plan.ht] = lines[k][:, plan.hs]
        spec = np.fft.fft(ref.reshape(-1).astype(np.complex64))
        del ref
        spec /= plan.norm
        spec *= beta[k - 1]
        np.multiply(alpha[k - 1], refout, out=tmp)
        spec += tmp
        corr = np.fft.ifft(spec)
        del spec
        corr *= plan.norm
        corr = corr.real.reshape(ny, row)
        lines[k][:, plan.keep] -= corr[:, plan.keep]
        del corr
    del refout, tmp

    kept = lines[:, :, plan.keep]                        # (5, ny, 640 or 512)
    flips = (0, 2, 4) if plan.preserve else (2, 4)
    for k in flips:
        kept[k] = kept[k][:, ::-1]
    kept = kept.transpose(1, 0, 2)                       # (ny, 5, w)
    return kept if plan.preserve else kept[:, 1:, :]


def correct_irs2(data, pixeldq, alpha, beta, *, fastaxis, slowaxis, nrs_normal: int = 16, nrs_reference: int = 4,
                 pad: int = 8, dq_table=None, preserve_refpix: bool = False,
                 max_workers: int | None = 2) -> np.ndarray:
    """The IRS2 correction with the REFPIX coefficients (``jwst``'s ``correct_model``).

    Parameters
    ----------
    data : float32 (nints, ngroups, 3200, 2048), DMS orientation.  With a ``dq_table`` the
        bad interleaved reference rows are replaced in ``data`` in place; with
        ``preserve_refpix`` the corrected values are written into ``data`` too.
    pixeldq : uint32 (3200, 2048); rows flagged BAD_REF_PIXEL are not clobbered again.
    alpha, beta : complex64 (4, 2048 * 712) from :func:`irs2_coefficients`.
    fastaxis, slowaxis : the readout directions (FASTAXIS/SLOWAXIS; IRS2: ``|fastaxis| = 2``).
    dq_table : ``(output, odd_even, mask)`` columns of the REFPIX DQ table, or None.
    preserve_refpix : keep the 3200-row layout (reference output and interleaved samples
        corrected too) instead of returning only the 2048 normal rows.
    max_workers : threads over the groups of an integration.

    Returns
    -------
    float32 (nints, ngroups, 2048, 2048), or ``data`` itself (3200 rows) with
    ``preserve_refpix``.
    """
    if data.ndim != 4:
        raise ValueError("data must be 4-D (nints, ngroups, ny, nx)")
    nints, ngroups = data.shape[:2]
    if dq_table is not None and len(dq_table[0]) > 0:
        clobber_bad_refpix(data, pixeldq, *dq_table, fastaxis=fastaxis, slowaxis=slowaxis, nrs_normal=nrs_normal,
                           nrs_reference=nrs_reference)
    det = _to_detector(data, fastaxis, slowaxis)         # (nints, ngroups, ny, nx)
    ny, nx = det.shape[-2:]
    plan = _Plan(ny, nx, int(nrs_normal), int(nrs_reference), int(pad), bool(preserve_refpix))
    if alpha.shape[-1] != ny * plan.row or beta.shape[-1] != ny * plan.row:
        raise ValueError(f"IRS2 coefficients have {alpha.shape[-1]} elements, expected {ny * plan.row}")
    normal = irs2_normal_mask(nx, ny, nrs_normal, nrs_reference)
    if preserve_refpix:
        out, out_det = data, det      # each group is read whole before it is written back
    else:
        out = np.empty((nints, ngroups, ny, ny), np.float32)
        out_det = _to_detector(out, fastaxis, slowaxis)

    for i in range(nints):
        offset = np.sum(det[i], axis=0, dtype=np.float64) / float(ngroups)
        add_normal = offset[:, normal]
        add_refout = offset[:, : plan.sector] if preserve_refpix else None

        def work(g, i=i, offset=offset, add_normal=add_normal, add_refout=add_refout):
            res = _correct_group(det[i, g], offset, alpha, beta, plan)
            if preserve_refpix:
                res = res.reshape(ny, nx)
                res[:, normal] += add_normal
                res[:, : plan.sector] += add_refout
            else:
                res = res.reshape(ny, ny)
                res += add_normal
            out_det[i, g] = res

        workers = min(max_workers or 1, ngroups)
        if workers <= 1:
            for g in range(ngroups):
                work(g)
        else:
            with ThreadPoolExecutor(max_workers=workers) as ex:
                list(ex.map(work, range(ngroups)))
    return out


def strip_irs2_rows(array, rows):
    """``array[..., rows, :]``: keep the normal rows (mask from :func:`irs2_dms_rows`)."""
    return np.ascontiguousarray(array[..., rows, :])
