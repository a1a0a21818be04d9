"""The ``tweakreg`` step: align the exposures of a stage-3 association.

One pass over the :class:`~jwcore.library.ModelLibrary` opens each exposure once, finds its
point sources (:mod:`.detect`) and keeps only the catalog, the sky positions the exposure's
WCS gives them and the WCS itself; the alignment (:mod:`.align`) is pure arithmetic on those.
The result is a :class:`~jwcore.steps.resample.libview.LibraryView` of the input library
with metadata patches (the input library and files are not changed): each aligned exposure
gets a WCS with the ``v2v3corr`` tangent-plane correction (:mod:`.tangent`), a new
``S_REGION`` and the FITS SIP approximation in ``meta.wcsinfo``; every exposure gets
``S_TWEAKRG`` (``meta.cal_step.tweakreg``: COMPLETE, or SKIPPED when nothing could be
aligned).  Later steps that open the members see the new WCS.

Parameters are jwst 3.0's ``TweakRegStep`` parameters with the same defaults.  Not
implemented: ``abs_refcat`` names of online catalogs (``GAIADR3``...; a local ECSV/FITS file
with RA/Dec columns works), and per-source weights.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ...errors import ParameterError
from ...runner import Param, SkipStep, Step
from ..resample.libview import LibraryView, is_library

log = logging.getLogger("jwcal.step.tweakreg")

GEOMETRIES = ("shift", "rshift", "rscale", "general")
ONLINE_CATALOGS = ("GAIAREFCAT", "GAIADR3", "GAIADR2", "GAIADR1")


def group_id_of(model, member=None, index: int = 0) -> str:
    """jwst's exposure group: ``meta.group_id``, the association member's ``group_id``, or
    ``jw<program><obs><visit>_<visitgroup><seq><activity>_<exposure>``."""
    gid = model.meta.get("group_id")
    if gid:
        return str(gid)
    if member is not None and member.extra.get("group_id"):
        return str(member.extra["group_id"])
    obs = model.meta.get("observation") or {}
    keys = ("program_number", "observation_number", "visit_number", "visit_group", "sequence_id",
            "activity_id", "exposure_number")
    if all(obs.get(k) is not None for k in keys):
        return (f"jw{obs['program_number']}{obs['observation_number']}{obs['visit_number']}"
                f"_{obs['visit_group']}{obs['sequence_id']}{obs['activity_id']}_{obs['exposure_number']}")
    return f"exposure{index}"


def read_reference_catalog(path) -> "tuple[np.ndarray, np.ndarray]":
    """RA, Dec (deg) of an ECSV/FITS catalog with ``RA``/``DEC`` (any case) or ``sky_centroid``."""
    from astropy.table import Table

    from ...errors import BadInputError

    try:
        table = Table.read(path)
    except Exception as exc:
        raise BadInputError(f"abs_refcat {path}: cannot read the catalog ({exc})") from None
    upper = {c.upper(): c for c in table.colnames}
    if "RA" in upper and "DEC" in upper:
        ra, dec = table[upper["RA"]], table[upper["DEC"]]
    elif "SKY_CENTROID" in upper:
        sky = table[upper["SKY_CENTROID"]]
        ra, dec = sky.ra.deg, sky.dec.deg
    else:
        raise BadInputError(f"abs_refcat {path}: the catalog has neither RA/DEC nor sky_centroid columns")
    ra = np.asarray(getattr(ra, "value", ra), dtype=float)
    dec = np.asarray(getattr(dec, "value", dec), dtype=float)
    ok = np.isfinite(ra) & np.isfinite(dec)
    return ra[ok], dec[ok]


def exposure_record(model, table, name: str, group_id: str):
    """An :class:`~.align.Exposure` from an opened model and its source table (x, y, id)."""
    from .align import Exposure
    from .tangent import RAD2ARCSEC, TangentPlane, existing_correction, sky_rotation

    wcs = model.meta.wcs
    x = np.asarray(table["x"], dtype=float)
    y = np.asarray(table["y"], dtype=float)
    bbox = wcs.bounding_box
    if bbox is not None:
        box = bbox.bounding_box(order="F") if hasattr(bbox, "bounding_box") else bbox
        (x0, x1), (y0, y1) = [tuple(float(v) for v in iv) for iv in box]
        keep = (x > x0) & (x < x1) & (y > y0) & (y < y1)
        x, y, ids = x[keep], y[keep], np.asarray(table["id"])[keep]
    else:
        ids = np.asarray(table["id"])
        ny, nx = model.data.shape[-2:]
        (x0, x1), (y0, y1) = (-0.5, nx - 0.5), (-0.5, ny - 0.5)
    ra, dec = (np.asarray(v, dtype=float) for v in wcs(x, y))
    ok = np.isfinite(ra) & np.isfinite(dec)
    att = sky_rotation(wcs)
    plane = TangentPlane(att["ra_ref"], att["dec_ref"])
    cx = np.array([x0, x1, x1, x0])
    cy = np.array([y0, y0, y1, y1])
    corners = tuple(np.asarray(v, dtype=float) for v in wcs(cx, cy, with_bounding_box=False))
    # pixel scale (arcsec) at the tangent point, for the matching histogram's bins
    try:
        px, py = wcs.invert(att["ra_ref"], att["dec_ref"], with_bounding_box=False)
        if not (np.isfinite(px) and np.isfinite(py)):
            raise ValueError
    except Exception:
        px, py = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    qx = px + np.array([-0.5, -0.5, 0.5, 0.5])
    qy = py + np.array([-0.5, 0.5, 0.5, -0.5])
    tx, ty = plane.to_plane(*wcs(qx, qy, with_bounding_box=False))
    area = 0.5 * abs(np.dot(tx, np.roll(ty, -1)) - np.dot(ty, np.roll(tx, -1)))
    exp = Exposure(name=name, group_id=group_id, ids=ids[ok], ra=ra[ok], dec=dec[ok], corners=corners,
                   plane=plane, pscale=float(np.sqrt(area)))
    old = existing_correction(wcs)
    if old is not None:
        exp.base_matrix, exp.base_shift = old[0], old[1] * RAD2ARCSEC
    return exp


class TweakRegStep(Step):
    """Align the WCSs of a library's exposures to each other (and to ``abs_refcat``) with point
    sources (see the module docstring); every member is SKIPPED when nothing could be aligned."""

    name = "tweakreg"
    class_alias = "TweakRegStep"
    description = "Align the exposures' WCSs to each other (and to a reference catalog) with point sources"
    spec = (
        Param("save_catalogs", bool, False, "Write each exposure's source catalog"),
        Param("use_custom_catalogs", bool, False, "Use user-provided catalogs (catfile or the association)"),
        Param("catalog_format", str, "ecsv", "Catalog output format", choices=("ecsv", "fits")),
        Param("catfile", str, "", "File listing '<exposure> <catalog>' pairs"),
        Param("starfinder", str, "iraf", "Star finder", choices=("dao", "iraf", "segmentation")),
        Param("snr_threshold", float, 10.0, "SNR threshold above the background"),
        Param("kernel_fwhm", float, 2.5, "Gaussian kernel FWHM in pixels"),
        Param("bkg_boxsize", int, 400, "Background mesh box size in pixels"),
        Param("minsep_fwhm", float, 0.0, "Minimum separation between detections in FWHM"),
        Param("sigma_radius", float, 1.5, "Truncation radius of the Gaussian kernel in sigma"),
        Param("sharplo", float, 0.5, "Lower bound on sharpness"),
        Param("sharphi", float, 2.0, "Upper bound on sharpness"),
        Param("roundlo", float, 0.0, "Lower bound on roundness"),
        Param("roundhi", float, 0.2, "Upper bound on roundness"),
        Param("brightest", int, 200, "Keep the brightest N objects"),
        Param("peakmax", float, None, "Drop objects with a peak at or above this", nullable=True),
        Param("npixels", int, 10, "Minimum connected pixels (segmentation)"),
        Param("connectivity", int, 8, "Pixel connectivity (segmentation)", choices=(4, 8)),
        Param("nlevels", int, 32, "Deblending levels (segmentation)"),
        Param("contrast", float, 0.001, "Deblending contrast (segmentation)"),
        Param("multithresh_mode", str, "exponential", "Deblending threshold spacing",
              choices=("exponential", "linear", "sinh")),
        Param("localbkg_width", int, 0, "Local background annulus width (segmentation)"),
        Param("apermask_method", str, "correct", "Neighbour handling", choices=("correct", "mask", "none")),
        Param("kron_params", list, None, "Kron aperture parameters (2 or 3 floats)", nullable=True),
        Param("deblend", bool, True, "Deblend sources (segmentation)"),
        Param("enforce_user_order", bool, False, "Align images in the input order"),
        Param("expand_refcat", bool, False, "Add unmatched sources to the reference catalog"),
        Param("minobj", int, 15, "Minimum number of matched objects"),
        Param("fitgeometry", str, "rshift", "Fit geometry", choices=GEOMETRIES),
        Param("nclip", int, 3, "Clipping iterations of the fit"),
        Param("sigma", float, 3.0, "Clipping limit in RMSE units"),
        Param("searchrad", float, 2.0, "Search radius for a match (arcsec)"),
        Param("use2dhist", bool, True, "Use a 2-D histogram for the initial offset"),
        Param("separation", float, 1.0, "Minimum object separation (arcsec)"),
        Param("tolerance", float, 0.7, "Matching tolerance (arcsec)"),
        Param("xoffset", float, 0.0, "Initial X offset guess (arcsec)"),
        Param("yoffset", float, 0.0, "Initial Y offset guess (arcsec)"),
        Param("abs_refcat", str, "", "Absolute reference catalog: a local ECSV/FITS file with RA/Dec"),
        Param("save_abs_catalog", bool, False, "Write the absolute reference catalog used"),
        Param("abs_minobj", int, 15, "Minimum matched objects (absolute)"),
        Param("abs_fitgeometry", str, "rshift", "Fit geometry (absolute)", choices=GEOMETRIES),
        Param("abs_nclip", int, 3, "Clipping iterations (absolute)"),
        Param("abs_sigma", float, 3.0, "Clipping limit (absolute)"),
        Param("abs_searchrad", float, 6.0, "Search radius (absolute, arcsec)"),
        Param("abs_use2dhist", bool, True, "2-D histogram for the initial offset (absolute)"),
        Param("abs_separation", float, 1.0, "Minimum object separation (absolute, arcsec)"),
        Param("abs_tolerance", float, 0.7, "Matching tolerance (absolute, arcsec)"),
        Param("sip_approx", bool, True, "Update the FITS SIP approximation in meta.wcsinfo"),
        Param("sip_max_pix_error", float, 0.01, "Max forward SIP error (pixels)"),
        Param("sip_degree", int, None, "Forward SIP degree (None: best)", nullable=True),
        Param("sip_max_inv_pix_error", float, 0.01, "Max inverse SIP error (pixels)"),
        Param("sip_inv_degree", int, None, "Inverse SIP degree (None: best)", nullable=True),
        Param("sip_npoints", int, 12, "Points per axis for the SIP fit"),
        Param("output_use_model", bool, True, "Name outputs after meta.filename"),
        Param("in_memory", bool, True, "Accepted for jwst compatibility (members stay on disk)"),
    )
    reference_file_types = ()

    # -- the work --------------------------------------------------------------------------
    def _check_params(self):
        for p in ("sip_degree", "sip_inv_degree"):
            v = getattr(self, p)
            if v is not None and not 1 <= v <= 6:
                raise ParameterError(f"{p} must be between 1 and 6")
        if self.kron_params is not None and len(self.kron_params) not in (2, 3):
            raise ParameterError("kron_params takes 2 or 3 values")

    def _finder_kwargs(self, model):
        kron = None if self.kron_params is None else tuple(float(v) for v in self.kron_params)
        return dict(
            snr_threshold=self.snr_threshold, kernel_fwhm=self.kernel_fwhm, bkg_boxsize=self.bkg_boxsize,
            starfinder=self.starfinder, sigma_radius=self.sigma_radius,
            min_separation=max(2, int(self.minsep_fwhm * self.kernel_fwhm + 0.5)),
            sharpness_range=(self.sharplo, self.sharphi), roundness_range=(self.roundlo, self.roundhi),
            n_brightest=self.brightest, peak_max=self.peakmax, n_pixels=self.npixels,
            connectivity=int(self.connectivity), n_levels=self.nlevels, contrast=self.contrast,
            mode=self.multithresh_mode, deblend=self.deblend, local_bkg_width=self.localbkg_width,
            aperture_mask_method=self.apermask_method, kron_params=kron, error=model.err)

    def _custom_catalogs(self, lib) -> dict:
        if not self.use_custom_catalogs:
            return {}
        out = {}
        if self.catfile and self.catfile.strip():
            catfile = Path(self.catfile)
            for line in catfile.read_text().splitlines():
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                parts = line.split()
                if len(parts) > 2:
                    raise ParameterError("'catfile' can contain at most two columns")
                out[parts[0]] = str(catfile.parent / parts[1]) if len(parts) == 2 else None
            if not out:
                log.warning("'use_custom_catalogs' is set but 'catfile' lists no catalogs; finding sources.")
        elif getattr(lib, "members", None) is not None:
            paths = getattr(lib, "original_paths", None) or lib.paths
            for m, path in zip(lib.members, paths):
                cat = m.extra.get("tweakreg_catalog")
                if cat is not None:
                    out[m.expname] = str(path.parent / cat) if str(cat).strip() else None
        return out

    def _catalog(self, model, custom: dict, name: str):
        from astropy.table import Table

        from .detect import coverage_from_dq, find_sources

        path = custom.get(name) or custom.get(Path(name).name)
        if path is None and self.use_custom_catalogs and model.meta.get("tweakreg_catalog"):
            path = model.meta.get("tweakreg_catalog")
        if path:
            log.info("Using user-provided input catalog '%s'", path)
            table = Table.read(path)
            saved = False
        else:
            table, _ = find_sources(model.data, coverage_mask=coverage_from_dq(model.dq), **self._finder_kwargs(model))
            table = Table(table)[["id", "xcentroid", "ycentroid", "flux"]]
            saved = self.save_catalogs
        for axis in ("x", "y"):
            if axis not in table.colnames:
                for alt in (axis + "centroid", axis + "_centroid"):
                    if alt in table.colnames:
                        table.rename_column(alt, axis)
                        break
                else:
                    raise ParameterError(f"tweakreg catalogs need a {axis!r}, {axis}centroid or {axis}_centroid column")
        if "id" not in table.colnames:
            table["id"] = np.arange(1, len(table) + 1)
        if saved:
            self._write_catalog(table, name)
        return table

    def _write_catalog(self, table, name):
        from astropy.table import Table

        ext = "ecsv" if self.catalog_format == "ecsv" else "fits"
        fname = str(Path(name).name).replace(".fits", f"_cat.{ext}")
        folder = Path(self.output_dir or (self.context.output_dir if self.context else None) or Path.cwd())
        folder.mkdir(parents=True, exist_ok=True)
        out = Table(table, copy=True)
        out.write(folder / fname, format="ascii.ecsv" if ext == "ecsv" else "fits", overwrite=True)
        log.info("Wrote source catalog: %s", folder / fname)

    def process(self, lib, refs):
        from .align import AlignError, MatchParams, RefCatalog, absolute_align, relative_align

        if not is_library(lib):
            raise SkipStep("tweakreg works on an association of exposures (a library), not a single model")
        self._check_params()
        if len(lib) == 0:
            raise ParameterError("Input must contain at least one image model.")
        refcat_path = (self.abs_refcat or "").strip()
        if refcat_path.upper() in ("NONE",):
            refcat_path = ""
        if refcat_path and refcat_path.upper() in ONLINE_CATALOGS:
            raise ParameterError(f"abs_refcat={refcat_path!r}: online catalogs are not supported offline; "
                                 "give a local ECSV/FITS file with RA/Dec columns")
        expand = self.expand_refcat or bool(refcat_path)
        custom = self._custom_catalogs(lib)
        view = LibraryView(lib)

        exposures, wcsinfos, wcses, shapes, names = [], [], [], [], []
        members = getattr(lib, "members", None)
        for i in range(len(lib)):
            member = members[i] if members is not None and i < len(members) else None
            with view.open(i) as model:
                name = model.meta.get("filename") or Path(lib.paths[i]).name
                if model.meta.get("wcs") is None:
                    raise SkipStep(f"{name} has no WCS (run assign_wcs first)")
                table = self._catalog(model, custom, name)
                gid = group_id_of(model, member, i)
                exp = exposure_record(model, table, Path(name).stem, gid)
                if exp.ra.size == 0:
                    log.warning("No sources found in %s.", name)
                else:
                    log.info("Detected %d sources in %s.", exp.ra.size, name)
                exposures.append(exp)
                wcses.append(model.meta.wcs)
                wcsinfos.append(dict(model.meta.get("wcsinfo") or {}))
                shapes.append(model.data.shape)
                names.append(name)
        ngroups = len({e.group_id for e in exposures})
        log.info("Number of image groups to be aligned: %d.", ngroups)
        if not refcat_path and not self.save_catalogs and ngroups == 1:
            log.warning("At least two exposures are required for image alignment. Nothing to do.")
            return self._unchanged(view)

        rel = MatchParams(self.searchrad, self.separation, self.use2dhist, self.tolerance, self.xoffset, self.yoffset)
        local_failed = True
        if ngroups > 1:
            try:
                relative_align(exposures, params=rel, enforce_user_order=self.enforce_user_order,
                               expand_refcat=expand, minobj=self.minobj, fitgeom=self.fitgeometry,
                               nclip=self.nclip, sigma=self.sigma)
                local_failed = False
            except AlignError as exc:
                log.warning("%s", exc)
        if refcat_path:
            ra, dec = read_reference_catalog(refcat_path)
            log.info("Aligning to absolute reference catalog: %s (%d sources)", refcat_path, ra.size)
            for e in exposures:
                if e.status == "REFERENCE":
                    e.fit_info = {}
            absp = MatchParams(self.abs_searchrad, self.abs_separation, self.abs_use2dhist, self.abs_tolerance)
            try:
                absolute_align(exposures, RefCatalog(ra, dec, name=Path(refcat_path).name), params=absp,
                               minobj=self.abs_minobj, fitgeom=self.abs_fitgeometry, nclip=self.abs_nclip,
                               sigma=self.abs_sigma)
            except AlignError as exc:
                log.warning("%s", exc)
                return self._unchanged(view)
            if self.save_abs_catalog:
                self._save_abs_catalog(ra, dec, refcat_path)
        elif local_failed:
            log.warning("Relative alignment failed; WCSs left unchanged.")
            return self._unchanged(view)

        wcs_name = f"FIT-LVL3-{refcat_path}" if refcat_path else None
        for i, e in enumerate(exposures):
            if e.status == "SUCCESS":
                view.update_meta(i, self._corrected_meta(e, wcses[i], wcsinfos[i], shapes[i], wcs_name))
                log.info("%s: tangent-plane shift %.4f, %.4f arcsec, rotation %.5g deg (%d matches, rmse %.4g arcsec)",
                         names[i], e.fit_info["shift"][0], e.fit_info["shift"][1], e.fit_info["<rot>"],
                         e.fit_info["nmatches"], e.fit_info["rmse"])
        self.exposures = exposures   # the fit results, for callers and tests
        return view

    def _corrected_meta(self, exp, wcs, wcsinfo: dict, shape, wcs_name):
        from ...wcs.fitsapprox import apply_sip_keywords, s_region, sip_keywords
        from .tangent import corrected_wcs

        new = corrected_wcs(wcs, exp.matrix, exp.shift, name=wcs_name)
        info = dict(wcsinfo)
        region = s_region(new, shape)
        if region is not None:
            info["s_region"] = region
            log.info("Updated S_REGION to %s", region)
        if self.sip_approx:
            try:
                kw = sip_keywords(new, crpix=[info.get("crpix1"), info.get("crpix2")],
                                  max_pix_error=self.sip_max_pix_error, degree=self.sip_degree,
                                  max_inv_pix_error=self.sip_max_inv_pix_error, inv_degree=self.sip_inv_degree,
                                  npoints=self.sip_npoints)
            except (ValueError, RuntimeError) as exc:
                log.warning("Failed to update 'meta.wcsinfo' with FITS SIP approximation: %s", exc)
            else:
                apply_sip_keywords(info, kw)
        return {"wcs": new, "wcsinfo": info}

    def _unchanged(self, view):
        """Nothing aligned: every member is SKIPPED, its WCS as it was (still saved if asked)."""
        self.set_member_status("SKIPPED")
        return view

    def _save_abs_catalog(self, ra, dec, refcat_path):
        from astropy.table import Table

        folder = Path(self.output_dir or (self.context.output_dir if self.context else None) or Path.cwd())
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"fit_{Path(refcat_path).name.lower()}_ref.ecsv"
        Table({"RA": ra, "DEC": dec}).write(out, format="ascii.ecsv", overwrite=True)
        log.info("Wrote the absolute reference catalog %s", out)
