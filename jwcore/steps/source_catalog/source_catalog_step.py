"""The ``source_catalog`` step: detect, deblend and measure the sources of an ``_i2d``.

As jwst 3.0: the i2d (MJy/sr) is converted to Jy per pixel with PIXAR_SR; pixels with NaN
error or zero weight are masked; the background (``bkg_boxsize`` meshes) is subtracted for
detection, the image is convolved with a Gaussian of ``kernel_fwhm``, and photutils'
``SourceFinder`` segments it at ``snr_threshold`` x the background RMS (``npixels``,
``connectivity``) and deblends (``deblend``, ``nlevels``, ``contrast``,
``multithresh_mode``); photometry and the columns are :func:`.catalog.build_catalog`.

Products (returned as extras, saved by the pipeline): ``cat`` -- the catalog, written as
``<product>_cat.ecsv``; ``segm`` -- the segmentation map (``SegmentationMapModel``,
``<product>_segm.fits``).  The i2d's ``meta.source_catalog`` / ``meta.segmentation_map``
name them.

References: ``apcorr`` (FITS, APCORR table) gives the aperture radii and corrections for the
``aperture_ee1..3`` encircled energies; without one (N/A) the radii are 1, 2, 3 pixels with
no correction, as jwst's fallback.  ``abvegaoffset`` (ASDF, ``abvega_offset`` table with
``abvega_offset`` = m_AB - m_Vega) gives the Vega magnitudes; without one they are NaN (jwst
writes AB values there).  The columns that select the rows of both tables (e.g. FILTER and
PUPIL) are instrument knowledge: the ``"apcorr"`` and ``"abvegaoffset"`` row keys the
instrument's plugin declares (``jwcal_reference_row_keys``; no keys: the whole APCORR table
is one configuration).
"""

from __future__ import annotations

import logging

import numpy as np

from ...datamodel.models import ArraySpec, DataModel, register_model
from ...errors import ParameterError, ReferenceFileError
from ...refs.rows import row_values
from ...runner import Param, SkipStep
from ...runner.step import Step, StepResult

log = logging.getLogger("jwcal.step.source_catalog")


@register_model
class SegmentationMapModel(DataModel):
    """Segmentation map (``_segm``): uint32 SCI, 0 = background, else the source label."""

    model_type = "SegmentationMapModel"
    array_specs = (ArraySpec("data", "SCI", "uint32", 2),)


def _row_keys(pm, meta, reftype):
    """The row-selection keys the instrument's plugin declares for ``reftype`` (``None``: none)."""
    if pm is None:
        from ...plugins import get_plugin_manager

        pm = get_plugin_manager()
    instrument = str(meta.get("instrument.name") or "").upper()
    exp_type = str(meta.get("exposure.type") or "").upper()
    return pm.hook.jwcal_reference_row_keys(instrument=instrument, reftype=reftype, exp_type=exp_type)


def _apcorr_selector(meta, table, pm=None):
    keys = _row_keys(pm, meta, "apcorr")
    if keys is None:
        inst = str(meta.get("instrument.name") or "").upper()
        raise SkipStep(f"{inst or 'unknown instrument'}: no aperture corrections for this instrument")
    return row_values(keys, meta, table)


def read_apcorr_table(path):
    """The APCORR table of an imaging APCORR reference file (FITS)."""
    from astropy.io import fits
    from astropy.table import Table

    try:
        with fits.open(path, memmap=False) as hdul:
            names = [h.name.upper() for h in hdul]
            if "APCORR" not in names:
                raise ReferenceFileError(f"{path}: no APCORR table")
            return Table(hdul["APCORR"].data).copy()
    except OSError as exc:
        raise ReferenceFileError(f"{path}: not a readable APCORR reference ({exc})") from None


def read_abvega_offset(path, meta, pm=None) -> float:
    """``m_AB - m_Vega`` for the image's configuration from an ABVEGAOFFSET reference (ASDF).

    The selecting columns are the ``"abvegaoffset"`` row keys the instrument's plugin
    declares (``jwcal_reference_row_keys``); ``pm`` is the plugin manager to ask (default:
    the process-wide one).
    """
    import asdf
    from astropy.table import Table

    keys = _row_keys(pm, meta, "abvegaoffset")
    if keys is None:
        inst = (meta.get("instrument.name") or "").upper()
        raise ReferenceFileError(f"{inst}: no AB-to-Vega offsets for this instrument")
    try:
        with asdf.open(path, lazy_load=False, memmap=False) as af:
            table = Table(af.tree["abvega_offset"])
    except (OSError, KeyError, ValueError) as exc:
        raise ReferenceFileError(f"{path}: not a readable ABVEGAOFFSET reference ({exc})") from None
    selector = row_values(keys, meta, table)
    rows = np.ones(len(table), dtype=bool)
    for key, value in selector.items():
        if key not in table.colnames:
            raise ReferenceFileError(f"{path}: column {key!r} not in the ABVEGAOFFSET table")
        rows &= np.char.strip(np.asarray(table[key]).astype(str)) == str(value).strip()
    if rows.sum() != 1:
        raise ReferenceFileError(f"{path}: {int(rows.sum())} ABVEGAOFFSET rows match {selector}")
    return float(np.asarray(table["abvega_offset"])[rows][0])


def north_angle(wcs, x, y) -> float:
    """Angle (deg) of the north direction from +x at pixel (x, y) (1-arcsec step)."""
    import astropy.units as u

    sky = wcs.pixel_to_world(x, y)
    north = sky.directional_offset_by(0.0 * u.deg, 1.0 * u.arcsec)
    x1, y1 = wcs.world_to_pixel(north)
    return float(np.rad2deg(np.arctan2(y1 - y, x1 - x)))


class SourceCatalogStep(Step):
    name = "source_catalog"
    class_alias = "SourceCatalogStep"
    description = "Detect, deblend and measure sources of the i2d: _cat.ecsv and _segm.fits"
    suffix = "cat"
    spec = (
        Param("aperture_ee1", int, 30, "Aperture encircled energy 1 (%)"),
        Param("aperture_ee2", int, 50, "Aperture encircled energy 2 (%)"),
        Param("aperture_ee3", int, 70, "Aperture encircled energy 3 (%)"),
        Param("ci1_star_threshold", float, 2.0, "CI 1 star threshold"),
        Param("ci2_star_threshold", float, 1.8, "CI 2 star threshold"),
        Param("starfinder", str, "segmentation", "Star finder", choices=("dao", "iraf", "segmentation")),
        Param("snr_threshold", float, 3.0, "SNR threshold above the background"),
        Param("bkg_boxsize", int, 1000, "Background mesh box size in pixels"),
        Param("kernel_fwhm", float, 2.0, "Gaussian kernel FWHM in pixels"),
        Param("minsep_fwhm", float, 0.0, "Minimum separation between detections in FWHM (dao/iraf)"),
        Param("sigma_radius", float, 1.5, "Kernel truncation radius in sigma (dao/iraf)"),
        Param("sharplo", float, 0.5, "Lower bound on sharpness (dao/iraf)"),
        Param("sharphi", float, 2.0, "Upper bound on sharpness (dao/iraf)"),
        Param("roundlo", float, 0.0, "Lower bound on roundness (dao/iraf)"),
        Param("roundhi", float, 0.2, "Upper bound on roundness (dao/iraf)"),
        Param("brightest", int, 200, "Keep the brightest N objects (dao/iraf)"),
        Param("peakmax", float, None, "Drop objects with a peak at or above this (dao/iraf)", nullable=True),
        Param("npixels", int, 25, "Minimum number of connected pixels"),
        Param("connectivity", int, 8, "Pixel connectivity", choices=(4, 8)),
        Param("nlevels", int, 32, "Multi-thresholding levels for deblending"),
        Param("contrast", float, 0.001, "Flux fraction a deblended object must have"),
        Param("multithresh_mode", str, "exponential", "Deblending threshold spacing",
              choices=("exponential", "linear", "sinh")),
        Param("localbkg_width", int, 0, "Local background annulus width (segment properties)"),
        Param("apermask_method", str, "correct", "Neighbour handling", choices=("correct", "mask", "none")),
        Param("kron_params", list, None, "Kron aperture parameters (2 or 3 floats)", nullable=True),
        Param("deblend", bool, True, "Deblend sources"),
    )
    reference_file_types = ("apcorr", "abvegaoffset")
    optional_references = ("apcorr", "abvegaoffset")
    saves_extras = True   # the products are the catalog and the map, not the i2d

    # -- the work --------------------------------------------------------------------------
    def _aperture_params(self, model, refs):
        from .catalog import FALLBACK_APERTURES, aperture_params

        ee = (self.aperture_ee1, self.aperture_ee2, self.aperture_ee3)
        path = refs.path("apcorr")
        if path is None:
            log.warning("No APCORR reference (N/A): apertures of 1, 2, 3 pixels without aperture correction.")
            ee_ok = np.asarray(ee)
            if not (np.all(ee_ok[1:] > ee_ok[:-1]) and np.all((ee_ok > 0) & (ee_ok < 100))):
                raise ParameterError("aperture_ee values must be strictly increasing, between 0 and 100")
            return {k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v
                    for k, v in FALLBACK_APERTURES.items()}
        table = read_apcorr_table(path)
        ratio = model.meta.get("resample.pixel_scale_ratio")
        if ratio is None:
            log.warning("meta.resample.pixel_scale_ratio not found; assuming the native pixel scale (1).")
        try:
            return aperture_params(table, ee, ratio, _apcorr_selector(model.meta, table, self.pm))
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        except LookupError as exc:
            raise SkipStep(f"{exc}; source catalog not created") from None

    def process(self, model, refs):
        from ..tweakreg.detect import find_sources
        from .catalog import build_catalog

        if model.model_type != "ImageModel":
            raise SkipStep(f"source_catalog works on an i2d ImageModel, not {model.model_type}")
        if self.kron_params is not None and len(self.kron_params) not in (2, 3):
            raise ParameterError("kron_params takes 2 or 3 values")
        aperture = self._aperture_params(model, refs)
        vega_path = refs.path("abvegaoffset")
        if vega_path is None:
            log.warning("No ABVEGAOFFSET reference (N/A): Vega magnitudes are NaN.")
            abvega = None
        else:
            abvega = read_abvega_offset(vega_path, model.meta, self.pm)
            log.info("AB to Vega magnitude offset %.5f", abvega)
        bunit = model.meta.get("bunit_data")
        if bunit not in (None, "MJy/sr"):
            raise SkipStep(f"data are in {bunit!r}; source_catalog needs MJy/sr")
        pixar = model.meta.get("photometry.pixelarea_steradians")
        if pixar is None:
            raise SkipStep("no pixel area (PIXAR_SR): cannot convert MJy/sr to Jy")
        to_jy = 1.0e6 * float(pixar)
        data = model.data * np.float32(to_jy) if model.data.dtype == np.float32 else model.data * to_jy
        err = model.err * np.float32(to_jy) if model.err.dtype == np.float32 else model.err * to_jy
        coverage = np.isnan(err)
        wht = model.wht if model.has("wht") else None
        if wht is not None:
            coverage |= wht == 0
        wcs = model.meta.get("wcs")
        kron = None if self.kron_params is None else tuple(float(v) for v in self.kron_params)
        sources, segm = find_sources(
            data, snr_threshold=self.snr_threshold, kernel_fwhm=self.kernel_fwhm, bkg_boxsize=self.bkg_boxsize,
            starfinder=self.starfinder, coverage_mask=coverage, error=err, wcs=wcs,
            sigma_radius=self.sigma_radius, min_separation=max(2, int(self.minsep_fwhm * self.kernel_fwhm + 0.5)),
            sharpness_range=(self.sharplo, self.sharphi), roundness_range=(self.roundlo, self.roundhi),
            n_brightest=self.brightest, peak_max=self.peakmax, n_pixels=self.npixels,
            connectivity=int(self.connectivity), n_levels=self.nlevels, contrast=self.contrast,
            mode=self.multithresh_mode, deblend=self.deblend, local_bkg_width=self.localbkg_width,
            aperture_mask_method=self.apermask_method, kron_params=kron, relabel=True)
        if len(sources) == 0:
            log.warning("No sources found in the image; no catalog written.")
            return model
        angle = None
        if wcs is not None:
            c1, c2 = model.meta.get("wcsinfo.crpix1"), model.meta.get("wcsinfo.crpix2")
            if c1 is None or c2 is None:
                ny, nx = model.data.shape
                c1, c2 = (nx + 1) / 2.0, (ny + 1) / 2.0
            angle = north_angle(wcs, c1 - 1.0, c2 - 1.0)
        cat = build_catalog(data, err, sources, kernel_fwhm=self.kernel_fwhm, aperture=aperture,
                            abvega_offset=abvega, wcs=wcs, sky_angle_deg=angle,
                            ci_star_thresholds=(self.ci1_star_threshold, self.ci2_star_threshold))
        cat.meta.update({k: v for k, v in getattr(sources, "meta", {}).items() if k in ("localbkg_width",
                         "apermask_method", "kron_params")})
        import astropy
        import photutils

        from ... import __version__

        cat.meta["versions"] = {"numpy": np.__version__, "astropy": astropy.__version__,
                                "photutils": photutils.__version__, "jwcal": __version__}
        cat.meta["aperture_params"] = aperture
        cat.meta["abvega_offset"] = None if abvega is None else float(abvega)
        log.info("Source catalog: %d sources", len(cat))
        extras = {"cat": cat}
        if segm is not None:
            smap = SegmentationMapModel(data=np.asarray(segm.data).astype(np.uint32))
            smap.copy_meta_from(model)
            for key in ("bunit_data", "bunit_err"):
                smap.tree["meta"].pop(key, None)
            extras["segm"] = smap
        self._name_products(model, extras)
        return StepResult(model, extras)

    def _name_products(self, model, extras):
        from pathlib import Path

        from ...runner.naming import output_name

        ctx = self.context
        source = ctx.input_path if ctx is not None and ctx.input_path else (model.meta.get("filename") or "jwcal.fits")
        output_file = self.output_file or (ctx.output_file if ctx is not None else None)
        model.meta.set("source_catalog", output_name(Path(str(source)).name, "cat", ".ecsv", output_file))
        if "segm" in extras:
            model.meta.set("segmentation_map", output_name(Path(str(source)).name, "segm", ".fits", output_file))
