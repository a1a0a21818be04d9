"""``refpix`` step: correct bias drifts with the reference pixels."""

from __future__ import annotations

import numpy as np

from ...errors import BadInputError
from ...parallel import threads
from ...runner import Param, SkipStep
from .._refs import is_irs2
from .._stepbase import RampStep
from .irs2 import (
    IRS2_TABLE_LENGTH,
    correct_irs2,
    flag_bad_refpix,
    irs2_coefficients,
    irs2_dms_rows,
    mean_subtract_irs2,
    replace_bad_refpix,
    strip_irs2_rows,
)
from .miri import correct_miri
from .nir import correct_nir, correct_nir_zeroframe
from .sirs import find_sirs_coefficients, sirs_kernels

__all__ = ["RefPixStep"]


class RefPixStep(RampStep):
    """Reference-pixel correction; the algorithm follows the detector's readout layout.

    ``jwst`` chooses between its near-IR and its MIRI algorithm by instrument.  jwcal asks the
    exposure's :class:`~jwcore.steps._layout.ReadoutLayout` (declared by the instrument
    plugin; the near-IR one by default):

    * ``refpix="amplifier-blocks"`` (NIRCam, NIRISS, FGS, NIRSpec traditional readout):
      :func:`~jwcore.steps.refpix.nir.correct_nir` with FASTAXIS/SLOWAXIS, SUBSTRT1/2 and
      NOUTPUTS from the metadata and the ``odd_even_columns``, ``use_side_ref_pixels``,
      ``side_smoothing_length``, ``side_gain`` and ``siglimit`` parameters; subarrays named in
      ``layout.edgeless_subarrays`` use their edge columns as reference pixels; ZEROFRAME is
      corrected too when present.  SKIPPED when a subarray does not fit in the full frame.
    * ``refpix="interleaved-columns"`` (MIRI): :func:`~jwcore.steps.refpix.miri.correct_miri`
      with ``odd_even_rows`` and ``siglimit``; subarrays are SKIPPED when
      ``layout.refpix_subarrays`` is False.

    * NIRSpec IRS2 readouts (NRSIRS2, NRSIRS2RAPID: 3200 DMS rows, detector NRS1 or NRS2),
      in ``jwst``'s order (see :mod:`jwcore.steps.refpix.irs2`): flag suspicious interleaved
      reference rows (``ovr_corr_mitigation_ftr`` sigma; BAD_REF_PIXEL | DO_NOT_USE over the
      row of PIXELDQ); with ``irs2_mean_subtraction`` the top/bottom reference-row correction
      over the five IRS2 sections (``odd_even_columns``, ``siglimit``; never the side
      correction, whatever ``use_side_ref_pixels`` says; ZEROFRAME too when present); replace
      the flagged reference rows; then the Fourier-domain correction with the REFPIX reference
      (IRS2 table of alpha/beta coefficients and its DQ table of bad reference pixels).  With
      ``preserve_irs2_refpix=False`` (default) SCI, PIXELDQ and GROUPDQ (and ERR if present)
      keep only the 2048 normal rows, so the following steps see a 2048 x 2048 ramp; with
      True they keep the 3200-row layout.  ZEROFRAME and REFOUT are left as they are.
      SKIPPED, after the flagging and replacing, when REFPIX is N/A or its table does not have
      2 x 712 x 2048 rows (both as ``jwst``).

    * ``refpix_algorithm="sirs"`` on near-IR full frames (subarray name containing ``FULL``,
      not IRS2): the side-pixel running median is replaced by the Simple Improved Reference
      Subtraction of :mod:`jwcore.steps.refpix.sirs` (``sigreject``, ``gaussmooth``,
      ``halfwidth``; kernels from the detector's ``gamma``/``zeta`` in the SIRSKERNEL ASDF
      reference), after the unchanged top/bottom correction and only with
      ``use_side_ref_pixels``; ZEROFRAME too.  As ``jwst``: the running median is used when
      SIRSKERNEL is N/A or has no coefficients for the detector; subarrays and MIRI ignore
      ``"sirs"``.  A ``FULL`` subarray that is not 2048 x 2048 with four outputs is an error
      (``jwst`` would run SIRS on a zero-padded frame).

    REFPIX is asked for only for IRS2 data and SIRSKERNEL only for ``refpix_algorithm="sirs"``
    on near-IR full frames, as ``jwst`` does.
    """

    name = "refpix"
    class_alias = "refpix"
    description = "Use reference pixels to correct bias drifts"
    spec = (
        Param("odd_even_columns", bool, True, "Compute reference signal separately for even/odd columns"),
        Param("use_side_ref_pixels", bool, True, "Use side reference pixels for reference signal for each row"),
        Param("side_smoothing_length", int, 11, "Median window smoothing height for side reference signal"),
        Param("side_gain", float, 1.0, "Multiplicative factor for side reference signal before subtracting from rows"),
        Param("odd_even_rows", bool, True, "Compute reference signal separately for even- and odd-numbered rows"),
        Param("ovr_corr_mitigation_ftr", float, 3.0, "Factor to avoid overcorrection of bad reference pixels for IRS2"),
        Param("preserve_irs2_refpix", bool, False, "Preserve reference pixels in output"),
        Param("irs2_mean_subtraction", bool, False, "Apply a mean offset subtraction before IRS2 correction"),
        Param("refpix_algorithm", str, "median", "NIR full-frame side pixel algorithm", choices=("median", "sirs")),
        Param("sigreject", float, 4.0, "Number of sigmas to reject as outliers"),
        Param("gaussmooth", float, 1.0, "Width of Gaussian smoothing kernel to use as a low-pass filter"),
        Param("halfwidth", int, 30, "Half-width of convolution kernel to build"),
        Param("siglimit", float, 3.0, "Sigma clipping limit for outlier rejection"),
    )
    reference_file_types = ("refpix", "sirskernel")
    optional_references = ("sirskernel",)

    def wanted_references(self, model) -> tuple:
        m = model.meta
        shape = (m.subarray.ysize or 0, m.subarray.xsize or 0)   # metadata only (see Step)
        if is_irs2(shape) or str(m.exposure.readpatt or "").upper().startswith("NRSIRS2"):
            return ("refpix",)
        layout = self.layout(model)
        if (self.refpix_algorithm == "sirs" and layout.refpix == "amplifier-blocks"
                and "FULL" in str(model.meta.subarray.name or "")):
            return ("sirskernel",)
        return ()

    def process(self, model, refs):
        data = model.data
        shape = data.shape
        meta = model.meta
        if is_irs2(shape):
            return self._process_irs2(model, refs)
        layout = self.layout(model)
        if layout.refpix == "interleaved-columns":
            if self.refpix_algorithm == "sirs":
                self.log.info("Simple Improved Reference Subtraction (SIRS) not applied for %s data.",
                              meta.instrument.name)
            if layout.is_subarray(shape) and not layout.refpix_subarrays:
                raise SkipStep(f"refpix correction skipped for {meta.instrument.name} subarrays")
            status = correct_miri(data, model.pixeldq, odd_even_rows=self.odd_even_rows, siglimit=self.siglimit,
                                  max_workers=threads())
            if status != "COMPLETE":
                raise SkipStep("subarray: no reference-pixel correction")
            return model
        if layout.refpix != "amplifier-blocks":
            raise BadInputError(f"unknown reference-pixel layout {layout.refpix!r} for {meta.instrument.name}")
        algorithm, kernels = self._side_algorithm(model, refs)
        fastaxis, slowaxis = meta.subarray.fastaxis, meta.subarray.slowaxis
        if fastaxis is None or slowaxis is None:
            raise BadInputError("refpix needs FASTAXIS and SLOWAXIS (meta.subarray.fastaxis/slowaxis)")
        kwargs = dict(
            fastaxis=int(fastaxis), slowaxis=int(slowaxis),
            xstart=int(meta.subarray.xstart or 1), ystart=int(meta.subarray.ystart or 1),
            noutputs=meta.exposure.noutputs,
            odd_even_columns=self.odd_even_columns, use_side_ref_pixels=self.use_side_ref_pixels,
            side_smoothing_length=self.side_smoothing_length, side_gain=self.side_gain,
            siglimit=self.siglimit, refpix_algorithm=algorithm, sirs_kernels=kernels, sigreject=self.sigreject,
            edgeless_subarray=str(meta.subarray.name or "") in layout.edgeless_subarrays,
            max_workers=threads(),
        )
        try:
            status = correct_nir(data, model.pixeldq, **kwargs)
        except ValueError as exc:
            if kernels is None:
                raise
            raise BadInputError(str(exc)) from exc
        if status != "COMPLETE":
            raise SkipStep("Subarray doesn't fit in full-sized array")
        if meta.exposure.zero_frame and model.has("zeroframe"):
            correct_nir_zeroframe(model.zeroframe, model.pixeldq, **kwargs)
        return model

    def _side_algorithm(self, model, refs):
        """``("sirs", kernels)`` when SIRS applies (``refpix_algorithm="sirs"``, a near-IR
        full frame, a SIRSKERNEL reference with coefficients for the detector), else
        ``("median", None)`` -- ``jwst``'s fall-back, with its reasons logged."""
        if self.refpix_algorithm != "sirs":
            return "median", None
        if "FULL" not in str(model.meta.subarray.name or ""):
            self.log.info("Simple Improved Reference Subtraction (SIRS) not applied for subarray data.")
            return "median", None
        path = refs.path("sirskernel")
        if path is None:
            self.log.warning("No reference file found for the optimized convolution kernel; "
                             "the running median algorithm is used for the side pixels.")
            return "median", None
        if not str(path).endswith(".asdf"):
            raise BadInputError(f"SIRSKERNEL reference {path} is not an ASDF file")
        detector = str(model.meta.instrument.detector or "")
        coeffs = find_sirs_coefficients(refs.open("sirskernel").tree, detector)
        if coeffs is None:
            self.log.info("SIRS kernel coefficients not found for detector %s; the running median is used",
                          detector)
            return "median", None
        try:
            kernels = sirs_kernels(*coeffs, gaussmooth=self.gaussmooth, halfwidth=self.halfwidth)
        except ValueError as exc:
            raise BadInputError(f"SIRSKERNEL reference {path}: {exc}") from exc
        self.log.info("SIRS: sigreject=%s, gaussmooth=%s, halfwidth=%s", self.sigreject, self.gaussmooth,
                      self.halfwidth)
        return "sirs", kernels

    # ------------------------------------------------------------------------ IRS2
    def _process_irs2(self, model, refs):
        meta = model.meta
        data = model.data
        shape = data.shape
        fastaxis, slowaxis = meta.subarray.fastaxis, meta.subarray.slowaxis
        if fastaxis is None or slowaxis is None or abs(int(fastaxis)) != 2 or shape[-2] <= shape[-1]:
            raise BadInputError(f"IRS2 data must be read along the DMS rows (|FASTAXIS| = 2) with 3200 rows, got "
                                f"FASTAXIS={fastaxis} SLOWAXIS={slowaxis}, shape {shape[-2:]}")
        fastaxis, slowaxis = int(fastaxis), int(slowaxis)
        n = int(meta.exposure.nrs_normal or 16)
        r = int(meta.exposure.nrs_reference or 4)
        pixeldq = model.pixeldq
        flag_bad_refpix(data, pixeldq, nrs_normal=n, nrs_reference=r, n_sigma=self.ovr_corr_mitigation_ftr)
        if self.irs2_mean_subtraction:
            if self.use_side_ref_pixels:
                self.log.info("Turning off side pixel correction for IRS2")
            kwargs = dict(fastaxis=fastaxis, slowaxis=slowaxis, nrs_normal=n, nrs_reference=r,
                          odd_even_columns=self.odd_even_columns, siglimit=self.siglimit, max_workers=threads())
            mean_subtract_irs2(data, pixeldq, **kwargs)
            if meta.exposure.zero_frame and model.has("zeroframe"):
                zeroframe = model.zeroframe
                was_zero = zeroframe == 0.0
                mean_subtract_irs2(zeroframe[:, None], pixeldq, **kwargs)
                zeroframe[was_zero] = 0.0
        replace_bad_refpix(data, pixeldq, nrs_normal=n, nrs_reference=r)

        path = refs.path("refpix")
        if path is None:
            raise SkipStep("no REFPIX reference file (N/A) for IRS2 data; refpix step skipped")
        alpha, beta, dq_table, nrows = _read_irs2_reference(path)
        if alpha is None:
            raise SkipStep(f"REFPIX IRS2 table has {nrows} rows, expected {IRS2_TABLE_LENGTH}")
        preserve = bool(self.preserve_irs2_refpix)
        out = correct_irs2(data, pixeldq, alpha, beta, fastaxis=fastaxis, slowaxis=slowaxis, nrs_normal=n,
                           nrs_reference=r,
                           dq_table=dq_table, preserve_refpix=preserve, max_workers=threads())
        del alpha, beta
        if preserve:
            return model
        rows = irs2_dms_rows(fastaxis, shape[-2], n, r)
        err = model.err if model.has("err") else None
        model.data = out
        model.pixeldq = strip_irs2_rows(pixeldq, rows)
        model.groupdq = strip_irs2_rows(model.groupdq, rows)
        if err is not None and err.shape == shape:
            model.err = strip_irs2_rows(err, rows)
        return model


def _read_irs2_reference(path):
    """The IRS2 REFPIX reference: ``(alpha, beta, dq_table)`` with the complex64 coefficients
    of :func:`~jwcore.steps.refpix.irs2.irs2_coefficients` and the DQ table's
    ``(output, odd_even, mask)`` columns (None when absent or empty).  FITS columns are read
    one at a time from the memory-mapped file, through astropy's column access (TZERO
    applied); an ``alpha`` of the wrong length gives ``alpha=None``."""
    def coefficients(table, length):
        if length != IRS2_TABLE_LENGTH:
            return None, None
        return irs2_coefficients(table)

    if str(path).endswith(".asdf"):
        import asdf

        with asdf.open(path, lazy_load=False, memmap=False) as af:
            table = af.tree["irs2_table"]
            alpha, beta = coefficients(table, len(table["alpha_0"]))
            dqt = af.tree.get("dq_table")
            dq_table = None
            if dqt is not None and len(dqt) > 0:
                dq_table = tuple(np.array(dqt[c]) for c in ("OUTPUT", "ODD_EVEN", "MASK"))
        _check_dq_table(path, dq_table)
        return alpha, beta, dq_table, len(table["alpha_0"])

    from astropy.io import fits

    with fits.open(path, memmap=True) as hdul:
        if "IRS2" not in hdul or hdul["IRS2"].data is None:
            raise BadInputError(f"REFPIX reference {path} has no IRS2 table")
        table = hdul["IRS2"].data
        nrows = len(table)
        alpha, beta = coefficients(table, nrows)
        del table
        dq_table = None
        if "DQ" in hdul and hdul["DQ"].data is not None and len(hdul["DQ"].data) > 0:
            dqt = hdul["DQ"].data
            dq_table = tuple(np.array(dqt.field(c)) for c in ("OUTPUT", "ODD_EVEN", "MASK"))
            del dqt
    _check_dq_table(path, dq_table)
    return alpha, beta, dq_table, nrows


def _check_dq_table(path, dq_table) -> None:
    """A REFPIX DQ table names the amplifier outputs 1-4; anything else is a bad file."""
    if dq_table is None:
        return
    output = np.asarray(dq_table[0])
    if output.size and (output.min() < 1 or output.max() > 4):
        raise BadInputError(f"REFPIX reference {path}: DQ table OUTPUT values must be 1-4, "
                            f"found {sorted(set(output.tolist()) - {1, 2, 3, 4})}")
