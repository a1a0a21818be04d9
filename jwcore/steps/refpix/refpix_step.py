"""``refpix`` step: correct bias drifts with the reference pixels."""

from __future__ import annotations

from ...errors import BadInputError, ParameterError
from ...parallel import threads
from ...runner import Param, SkipStep
from .._refs import is_irs2
from .._stepbase import RampStep
from .miri import correct_miri
from .nir import correct_nir, correct_nir_zeroframe

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

    Not implemented (the step says so): NIRSpec IRS2 readouts (SKIPPED with a warning; the
    ``ovr_corr_mitigation_ftr``, ``preserve_irs2_refpix`` and ``irs2_mean_subtraction``
    parameters only apply there), and the ``"sirs"`` algorithm when a SIRSKERNEL reference
    exists (an error; without one ``jwst`` falls back to ``"median"``, and so does jwcal).
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
            raise SkipStep("NIRSpec IRS2 reference-pixel correction is not implemented in jwcal yet")
        layout = self.layout(model)
        if layout.refpix == "interleaved-columns":
            if layout.is_subarray(shape) and not layout.refpix_subarrays:
                raise SkipStep(f"refpix correction skipped for {meta.instrument.name} subarrays")
            status = correct_miri(data, model.pixeldq, odd_even_rows=self.odd_even_rows, siglimit=self.siglimit,
                                  max_workers=threads())
            if status != "COMPLETE":
                raise SkipStep("subarray: no reference-pixel correction")
            return model
        if layout.refpix != "amplifier-blocks":
            raise BadInputError(f"unknown reference-pixel layout {layout.refpix!r} for {meta.instrument.name}")
        if refs.path("sirskernel") is not None:
            raise ParameterError("refpix_algorithm='sirs' is not implemented in jwcal; use 'median'")
        fastaxis, slowaxis = meta.subarray.fastaxis, meta.subarray.slowaxis
        if fastaxis is None or slowaxis is None:
            raise BadInputError("refpix needs FASTAXIS and SLOWAXIS (meta.subarray.fastaxis/slowaxis)")
        kwargs = dict(
            fastaxis=int(fastaxis), slowaxis=int(slowaxis),
            xstart=int(meta.subarray.xstart or 1), ystart=int(meta.subarray.ystart or 1),
            noutputs=meta.exposure.noutputs,
            odd_even_columns=self.odd_even_columns, use_side_ref_pixels=self.use_side_ref_pixels,
            side_smoothing_length=self.side_smoothing_length, side_gain=self.side_gain,
            siglimit=self.siglimit, refpix_algorithm="median",
            edgeless_subarray=str(meta.subarray.name or "") in layout.edgeless_subarrays,
            max_workers=threads(),
        )
        status = correct_nir(data, model.pixeldq, **kwargs)
        if status != "COMPLETE":
            raise SkipStep("Subarray doesn't fit in full-sized array")
        if meta.exposure.zero_frame and model.has("zeroframe"):
            correct_nir_zeroframe(model.zeroframe, model.pixeldq, **kwargs)
        return model
