"""Reference-pixel correction for the near-infrared detectors (NIRCam, NIRISS, FGS, and
NIRSpec in traditional readout), matching ``jwst`` 3.0.0 ``refpix`` with
``refpix_algorithm="median"``.

Geometry
--------
All the work is done in the *detector* frame, where the 2048 x 2048 detector is read by
four amplifiers, each owning 512 consecutive columns (A: 0-511 ... D: 1536-2047), the
fast read direction running along the rows.  The bottom rows 0-3 and top rows
2044-2047 are reference rows, the columns 0-3 and 2044-2047 are the side reference
columns.  Ramps arrive in DMS (science) orientation; the instrument plugin supplies the
``FASTAXIS``/``SLOWAXIS`` keywords of the exposure (``meta.subarray.fastaxis`` /
``slowaxis``), which say how to get from DMS to detector orientation:

* ``|fastaxis| == 1``: detector = DMS with the rows reversed if ``slowaxis < 0`` and the
  columns reversed if ``fastaxis < 0``;
* ``|fastaxis| == 2``: the DMS array is flipped (rows if ``fastaxis < 0``, columns if
  ``slowaxis < 0``) and then transposed.

Typical values: NRCA1/A3/ALONG/B2/B4 (-1, 2), NRCA2/A4/B1/B3/BLONG (1, -2), NIS and
GUIDER1 (-2, -1), GUIDER2 (2, -1), NRS1 (2, 1), NRS2 (-2, -1).

Subarrays are placed in the 2048 x 2048 DMS frame with the 1-based ``xstart``/``ystart``
(``SUBSTRT1``/``SUBSTRT2``) before transforming; the detector-frame column parity used by
the odd/even split and the amplifier boundaries are those of the full frame.

Algorithm (what ``jwst`` does, reproduced bit for bit)
------------------------------------------------------
Full frame, or a subarray read with ``noutputs == 4``, for every group:

1. For each amplifier and for the top and for the bottom reference rows, the
   sigma-clipped mean (``siglimit`` sigma, iterated) of the reference pixels that are
   not DO_NOT_USE, separately for even and odd detector columns when
   ``odd_even_columns`` (otherwise one value).  Top and bottom are averaged (or the one
   that exists is used) and subtracted from the amplifier's columns.  An amplifier where
   either parity has no usable pixel at all is left alone.  For a subarray, pixels of the
   reference rows that lie outside the subarray simply do not exist.
2. If ``use_side_ref_pixels``: a running median, ``side_smoothing_length`` rows tall and
   reflected at the detector's first and last rows, over the four left (and the four
   right) side reference columns, ignoring DO_NOT_USE pixels and using the values already
   corrected in step 1.  Left and right are averaged (or the one that exists is used, or
   0 where neither exists), multiplied by ``side_gain`` and subtracted from every pixel of
   the row, in float64 before rounding to float32.

   Precision quirk reproduced: ``jwst`` reuses one work buffer per run, which becomes the
   float64 result of the side subtraction after the first plane, so with
   ``use_side_ref_pixels`` every plane but the first (integration 1, group 1) is held in
   float64 for steps 1-2 (clipped means, medians and subtractions in float64, one
   rounding to float32 at the end).  Without the side correction all is float32.

Subarray read with one output (``noutputs != 4``): the usable reference pixels are those
of the subarray whose PIXELDQ has REFERENCE_PIXEL set and DO_NOT_USE unset (whatever
their position).  Their sigma-clipped mean, separately for even and odd detector columns
when ``odd_even_columns``, is subtracted from the whole group.  Without any such pixel
nothing is changed.  No side correction is made.

DQ is not modified.  ``jwst`` marks the step COMPLETE in all these cases, including when
no reference pixel was usable; it is SKIPPED only when a subarray does not fit in the
2048 x 2048 frame.

NIRSpec IRS2 readouts (``preserve_irs2_refpix``, ``ovr_corr_mitigation_ftr``,
``irs2_mean_subtraction``) are corrected by :mod:`jwcore.steps.refpix.irs2`.

``refpix_algorithm="sirs"`` (full frames only, with ``use_side_ref_pixels``): step 2's
running median is replaced by the SIRS template of :mod:`jwcore.steps.refpix.sirs` (kernels
from the SIRSKERNEL reference, ``sigreject``), one value per row and amplifier, computed from
the side columns after step 1 and subtracted in float64 (the float64 quirk above applies
alike).  Without kernels (no SIRSKERNEL, or none for the detector) ``jwst`` runs the
median algorithm; the step then calls this module with ``"median"``.

Not implemented here: multistripe/superstripe subarrays.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from jwcore import dq
from jwcore.steps.refpix._clip import clipped_mean
from jwcore.steps.refpix.sirs import SirsKernels, sirs_column_slices, sirs_template

__all__ = [
    "NIR_FULL",
    "AMPLIFIER_WIDTH",
    "dms_to_detector",
    "detector_to_dms",
    "subarray_detector_origin",
    "correct_nir",
    "correct_nir_zeroframe",
]

NIR_FULL = 2048
AMPLIFIER_WIDTH = 512
NREF = 4  # reference rows / columns on each detector edge

_DNU = np.uint32(dq.DO_NOT_USE)
_REF = np.uint32(dq.REFERENCE_PIXEL)
_ROW_BLOCK = 256  # rows per float64 block in the side correction


# --------------------------------------------------------------------------- geometry
def dms_to_detector(a: np.ndarray, fastaxis: int, slowaxis: int) -> np.ndarray:
    """View of ``a`` (last two axes in DMS orientation) in detector orientation."""
    if abs(fastaxis) == 1:
        return a[..., :: int(np.sign(slowaxis)), :: int(np.sign(fastaxis))]
    return np.swapaxes(a[..., :: int(np.sign(fastaxis)), :: int(np.sign(slowaxis))], -2, -1)


def detector_to_dms(a: np.ndarray, fastaxis: int, slowaxis: int) -> np.ndarray:
    """Inverse of :func:`dms_to_detector` (also a view)."""
    if abs(fastaxis) == 1:
        return a[..., :: int(np.sign(slowaxis)), :: int(np.sign(fastaxis))]
    return np.swapaxes(a, -2, -1)[..., :: int(np.sign(fastaxis)), :: int(np.sign(slowaxis))]


def subarray_detector_origin(xstart, ystart, xsize, ysize, fastaxis, slowaxis, full=NIR_FULL):
    """(row, column) of the first detector-frame pixel of a subarray, 0-based.

    ``xstart``/``ystart`` are 1-based DMS positions; ``xsize``/``ysize`` the DMS shape.
    """
    r0, c0 = ystart - 1, xstart - 1
    if abs(fastaxis) == 1:
        row = full - (r0 + ysize) if slowaxis < 0 else r0
        col = full - (c0 + xsize) if fastaxis < 0 else c0
    else:
        # flip rows if fastaxis < 0, columns if slowaxis < 0, then transpose
        row = full - (c0 + xsize) if slowaxis < 0 else c0
        col = full - (r0 + ysize) if fastaxis < 0 else r0
    return row, col


def _paste(strip_shape, strip_origin, sub_origin, sub_shape):
    """Overlap of a full-frame strip and the subarray.

    Returns (strip slices, subarray slices) or None when they do not intersect.
    """
    out_s, out_p = [], []
    for n, s0, p0, pn in zip(strip_shape, strip_origin, sub_origin, sub_shape):
        lo = max(s0, p0)
        hi = min(s0 + n, p0 + pn)
        if hi <= lo:
            return None
        out_s.append(slice(lo - s0, hi - s0))
        out_p.append(slice(lo - p0, hi - p0))
    return tuple(out_s), tuple(out_p)


def _parity_slice(full_lo, full_hi, step, c0, ncols):
    """Local column slice of a plane whose first column is full-frame column ``c0``,
    selecting full-frame columns ``full_lo, full_lo + step, ... < full_hi``."""
    lo = max(full_lo, c0)
    if step == 2 and (lo - full_lo) % 2:
        lo += 1
    hi = min(full_hi, c0 + ncols)
    if hi <= lo:
        return None
    return slice(lo - c0, hi - c0, step)


# --------------------------------------------------------------------- side medians
def _running_median(values: np.ndarray, flags: np.ndarray, length: int) -> np.ndarray:
    """Row-wise running median over (nrows, k) side reference columns, float64 result.

    Window of ``length`` rows over an array reflected at both ends (by
    ``L // 2`` rows where ``L`` is ``length`` rounded up to odd, as ``jwst`` does; an even
    ``length`` thus gives a window that is one row short on the upper side).  DO_NOT_USE
    pixels are ignored; a window without usable pixels gives NaN, as does a window whose
    usable pixels include a NaN.  The median is taken in the values' precision, like
    ``numpy.median``.
    """
    nrows, k = values.shape
    length = max(int(length), 1)
    odd = length + 1 if length % 2 == 0 else length
    buf = odd // 2

    def reflect(a, fill):
        out = np.full((nrows + 2 * buf, k), fill, dtype=a.dtype)
        out[buf : buf + nrows] = a
        if buf:
            out[:buf] = a[buf:0:-1]
            out[buf + nrows :] = a[-2 : -(buf + 2) : -1]
        return out

    usable = reflect((flags & _DNU) == 0, False)
    vals = reflect(values, 0)
    win_v = np.lib.stride_tricks.sliding_window_view(vals, length, axis=0)[:nrows]
    win_u = np.lib.stride_tricks.sliding_window_view(usable, length, axis=0)[:nrows]
    win_v = win_v.reshape(nrows, k * length)
    win_u = win_u.reshape(nrows, k * length)
    n = win_u.sum(axis=1)
    has_nan = np.any(np.isnan(win_v) & win_u, axis=1)
    srt = np.sort(np.where(win_u, win_v, np.inf).astype(values.dtype, copy=False), axis=1)
    rows = np.arange(nrows)
    lo = np.clip((n - 1) // 2, 0, None)
    hi = np.clip(n // 2, 0, None)
    with np.errstate(invalid="ignore", over="ignore"):
        med = (srt[rows, lo] + srt[rows, hi]) / 2
    result = med.astype(np.float64)
    result[(n == 0) | has_nan] = np.nan
    return result


def _combine_sides(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    ln, rn = np.isnan(left), np.isnan(right)
    out = 0.5 * (left + right)
    out[ln & ~rn] = right[ln & ~rn]
    out[rn & ~ln] = left[rn & ~ln]
    out[ln & rn] = 0.0
    return out


# ------------------------------------------------------------------------ main entry
def _average(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return 0.5 * (a + b)


class _AmpPlan:
    """Index bookkeeping for the four-amplifier (full-frame style) correction."""

    def __init__(self, pdq_det, r0, c0, odd_even_columns, use_side):
        nyd, nxd = pdq_det.shape
        self.r0, self.c0, self.nyd, self.nxd = r0, c0, nyd, nxd
        fill = _DNU | _REF
        # full-frame strips (detector frame): bottom/top rows, left/right columns
        self.strips = {
            "bottom": ((NREF, NIR_FULL), (0, 0)),
            "top": ((NREF, NIR_FULL), (NIR_FULL - NREF, 0)),
            "left": ((NIR_FULL, NREF), (0, 0)),
            "right": ((NIR_FULL, NREF), (0, NIR_FULL - NREF)),
        }
        self.paste = {}
        self.strip_dq = {}
        for name, (shape, origin) in self.strips.items():
            if name in ("left", "right") and not use_side:
                continue
            ov = _paste(shape, origin, (r0, c0), (nyd, nxd))
            self.paste[name] = ov
            sdq = np.full(shape, fill, dtype=np.uint32)
            if ov is not None:
                sdq[ov[0]] = pdq_det[ov[1]]
            self.strip_dq[name] = sdq
        # per amplifier: flat indices (into the top/bottom strips) of the usable pixels
        # of each column group, in jwst's order, and the full-frame column groups
        flat = np.arange(NREF * NIR_FULL).reshape(NREF, NIR_FULL)
        self.amps = []
        for amp in range(4):
            a0 = amp * AMPLIFIER_WIDTH
            a1 = a0 + AMPLIFIER_WIDTH
            if odd_even_columns:
                colgroups = ((a0, a1, 2), (a0 + 1, a1, 2))
            else:
                colgroups = ((a0, a1, 1),)
            idx = {}
            for edge in ("top", "bottom"):
                sdq = self.strip_dq[edge]
                idx[edge] = []
                for f0, f1, st in colgroups:
                    good = (sdq[:, f0:f1:st] & _DNU) == 0
                    idx[edge].append(flat[:, f0:f1:st][good])
            self.amps.append((idx, colgroups))

    def strip_values(self, plane, name, dtype):
        shape, _ = self.strips[name]
        out = np.zeros(shape, dtype=dtype)
        ov = self.paste[name]
        if ov is not None:
            out[ov[0]] = plane[ov[1]]
        return out


def _correct_plane_amps(plane, plan: _AmpPlan, siglimit, use_side, length, gain, wide, sirs=None,
                        sigreject=4.0):
    """Correct one detector-frame plane (a view into the ramp), in place.

    ``wide``: hold the plane in float64 throughout, as ``jwst`` does for every plane but
    the first of a run when the side correction is on (its work buffer becomes the
    float64 result of the side subtraction and is reused for the following groups).
    ``sirs``: :class:`~jwcore.steps.refpix.sirs.SirsKernels` to use instead of the running
    median (full frames only).
    """
    work = np.float64 if wide else plane.dtype
    top = plan.strip_values(plane, "top", work).ravel()
    bottom = plan.strip_values(plane, "bottom", work).ravel()
    corrections = []  # (full-frame column group, reference value)
    for idx, colgroups in plan.amps:
        refs = []
        for k in range(len(colgroups)):
            t = clipped_mean(top[idx["top"][k]], siglimit)
            b = clipped_mean(bottom[idx["bottom"][k]], siglimit)
            refs.append(_average(t, b))
        if any(r is None for r in refs):
            continue
        corrections.extend(zip(colgroups, refs))
    local = [
        (_parity_slice(f0, f1, st, plan.c0, plan.nxd), ref) for (f0, f1, st), ref in corrections
    ]
    local = [(cs, ref) for cs, ref in local if cs is not None]
    if not wide:
        for cs, ref in local:
            plane[:, cs] -= ref
        if not use_side:
            return
        left = plan.strip_values(plane, "left", work)
        right = plan.strip_values(plane, "right", work)
    else:
        left = plan.strip_values(plane, "left", work)
        right = plan.strip_values(plane, "right", work)
        for strip, s0 in ((left, 0), (right, NIR_FULL - NREF)):
            for (f0, f1, st), ref in corrections:
                cs = _parity_slice(f0, f1, st, s0, NREF)
                if cs is not None:
                    strip[:, cs] -= ref
    if sirs is not None:
        template = sirs_template(left, right, sirs, sigreject=sigreject)
        amps = list(enumerate(sirs_column_slices(sirs.nchan, plan.nxd)))
    else:
        left = _running_median(left, plan.strip_dq["left"], length)
        right = _running_median(right, plan.strip_dq["right"], length)
        side = gain * _combine_sides(left, right)[plan.r0 : plan.r0 + plan.nyd]
    for b0 in range(0, plan.nyd, _ROW_BLOCK):
        b1 = min(b0 + _ROW_BLOCK, plan.nyd)
        blk = plane[b0:b1].astype(np.float64)
        if wide:
            for cs, ref in local:
                blk[:, cs] -= ref
        if sirs is not None:
            for c, cs in amps:
                blk[:, cs] -= template[b0:b1, c, None]
        else:
            blk -= side[b0:b1, None]
        plane[b0:b1] = blk


def _correct_plane_single(plane, selections, siglimit):
    for idx, cs in selections:
        ref = clipped_mean(plane[idx], siglimit)
        if ref is None or cs is None:
            continue
        plane[:, cs] -= ref


def _run(planes, func, max_workers):
    jobs = list(planes)
    workers = min(max_workers or 2, len(jobs)) if jobs else 1
    if workers <= 1:
        for p in jobs:
            func(p)
        return
    with ThreadPoolExecutor(max_workers=workers) as ex:
        for _ in ex.map(func, jobs):
            pass


def correct_nir(
    data: np.ndarray,
    pixeldq: np.ndarray,
    *,
    fastaxis: int,
    slowaxis: int,
    xstart: int = 1,
    ystart: int = 1,
    noutputs: int | None = 4,
    odd_even_columns: bool = True,
    use_side_ref_pixels: bool = True,
    side_smoothing_length: int = 11,
    side_gain: float = 1.0,
    siglimit: float = 3.0,
    refpix_algorithm: str = "median",
    edgeless_subarray: bool = False,
    max_workers: int | None = 2,
    continued: bool = False,
    sirs_kernels: SirsKernels | None = None,
    sigreject: float = 4.0,
) -> str:
    """Reference-pixel correction of a NIR ramp, in place.

    Parameters
    ----------
    data : float32 array (nints, ngroups, ny, nx), DMS orientation; modified in place.
    pixeldq : uint32 array (ny, nx); not modified.
    fastaxis, slowaxis : FASTAXIS / SLOWAXIS of the exposure (see the module docstring).
    xstart, ystart : 1-based SUBSTRT1 / SUBSTRT2 (DMS); ignored for a 2048 x 2048 array.
    noutputs : NOUTPUTS; a subarray with 4 outputs is treated per amplifier like a full
        frame, any other value (1, None) uses the single-output subarray scheme.
    odd_even_columns, use_side_ref_pixels, side_smoothing_length, side_gain, siglimit :
        the RefPixStep parameters of the same names (``jwst`` 3.0.0 defaults).
    refpix_algorithm : ``"median"`` or ``"sirs"``.  ``"sirs"`` with ``sirs_kernels`` replaces
        the running median of the side pixels by the SIRS template (see
        :mod:`jwcore.steps.refpix.sirs`); it needs a 2048 x 2048 frame (ValueError for a
        four-output subarray) and does nothing without ``use_side_ref_pixels`` or on a
        one-output subarray (no side correction there), as in ``jwst``.  ``"sirs"`` without
        kernels is a ValueError: ``jwst``'s fall-back without SIRSKERNEL (or without
        coefficients for the detector) is the median algorithm, so pass ``"median"`` then.
    edgeless_subarray : add REFERENCE_PIXEL to the first and last four DMS columns of the
        subarray, as ``jwst`` does for the NIRSpec SUB512, SUB512S and SUB32 subarrays.
    max_workers : threads over the (integration, group) planes.
    continued : ``jwst`` keeps one work buffer per run; with the side correction on it
        becomes float64 after the first plane, so every plane but the very first is
        corrected in float64 (rounded to float32 once at the end).  ``continued=True``
        makes the first plane float64 too, which is what happens to a ZEROFRAME that
        ``jwst`` corrects after the science ramp (see :func:`correct_nir_zeroframe`).
    sirs_kernels : :class:`~jwcore.steps.refpix.sirs.SirsKernels` from
        :func:`~jwcore.steps.refpix.sirs.sirs_kernels`; used with ``refpix_algorithm="sirs"``.
    sigreject : outlier rejection of the SIRS side pixels, in MAD-derived sigmas.

    Returns
    -------
    ``"COMPLETE"`` or ``"SKIPPED"`` (subarray that does not fit in the 2048 x 2048 frame),
    the value ``jwst`` gives ``meta.cal_step.refpix``.
    """
    if refpix_algorithm not in ("median", "sirs"):
        raise ValueError(f"refpix_algorithm must be 'median' or 'sirs', got {refpix_algorithm!r}")
    if refpix_algorithm == "sirs" and sirs_kernels is None:
        raise ValueError("refpix_algorithm='sirs' needs sirs_kernels (use 'median' without a SIRSKERNEL)")
    sirs = sirs_kernels if refpix_algorithm == "sirs" and use_side_ref_pixels else None
    if data.ndim != 4:
        raise ValueError("data must be 4-D (nints, ngroups, ny, nx)")
    ny, nx = data.shape[-2:]
    if pixeldq.shape != (ny, nx):
        raise ValueError("pixeldq shape does not match data")
    is_subarray = ny < NIR_FULL or nx < NIR_FULL
    if is_subarray:
        rs, cs = ystart - 1, xstart - 1
        if rs < 0 or cs < 0 or rs + ny > NIR_FULL or cs + nx > NIR_FULL:
            return "SKIPPED"
        r0, c0 = subarray_detector_origin(xstart, ystart, nx, ny, fastaxis, slowaxis)
    else:
        r0, c0 = 0, 0

    pdq = np.asarray(pixeldq).astype(np.uint32, copy=edgeless_subarray and is_subarray)
    if edgeless_subarray and is_subarray:
        pdq[:, :NREF] |= _REF
        pdq[:, -NREF:] |= _REF
    pdq_det = dms_to_detector(pdq, fastaxis, slowaxis)
    det = dms_to_detector(data, fastaxis, slowaxis)  # view, (nints, ngroups, nyd, nxd)
    nyd, nxd = det.shape[-2:]
    planes = [det[i, g] for i in range(det.shape[0]) for g in range(det.shape[1])]

    if not is_subarray or noutputs == 4:
        if sirs is not None and is_subarray:
            raise ValueError(f"refpix_algorithm='sirs' needs a {NIR_FULL} x {NIR_FULL} frame, got {ny} x {nx}")
        plan = _AmpPlan(pdq_det, r0, c0, odd_even_columns, use_side_ref_pixels)

        def work(job):
            k, plane = job
            # jwst quirk reproduced: with the side correction, only the first plane of a
            # run is held in float32, all later ones in float64 (see _correct_plane_amps).
            wide = use_side_ref_pixels and (k > 0 or continued)
            _correct_plane_amps(
                plane, plan, siglimit, use_side_ref_pixels, side_smoothing_length, side_gain, wide,
                sirs, sigreject,
            )

    else:
        usable = ((pdq_det & _REF) == _REF) & ((pdq_det & _DNU) != _DNU)
        rows, cols = np.nonzero(usable)
        if rows.size == 0:
            return "COMPLETE"
        if odd_even_columns:
            even = (cols + c0) % 2 == 0
            selections = [
                ((rows[even], cols[even]), slice(c0 % 2, None, 2)),
                ((rows[~even], cols[~even]), slice((c0 + 1) % 2, None, 2)),
            ]
            # jwst cannot handle a parity without any reference pixel (it raises);
            # here that parity is simply left uncorrected.
            selections = [s if s[0][0].size else (s[0], None) for s in selections]
        else:
            selections = [((rows, cols), slice(None))]

        def work(job):
            _correct_plane_single(job[1], selections, siglimit)

    _run(enumerate(planes), work, max_workers)
    return "COMPLETE"


def correct_nir_zeroframe(zeroframe: np.ndarray, pixeldq: np.ndarray, **kwargs) -> str:
    """Apply :func:`correct_nir` to a ZEROFRAME array (nints, ny, nx), in place.

    As ``jwst`` does, each integration's zero frame is corrected as a one-group ramp with
    the same parameters, and pixels that were exactly 0.0 beforehand (no zero-frame
    value) are set back to 0.0.  ``jwst`` does this right after the science ramp with the
    same work buffer, hence ``continued=True`` by default (pass ``continued=False`` if the
    science ramp was not corrected first in the same way).
    """
    kwargs.setdefault("continued", True)
    was_zero = zeroframe == 0.0
    ramp = zeroframe[:, None]
    status = correct_nir(ramp, pixeldq, **kwargs)
    zeroframe[was_zero] = 0.0
    return status
