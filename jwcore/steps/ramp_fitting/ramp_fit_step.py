"""``ramp_fit`` step: fit the ramps (OLS, optimal weighting) into rate and rateints products."""

from __future__ import annotations

import numpy as np

from ... import dq
from ...datamodel import CubeModel, DataModel, ImageModel
from ...datamodel.models import ArraySpec, register_model
from ...errors import BadInputError, ParameterError, ReferenceFileError
from ...runner import Param, StepResult
from .._refs import cutout
from .._stepbase import RampStep, threads_for
from .likely import LIKELY_MIN_NGROUPS, fit_ramps_likely  # below LIKELY_MIN_NGROUPS: OLS_C
from .ols import fit_ramps

__all__ = ["RampFitStep", "RampFitOutputModel", "flag_group_range"]


@register_model
class RampFitOutputModel(DataModel):
    """The optional per-segment product of ramp fitting (``_fitopt``), laid out as jwst's."""

    model_type = "RampFitOutputModel"
    primary = "slope"
    array_specs = (
        ArraySpec("slope", "SLOPE", "float32", default=None),
        ArraySpec("sigslope", "SIGSLOPE", "float32", default=None),
        ArraySpec("var_poisson", "VAR_POISSON", "float32", default=None),
        ArraySpec("var_rnoise", "VAR_RNOISE", "float32", default=None),
        ArraySpec("yint", "YINT", "float32", default=None),
        ArraySpec("sigyint", "SIGYINT", "float32", default=None),
        ArraySpec("pedestal", "PEDESTAL", "float32", default=None),
        ArraySpec("weights", "WEIGHTS", "float32", default=None),
        ArraySpec("crmag", "CRMAG", "float32", default=None),
    )


def flag_group_range(groupdq, firstgroup, lastgroup, log=None) -> None:
    """DO_NOT_USE on the groups before ``firstgroup`` and after ``lastgroup`` (0-based), in place,
    with ``jwst``'s corrections of out-of-range values (a crossed pair is ignored)."""
    ngroups = groupdq.shape[1]
    first = 0 if firstgroup is None else int(firstgroup)
    last = ngroups - 1 if lastgroup is None else int(lastgroup)
    if first < 0:
        first = 0
    if first >= last:
        if log is not None:
            log.warning("firstgroup (%s) cannot be >= lastgroup (%s); group selectors ignored", first, last)
        first, last = 0, ngroups - 1
    dnu = np.uint8(dq.DO_NOT_USE)
    if first > 0:
        groupdq[:, :first] |= dnu
    if last < ngroups - 1:
        groupdq[:, last + 1:] |= dnu


class RampFitStep(RampStep):
    """Fit the ramps with :func:`jwcore.steps.ramp_fitting.fit_ramps` (OLS_C, optimal weighting)
    or, with ``algorithm="LIKELY"``, :func:`jwcore.steps.ramp_fitting.fit_ramps_likely`.

    Returns the ``rate`` ImageModel (SCI, DQ, ERR, VAR_POISSON, VAR_RNOISE in DN/s) with the
    per-integration ``rateints`` CubeModel (with INT_TIMES) as the extra product, as ``jwst``
    does (whatever NINTS).  GAIN and READNOISE are cut to the subarray; a GAINFACT in the gain
    reference is copied to ``meta.exposure.gain_factor`` for ``gain_scale``.  ``firstgroup`` /
    ``lastgroup`` mark the groups outside them DO_NOT_USE first.  With ``save_opt`` the
    per-segment ``fitopt`` product is written (named after ``opt_name`` if given).  Detectors
    whose readout layout says ``trim_unused_groups`` (MIRI) drop all-DO_NOT_USE edge groups.
    A ZEROFRAME in the ramp (kept through stage 1, zeroed by ``saturation`` where unusable)
    is used, with ``suppress_one_group=False`` (or one-group data), for ramps that have no
    clean group, e.g. saturated from the first group on (see
    :mod:`jwcore.steps.ramp_fitting.ols`).  Unlike stcal 1.20, which hands a big-endian
    ZEROFRAME (a saved float32 ``_ramp.fits``) to its C code unswapped and misreads it, the
    values are used whatever the byte order.

    LIKELY (the likelihood fit, :mod:`jwcore.steps.ramp_fitting.likely`) is also used, as by
    ``jwst``, for exposures with explicit ``read_times``; with fewer than four groups OLS_C
    is used instead.  It ignores ``suppress_one_group`` and MIRI edge-group trimming, uses
    the ZEROFRAME when the first group has two or more frames, and with ``save_opt`` writes
    the chi-square image (``likely_chisq``) instead of ``fitopt``.

    Not implemented: the IFU image type for NRS_IFU / MIR_MRS (the rate is an ImageModel).
    When every ramp starts saturated there is nothing to fit and ``jwst`` writes no rate
    (OLS_C): jwcal raises an error saying so.
    """

    name = "ramp_fit"
    class_alias = "ramp_fit"
    description = "Fit ramp data to determine the mean count rate"
    spec = (
        Param("algorithm", str, "OLS_C", "", choices=("OLS_C", "LIKELY")),
        Param("int_name", str, "", ""),
        Param("save_opt", bool, False, "Save optional output"),
        Param("opt_name", str, "", ""),
        Param("suppress_one_group", bool, True, "Suppress saturated ramps with good 0th group"),
        Param("firstgroup", int, None, "Ignore groups before this one (zero indexed)", nullable=True),
        Param("lastgroup", int, None, "Ignore groups after this one (zero indexed)", nullable=True),
        Param("maximum_cores", str, "1",
              "cores for multiprocessing. Can be an integer, 'half', 'quarter', or 'all'"),
    )
    reference_file_types = ("readnoise", "gain")

    def process(self, model, refs):
        meta = model.meta
        shape = model.data.shape
        algorithm = self.algorithm.upper()
        read_times = meta.get("exposure.read_times")
        if read_times is None or len(read_times) == 0:
            read_times = None
        if read_times is not None and algorithm != "LIKELY":
            self.log.warning("Setting the algorithm to LIKELY for unevenly sampled exposure")
            algorithm = "LIKELY"
        if algorithm == "LIKELY" and shape[1] < LIKELY_MIN_NGROUPS:
            self.log.info("LIKELY needs at least %d groups; using OLS_C", LIKELY_MIN_NGROUPS)
            algorithm = "OLS_C"
        if algorithm not in ("OLS_C", "LIKELY"):
            raise ParameterError(f"ramp_fit algorithm must be OLS_C or LIKELY, not {self.algorithm!r}")

        rn_ref = self.require(refs, "readnoise")
        gain_ref = self.require(refs, "gain")
        factor = gain_ref.meta.get("exposure.gain_factor")
        if factor is not None:
            meta.exposure.gain_factor = factor
        readnoise = cutout(rn_ref.data, rn_ref.meta, meta, shape)
        gain = cutout(gain_ref.data, gain_ref.meta, meta, shape)
        # a NaN or non-positive value marks one bad pixel (flagged, as jwst does); a reference
        # with no usable value at all over the exposure would only give an all-NaN product
        if not np.any(np.isfinite(gain) & (gain > 0)):
            raise ReferenceFileError(f"GAIN reference {refs.path('gain')}: no finite, positive gain over "
                                     "the exposure's pixels")
        if not np.any(np.isfinite(readnoise)):
            raise ReferenceFileError(f"READNOISE reference {refs.path('readnoise')}: no finite value over "
                                     "the exposure's pixels")

        if self.firstgroup is not None or self.lastgroup is not None:
            flag_group_range(model.groupdq, self.firstgroup, self.lastgroup, self.log)

        dark = model.average_dark_current if model.has("average_dark_current") else None
        zeroframe = model.zeroframe if model.has("zeroframe") else None
        if algorithm == "LIKELY":
            self.log.info("Using algorithm = LIKELY")
            result = fit_ramps_likely(
                model.data, model.groupdq, model.pixeldq, readnoise, gain,
                frame_time=meta.exposure.frame_time, nframes=meta.exposure.nframes or 1,
                groupgap=meta.exposure.groupgap or 0, read_times=read_times,
                average_dark_current=dark, zeroframe=zeroframe,
                max_workers=threads_for(self.maximum_cores),
            )
            rate = self._product(ImageModel, model, result.image)
            rateints = self._product(CubeModel, model, result.integ)
            if model.has("int_times"):
                rateints.int_times = model.int_times
            if self.save_opt:
                self._save_chisq(model, result.chisq)
            return StepResult(rate, {"rateints": rateints})

        layout = self.layout(model)
        result = fit_ramps(
            model.data, model.groupdq, model.pixeldq, readnoise, gain,
            frame_time=meta.exposure.frame_time, group_time=meta.exposure.group_time,
            nframes=meta.exposure.nframes or 1, groupgap=meta.exposure.groupgap or 0,
            dropframes1=meta.exposure.drop_frames1, suppress_one_group=self.suppress_one_group,
            save_opt=self.save_opt, max_workers=threads_for(self.maximum_cores),
            average_dark_current=dark,
            # fit_ramps trims all-DO_NOT_USE edge groups for instrument "MIRI"; the layout decides
            trim_unused_groups=layout.trim_unused_groups,
            # as jwst: whenever the ramp carries a ZEROFRAME (only used without suppression)
            zeroframe=zeroframe,
        )
        if result.image is None:
            raise BadInputError("ramp_fit: no ramp can be fitted (every first group is saturated, or too "
                                "few usable groups); jwst writes no rate product either")
        rate = self._product(ImageModel, model, result.image)
        rateints = self._product(CubeModel, model, result.integ)
        if model.has("int_times"):
            rateints.int_times = model.int_times
        if result.opt is not None:
            self._save_opt(model, result.opt)
        return StepResult(rate, {"rateints": rateints})

    @staticmethod
    def _product(cls, ramp, fit):
        out = cls(data=fit.slope)
        out.copy_meta_from(ramp)
        out.dq = fit.dq
        out.err = fit.err
        out.var_poisson = fit.var_poisson
        out.var_rnoise = fit.var_rnoise
        out.meta.bunit_data = "DN/s"
        out.meta.bunit_err = "DN/s"
        return out

    def _save_opt(self, ramp, opt):
        product = RampFitOutputModel(**{name: getattr(opt, name) for name in opt._fields})
        product.copy_meta_from(ramp)
        self._save_extra(product, "fitopt")

    def _save_chisq(self, ramp, chisq):
        """LIKELY's optional product: the exposure's chi-square image (``likely_chisq``)."""
        product = ImageModel(data=chisq)
        product.copy_meta_from(ramp)
        self._save_extra(product, "likely_chisq")

    def _save_extra(self, product, suffix):
        from ...runner.naming import output_path

        ctx = self.context
        if self.opt_name:
            folder = self.output_dir or (ctx.output_dir if ctx else None) or "."
            path = output_path(self.opt_name, suffix, folder)
            product.save(path)
            self.log.info("Saved %s", path)
        elif ctx is not None:
            ctx.save(product, suffix, step=self)
