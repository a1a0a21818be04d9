"""The ``resample`` step: drizzle exposures onto a distortion-free grid (the ``_i2d``).

Input: a stage-3 library (image3: all members onto one mosaic) or one 2-D ``ImageModel``
(image2's single-exposure ``_i2d``).  Members are opened one at a time and drizzled into
output-sized accumulators (:mod:`.coadd`), so memory follows the mosaic size.

In image2 the pipeline's product is the ``_cal`` exposure and the ``_i2d`` an extra product:
with ``extra_product=True`` (image2 sets it) the step returns the input unchanged and the
mosaic as ``StepResult(model, extras={"i2d": i2d})``; the pipeline saves both.

``single=True`` (jwst's outlier-detection mode) drizzles each exposure group onto the common
grid separately, writes ``<member>_<asn_id>_outlier_i2d.fits`` files and returns a library
of them.  ``in_memory`` is accepted for jwst parameter files; jwcal keeps exposures on disk
either way.
"""

from __future__ import annotations

from ...errors import BadInputError, ParameterError
from ...runner import Param, SkipStep
from ...runner.step import Step, StepResult
from .coadd import KERNELS
from .libview import LibraryView, group_indices, is_library, member_base, member_summary

IMAGE_EXPTYPES = ("MIR_IMAGE", "NRC_IMAGE", "NIS_IMAGE", "FGS_IMAGE")


class _OneModel:
    """A one-member library around an in-memory model.

    Members are working models that share the input's arrays (read-only) and metadata
    copies; NaNs and DO_NOT_USE are matched on opening (:func:`match_nans_and_flags`), with
    a changed copy only of an array that needs a change, so the input stays as it was
    (image2 writes it as the ``_cal`` after resample).
    """

    nans_matched = True     # drizzle_members need not match NaNs and flags again

    def __init__(self, model):
        self.model = model
        self.paths = [model.meta.filename or "input.fits"]
        self.members = None
        self._arrays = None

    def __len__(self):
        return 1

    def peek_meta(self, index):
        meta = self.model.meta.to_dict()
        info = meta.setdefault("wcsinfo", {})
        if not info.get("s_region") and meta.get("wcs") is not None:
            from ...wcs.fitsapprox import s_region

            info["s_region"] = s_region(meta["wcs"], self.model.data.shape)
        return meta

    def open(self, index):
        from contextlib import nullcontext

        from ...datamodel import ImageModel
        from .libview import match_nans_and_flags

        if index != 0:
            raise IndexError(index)
        src = self.model
        if self._arrays is None:
            work = ImageModel(data=src.data)
            for name in ("dq", "err", "var_rnoise", "var_poisson", "var_flat"):
                if src.has(name):
                    setattr(work, name, getattr(src, name))
            match_nans_and_flags(work, copy_on_write=True)
            self._arrays = {name: getattr(work, name) for name in ("data", "dq", "err", "var_rnoise", "var_poisson",
                                                                   "var_flat") if work.has(name)}
        work = ImageModel(**self._arrays)
        work.copy_meta_from(src)
        return nullcontext(work)


def _pair(value, name, cast, minimum=None):
    """A 2-element list parameter (``None``, or both values)."""
    if value is None:
        return None
    vals = list(value)
    if len(vals) != 2:
        raise ParameterError(f"{name} must have exactly two values")
    if all(v is None or (isinstance(v, str) and v.strip().lower() in ("none", "")) for v in vals):
        return None
    try:
        vals = [cast(v) for v in vals]
    except (TypeError, ValueError):
        raise ParameterError(f"{name}: {value!r} is not a pair of numbers") from None
    if minimum is not None and any(v < minimum for v in vals):
        raise ParameterError(f"{name} values must be >= {minimum}")
    return vals


class ResampleStep(Step):
    name = "resample"
    class_alias = "ResampleStep"
    suffix = "i2d"
    description = "Drizzle exposures onto a distortion-corrected grid (_i2d)"
    spec = (
        Param("pixfrac", float, 1.0, "Pixel shrink factor (0-1)"),
        Param("kernel", str, "square", "Drizzle kernel", choices=KERNELS),
        Param("fillval", str, "NAN", "Value of output pixels that got no input"),
        Param("weight_type", str, "ivm", "Input weighting: ivm (1/VAR_RNOISE) or exptime",
              choices=("ivm", "exptime"), nullable=True),
        Param("output_shape", list, None, "Output shape [nx, ny]", nullable=True),
        Param("crpix", list, None, "0-based reference pixel [x, y] of the output", nullable=True),
        Param("crval", list, None, "RA, Dec (deg) of the reference pixel", nullable=True),
        Param("rotation", float, None, "PA of the output Y axis (deg; None: the detector's)", nullable=True),
        Param("pixel_scale_ratio", float, 1.0, "Output / input pixel scale"),
        Param("pixel_scale", float, None, "Output pixel scale in arcsec (overrides the ratio)", nullable=True),
        Param("output_wcs", str, "", "ASDF file with a custom output WCS (overrides the above)"),
        Param("single", bool, False, "Resample each exposure group to its own image on the common grid"),
        Param("blendheaders", bool, True, "Combine the inputs' exposure times in the output metadata"),
        Param("in_memory", bool, True, "Accepted for jwst compatibility (jwcal keeps inputs on disk)"),
        Param("enable_ctx", bool, True, "Compute the context (CON) array"),
        Param("enable_err", bool, True, "Compute ERR (from the resampled variances)"),
        Param("report_var", bool, True, "Write VAR_RNOISE, VAR_POISSON, VAR_FLAT"),
        Param("propagate_dq", bool, False, "OR the input DQ of contributing pixels into an output DQ"),
        Param("pixmap_stepsize", float, 1.0, "WCS evaluated every this many pixels (interpolated between)"),
        Param("pixmap_order", int, 1, "Spline order of the pixel-map interpolation", choices=(1, 3)),
        Param("extra_product", bool, False,
              "Return the input unchanged with the i2d as an extra product (how image2 writes _i2d)"),
    )
    reference_file_types = ()

    # -- parameters ------------------------------------------------------------------------
    def coadd_options(self, *, single=False) -> dict:
        from .resample import GOOD_BITS

        if not 0.0 <= self.pixfrac <= 1.0:
            raise ParameterError("pixfrac must be between 0 and 1")
        if single:
            enable_var, compute_err = False, "driz_err"
        elif self.enable_err:
            enable_var, compute_err = True, "from_var"
        else:
            enable_var, compute_err = False, None
        return dict(kernel=self.kernel, pixfrac=self.pixfrac, fillval=self.fillval, weight_type=self.weight_type,
                    good_bits=GOOD_BITS, enable_ctx=self.enable_ctx, enable_var=enable_var, compute_err=compute_err,
                    propagate_dq=self.propagate_dq, pixmap_stepsize=self.pixmap_stepsize,
                    pixmap_order=self.pixmap_order)

    def grid_options(self) -> dict:
        from .resample import load_custom_wcs

        shape = _pair(self.output_shape, "output_shape", int, minimum=1)
        custom = load_custom_wcs(self.output_wcs, shape) if self.output_wcs else None
        return dict(pixel_scale_ratio=self.pixel_scale_ratio, pixel_scale=self.pixel_scale, rotation=self.rotation,
                    output_shape=None if shape is None else shape[::-1], crpix=_pair(self.crpix, "crpix", float),
                    crval=_pair(self.crval, "crval", float), custom_wcs=custom)

    # -- the work --------------------------------------------------------------------------
    def process(self, model, refs):
        if is_library(model):
            library = LibraryView(model)     # keeps the members' summaries between passes
        elif getattr(model, "model_type", None) == "ImageModel" and model.data.ndim == 2:
            if self.extra_product:
                _check_single(model)
            library = _OneModel(model)
        elif self.extra_product:
            raise SkipStep(f"resample makes an _i2d only from 2-D images, not a {getattr(model, 'model_type', model)}")
        else:
            raise BadInputError(f"resample needs a 2-D ImageModel or an association, not {model!r}")
        if len(library) == 0:
            raise BadInputError("resample: no input exposures")
        if self.single:
            return self.resample_single(library)
        i2d = self.resample_many_to_one(library)
        if self.extra_product and not is_library(model):
            return StepResult(model, extras={"i2d": i2d})
        return i2d

    def _setup(self, library, single=False):
        from .resample import output_grid

        metas = [member_summary(library, i) for i in range(len(library))]
        groups = group_indices(library, metas)
        gid = {i: g for g, idx in groups.items() for i in idx}
        with library.open(0) as first:
            grid = output_grid(first, metas, **self.grid_options())
        self.log.info("Output mosaic: %s pixels (nx, ny) at %.6g arcsec, pixel scale ratio %s",
                      grid.wcs.pixel_shape, grid.pixel_scale, grid.pixel_scale_ratio)
        return metas, groups, gid, grid

    def resample_many_to_one(self, library):
        """All members onto one mosaic: the ``_i2d`` ImageModel."""
        from .resample import combined_sregion, drizzle_members, footprints_of, mosaic_model

        metas, groups, gid, grid = self._setup(library)
        result, first_meta = drizzle_members(library, range(len(library)), grid, gid, **self.coadd_options())
        asn = _asn_info(library)
        model = mosaic_model(result, first_meta, grid, kernel=self.kernel, pixfrac=self.pixfrac, fillval=self.fillval,
                             weight_type=self.weight_type, report_var=self.report_var and self.enable_err,
                             sregion=combined_sregion(footprints_of(metas), grid.wcs), asn=asn)
        product = getattr(getattr(library, "product", None), "name", None)
        if product:
            model.meta.filename = f"{product}_{self.output_suffix}.fits"
        return model

    def resample_single(self, library):
        """Each exposure group onto the common grid; written as ``_outlier_i2d`` files."""
        from ...asn import from_list
        from ...library import ModelLibrary
        from .resample import drizzle_members, mosaic_model

        metas, groups, gid, grid = self._setup(library, single=True)
        paths = []
        for indices in groups.values():
            result, first_meta = drizzle_members(library, indices, grid, gid, **self.coadd_options(single=True))
            model = mosaic_model(result, first_meta, grid, kernel=self.kernel, pixfrac=self.pixfrac,
                                 fillval=self.fillval, weight_type=self.weight_type, report_var=False)
            paths.append(self.context.save(model, "outlier_i2d", step=self, base=member_base(library, indices[0])))
        folder = paths[0].parent
        asn = from_list([p.name for p in paths], product_name="outlier_i2d")
        asn.path = folder / "outlier_i2d_asn.json"
        return ModelLibrary(asn)


def _check_single(model) -> None:
    """image2: skip (rather than fail) the optional _i2d when the exposure cannot be drizzled."""
    meta = model.meta
    if str(meta.exposure.type or "").upper() not in IMAGE_EXPTYPES:
        raise SkipStep(f"no single-exposure _i2d for EXP_TYPE {meta.exposure.type}")
    if meta.wcs is None:
        raise SkipStep("no WCS: no single-exposure _i2d")
    missing = [k for k in ("roll_ref", "v3yangle", "vparity", "ra_ref", "dec_ref") if meta.get(f"wcsinfo.{k}") is None]
    t = meta.get("exposure.exposure_time")
    if missing or not t or t <= 0:
        raise SkipStep("exposure lacks " + ", ".join(missing + ([] if t and t > 0 else ["EFFEXPTM"]))
                       + ": no single-exposure _i2d")


def _asn_info(library) -> dict:
    association = getattr(library, "association", None)
    if association is None:
        return {}
    path = getattr(association, "path", None)
    return {"pool_name": getattr(association, "asn_pool", None),
            "table_name": path.name if path is not None else None}
