"""The ``outlier_detection`` step (imaging): flag cosmic rays and other outliers in the DQ of
each exposure by comparison with the median of all exposures.

1. Each exposure group (or exposure) is drizzled onto a common grid (``resample_data=True``)
   and its low-weight pixels (below ``maskpt`` x the clipped mean weight) are set to NaN; the
   image goes to a scratch file on disk (:class:`.median.DiskMedian`), not into memory.
2. The median of those images is taken row block by row block.
3. The median is blotted back onto every exposure, which is flagged DO_NOT_USE + OUTLIER where
   it departs from it by more than the ``snr``/``scale`` thresholds (see :mod:`.outlier`);
   SCI/ERR/VAR_* become NaN there.  Flags are kept as a sparse patch of the library
   (:class:`~jwcore.steps.resample.libview.LibraryView`), and with ``save_results`` every
   exposure is written as ``<member>_<asn_id>_crf.fits``.

Peak memory: the median and one exposure's arrays (plus one output-sized drizzle accumulator
while the group images are made) regardless of the number of exposures.  ``in_memory`` is
accepted for jwst parameter files; jwcal keeps the resampled images on disk either way.
"""

from __future__ import annotations

import numpy as np

from ... import dq as dqflags
from ...errors import BadInputError, ParameterError
from ...runner import Param, SkipStep, Step
from ..resample.coadd import KERNELS
from ..resample.libview import LibraryView, group_indices, is_library, member_base, member_summary

IMAGE_MODES = ("NRC_IMAGE", "MIR_IMAGE", "NRS_IMAGE", "NIS_IMAGE", "FGS_IMAGE")
OUTLIER_FLAGS = dqflags.DO_NOT_USE | dqflags.OUTLIER


def _pair(text, name):
    try:
        a, b = (float(v) for v in str(text).replace(",", " ").split())
    except ValueError:
        raise ParameterError(f"{name} must be two numbers, e.g. '5.0 4.0' (got {text!r})") from None
    return a, b


class OutlierDetectionStep(Step):
    """Flag outliers in every imaging exposure of a library against the median of all of them
    (see the module docstring); SKIPPED with fewer than two exposures."""

    name = "outlier_detection"
    class_alias = "OutlierDetectionStep"
    suffix = "crf"
    description = "Flag outliers (cosmic rays) in each exposure against the median of all exposures"
    spec = (
        Param("weight_type", str, "ivm", "Weighting of the resampled images", choices=("ivm", "exptime")),
        Param("pixfrac", float, 1.0, "Drizzle pixel shrink factor"),
        Param("kernel", str, "square", "Drizzle kernel", choices=("square", "point", "turbo")),
        Param("fillval", str, "NAN", "Value of resampled pixels that got no input"),
        Param("maskpt", float, 0.7, "Ignore resampled pixels with weight below maskpt x mean weight"),
        Param("snr", str, "5.0 4.0", "S/N thresholds before and after the 3x3 growth"),
        Param("scale", str, "1.2 0.7", "Scale factors of the median's derivative, same two passes"),
        Param("backg", float, 0.0, "Background added to the blotted median (if no level is recorded)"),
        Param("kernel_size", str, "7 7", "IFU only (accepted, unused)"),
        Param("threshold_percent", float, 99.8, "IFU only (accepted, unused)"),
        Param("rolling_window_width", int, 25, "TSO only (accepted, unused)"),
        Param("ifu_second_check", bool, False, "IFU only (accepted, unused)"),
        Param("save_intermediate_results", bool, False, "Write the _outlier_i2d, _median and _blot images"),
        Param("resample_data", bool, True, "Resample to a common grid before the median"),
        Param("good_bits", str, "~DO_NOT_USE", "DQ bits of usable pixels (jwst good-bits syntax)"),
        Param("in_memory", bool, True, "Accepted for jwst compatibility (jwcal keeps the images on disk)"),
        Param("pixmap_stepsize", float, 1.0, "WCS evaluated every this many pixels (interpolated between)"),
        Param("pixmap_order", int, 1, "Spline order of the pixel-map interpolation", choices=(1, 3)),
    )
    reference_file_types = ()

    def process(self, model, refs):
        if not is_library(model):
            raise BadInputError("outlier_detection needs an association (a library of exposures)")
        if self.kernel not in KERNELS:
            raise ParameterError(f"unknown kernel {self.kernel!r}")
        snr1, snr2 = _pair(self.snr, "snr")
        scale1, scale2 = _pair(self.scale, "scale")
        view = LibraryView(model)
        summaries = [member_summary(view, i) for i in range(len(view))]
        modes = {str(s.get("exp_type") or "").upper() for s in summaries}
        if not modes <= set(IMAGE_MODES):
            raise SkipStep(f"outlier_detection handles imaging modes only, not {', '.join(sorted(modes))}")
        if len(view) < 2:
            raise SkipStep(f"Input has {len(view)} exposure(s); outlier detection skipped")
        if self.resample_data:
            median, median_wcs = self._median_resampled(view, summaries)
        else:
            median, median_wcs = self._median_direct(view), None
        if self.save_intermediate_results:
            self._save_image(view, median, median_wcs, "median", 0)
        total = 0
        for i in range(len(view)):
            with view.open(i) as exposure:
                mask = self._flag(exposure, median, median_wcs, snr1, snr2, scale1, scale2, view, i)
            n = int(np.count_nonzero(mask))
            total += n
            self.log.info("%s: %d pixels marked as outliers", summaries[i]["filename"], n)
            view.flag(i, mask, OUTLIER_FLAGS)
        self.log.info("%d outlier pixels in %d exposures", total, len(view))
        return view

    # -- the median ---------------------------------------------------------------------------
    def _median_resampled(self, view, summaries):
        from ...parallel import threads
        from ..resample.resample import drizzle_members, mosaic_model, output_grid
        from .median import DiskMedian
        from .outlier import weight_threshold

        groups = group_indices(view, summaries)
        gid = {i: g for g, idx in groups.items() for i in idx}
        with view.open(0) as first:
            grid = output_grid(first, summaries)
        shape = tuple(grid.wcs.array_shape)
        self.log.info("Median of %d resampled group(s) on a %s grid", len(groups), shape[::-1])
        stack = DiskMedian(shape, len(groups), tempdir=self._scratch_dir(), threads=threads())
        for indices in groups.values():
            result, first_meta = drizzle_members(
                view, indices, grid, gid, match_nans=False, kernel=self.kernel, pixfrac=self.pixfrac,
                fillval=self.fillval, weight_type=self.weight_type, good_bits=self.good_bits, enable_ctx=False,
                enable_var=False, compute_err=None, pixmap_stepsize=self.pixmap_stepsize,
                pixmap_order=self.pixmap_order)
            data, wht = result["data"], result["wht"]
            data[wht < weight_threshold(wht, self.maskpt)] = np.nan
            if self.save_intermediate_results:
                m = mosaic_model(result, first_meta, grid, kernel=self.kernel, pixfrac=self.pixfrac,
                                 fillval=self.fillval, weight_type=self.weight_type, report_var=False)
                self.context.save(m, "outlier_i2d", step=self, base=member_base(view, indices[0]))
                del m
            stack.append(data)
            del result, data, wht, first_meta
        return stack.median(), grid.wcs

    def _median_direct(self, view):
        from ...parallel import threads
        from ..resample.coadd import driz_weight, interpret_good_bits, measurement_time
        from .median import DiskMedian
        from .outlier import weight_threshold

        good_bits = interpret_good_bits(self.good_bits)
        stack = None
        for i in range(len(view)):
            with view.open(i) as m:
                data = np.array(m.data, dtype=np.float32, copy=True)
                t, _ = measurement_time(m.meta.exposure.exposure_time, m.meta.exposure.measurement_time)
                weight = driz_weight(m.dq, good_bits, self.weight_type,
                                     m.var_rnoise if m.has("var_rnoise") else None, t)
            if stack is None:
                stack = DiskMedian(data.shape, len(view), tempdir=self._scratch_dir(), threads=threads())
            data[weight < weight_threshold(weight, self.maskpt)] = np.nan
            stack.append(data)
            del data, weight
        return stack.median()

    def _scratch_dir(self):
        """Scratch files go next to the outputs (the output folder), else the system temp dir."""
        import tempfile
        from pathlib import Path

        folder = self.output_dir or (self.context.output_dir if self.context is not None else None)
        if folder and Path(folder).is_dir():
            return str(folder)
        return tempfile.gettempdir()

    # -- flagging -----------------------------------------------------------------------------
    def _flag(self, exposure, median, median_wcs, snr1, snr2, scale1, scale2, view, index):
        from .outlier import blot_median, flag_crs, flag_resampled_crs

        if median_wcs is None:
            return flag_crs(exposure.data, exposure.err, median, snr1)
        blot = blot_median(median, median_wcs, exposure.data.shape, exposure.meta.wcs,
                           self.pixmap_stepsize, self.pixmap_order)
        if self.save_intermediate_results:
            self._save_blot(view, index, exposure, blot)
        backg = self.backg
        bkg = exposure.meta.background
        if bkg.subtracted is False and bkg.level is not None:
            backg = bkg.level
        return flag_resampled_crs(exposure.data, exposure.err, blot, snr1, snr2, scale1, scale2, backg)

    def _save_image(self, view, data, wcs, suffix, index):
        from ...datamodel import ImageModel

        m = ImageModel(data=data)
        with view.open(index) as first:
            m.copy_meta_from(first)
        if wcs is not None:
            m.meta.wcs = wcs
        self.context.save(m, suffix, step=self, base=member_base(view, index))

    def _save_blot(self, view, index, exposure, blot):
        from ...datamodel import ImageModel

        m = ImageModel(data=blot)
        m.copy_meta_from(exposure)
        self.context.save(m, "blot", step=self, base=member_base(view, index))
