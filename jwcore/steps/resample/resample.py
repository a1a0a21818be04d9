"""Resampling a library of exposures onto one mosaic grid, one exposure open at a time.

``output_grid`` decides the grid (from the members' S_REGIONs and the first member's WCS, or
a user WCS file); ``drizzle_members`` drizzles members into a :class:`Coadd`;
``mosaic_model`` turns the result into an ``_i2d`` :class:`ImageModel` with the output gwcs in
``meta.wcs`` and its FITS keywords in ``meta.wcsinfo``.
"""

from __future__ import annotations

import copy
import logging
import math
import re
from dataclasses import dataclass

import numpy as np

from ...datamodel import ImageModel
from ...errors import BadInputError
from .coadd import Coadd, InputImage
from .geometry import sregion_polygons
from .libview import match_nans_and_flags
from .resample_wcs import FITS_WCS_DROP, compute_scale, fits_wcsinfo, mean_pixel_area, mosaic_wcs

log = logging.getLogger("jwcal.step.resample")

__all__ = ["OutputGrid", "output_grid", "load_custom_wcs", "footprints_of", "drizzle_members",
           "mosaic_model", "combined_sregion", "GOOD_BITS"]

# resample uses every pixel except DO_NOT_USE and NON_SCIENCE ones (as jwst)
GOOD_BITS = "~DO_NOT_USE+NON_SCIENCE"


@dataclass
class OutputGrid:
    wcs: object                       # gwcs with array_shape and bounding_box
    pixel_scale: float                # arcsec
    pixel_scale_ratio: float | None   # output / first input


def footprints_of(summaries) -> list:
    """The (N, 2) RA/Dec S_REGION polygons of all members (from :func:`member_summary`)."""
    out = []
    for meta in summaries:
        s = meta.get("s_region")
        if not s:
            raise BadInputError(f"{meta.get('filename')}: no S_REGION (run assign_wcs first)")
        out.extend(sregion_polygons(s))
    if not out:
        raise BadInputError("no input footprints")
    return out


def load_custom_wcs(path, output_shape=None) -> dict:
    """A user output WCS from an ASDF file (``wcs``; optional ``pixel_area`` arcsec^2,
    ``pixel_scale`` arcsec, ``pixel_shape``, ``array_shape``); ``output_shape`` is (nx, ny)."""
    import asdf

    with asdf.open(path) as af:
        wcs = copy.deepcopy(af.tree["wcs"])
        area = af.tree.get("pixel_area")
        scale = af.tree.get("pixel_scale")
        pixel_shape = af.tree.get("pixel_shape")
        array_shape = af.tree.get("array_shape", None if pixel_shape is None else tuple(pixel_shape)[::-1])
    if scale is None and area is not None:
        scale = float(np.sqrt(area))
    if output_shape is not None:
        wcs.array_shape = tuple(output_shape)[::-1]
    elif wcs.array_shape is None:
        if array_shape is not None:
            wcs.array_shape = tuple(array_shape)
        elif wcs.bounding_box is not None:
            wcs.array_shape = tuple(int(iv[1] + 0.5) for iv in wcs.bounding_box.bounding_box(order="C"))
        else:
            raise BadInputError(f"{path}: the custom WCS has no shape; give output_shape")
    return {"wcs": wcs, "pixel_scale": scale}


def output_grid(first_model, summaries, *, pixel_scale_ratio=1.0, pixel_scale=None, rotation=None,
                output_shape=None, crpix=None, crval=None, custom_wcs=None) -> OutputGrid:
    """The mosaic grid.  ``first_model``: the first member (its WCS, wcsinfo and data shape);
    ``summaries``: every member's :func:`member_summary` (for the footprints).  ``pixel_scale`` in arcsec;
    ``output_shape`` (ny, nx); ``crpix`` 0-based; ``custom_wcs``: from :func:`load_custom_wcs`."""
    ref_wcs = first_model.meta.wcs
    if ref_wcs is None:
        raise BadInputError(f"{first_model.meta.filename}: no WCS (run assign_wcs first)")
    if custom_wcs is not None:
        wcs = custom_wcs["wcs"]
        scale = custom_wcs.get("pixel_scale")
        if scale is None:
            area = mean_pixel_area(wcs)
            scale = 3600.0 * np.rad2deg(math.sqrt(area))
            log.info("Computed output pixel scale: %s arcsec.", scale)
        area_in = first_model.meta.get("photometry.pixelarea_steradians")
        if not area_in or area_in <= 0:
            area_in = mean_pixel_area(ref_wcs, first_model.data.shape)
        ratio = scale / (3600.0 * np.rad2deg(math.sqrt(area_in))) if area_in else None
        return OutputGrid(wcs, float(scale), ratio)
    info = first_model.meta.wcsinfo.to_dict() if first_model.meta.wcsinfo else {}
    missing = [k for k in ("roll_ref", "v3yangle", "vparity", "ra_ref", "dec_ref") if info.get(k) is None]
    if missing:
        raise BadInputError(f"{first_model.meta.filename}: wcsinfo lacks {', '.join(missing)}")
    if ref_wcs.output_frame.naxes != 2:
        raise BadInputError("resample needs a 2-axis (imaging) output frame")
    if pixel_scale is None:
        pscale_in = compute_scale(ref_wcs, np.array([info["ra_ref"], info["dec_ref"]]))
        pscale = pscale_in * pixel_scale_ratio
        ratio = pixel_scale_ratio
        log.info("Pixel scale ratio (pscale_out/pscale_in): %s; output pixel scale %s arcsec",
                 ratio, 3600 * pscale)
    else:
        pscale = pixel_scale / 3600.0
        pscale_in = np.rad2deg(math.sqrt(mean_pixel_area(ref_wcs, shape=first_model.data.shape)))
        ratio = pscale / pscale_in
        log.info("Output pixel scale %s arcsec; pixel scale ratio %s", pixel_scale, ratio)
    wcs = mosaic_wcs(footprints_of(summaries), ref_wcs, info, pscale_ratio=ratio, pscale=pscale, rotation=rotation,
                     shape=output_shape, crpix=crpix, crval=crval)
    return OutputGrid(wcs, 3600.0 * pscale, ratio)


def drizzle_members(library, indices, grid: OutputGrid, group_ids, *, first_meta=None, match_nans=True,
                    **coadd_kw):
    """Drizzle members ``indices`` of ``library`` (one open at a time) onto ``grid``.

    ``match_nans``: first make SCI/ERR/VAR NaN and DQ DO_NOT_USE agree (the resample step does;
    outlier detection's per-group drizzle does not; a library whose ``nans_matched`` is true
    opens members matched already).  Returns ``(result dict from
    Coadd.finalize, first member's metadata dict)``.
    """
    coadd = Coadd(grid.wcs, pixel_scale=grid.pixel_scale, pixel_scale_ratio=grid.pixel_scale_ratio,
                  n_inputs=len(indices), **coadd_kw)
    need_var = coadd.enable_var
    need_err = coadd.compute_err == "driz_err"
    for i in indices:
        with library.open(i) as model:
            if model.data.ndim != 2:
                raise BadInputError(f"{model.meta.filename}: resample needs 2-D images")
            if match_nans and not getattr(library, "nans_matched", False):
                match_nans_and_flags(model)
            if first_meta is None:
                first_meta = model.meta.to_dict()
            log.info("Drizzling %s %s --> %s", model.meta.filename, model.data.shape, coadd.shape)
            coadd.add(InputImage.from_model(model, variances=need_var, err=need_err, group_id=group_ids[i]))
    return coadd.finalize(), first_meta


def combined_sregion(footprints, wcs) -> str | None:
    """S_REGION of a mosaic: the convex hull of the input footprints in the output pixel frame,
    clipped to the output bounding box, back on the sky (jwst takes their exact union)."""
    from scipy.spatial import ConvexHull

    from .geometry import clip_convex, make_ccw

    pts = np.vstack(footprints)
    x, y = wcs.invert(pts[:, 0], pts[:, 1], with_bounding_box=False)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return None
    xy = np.column_stack([x[ok], y[ok]])
    try:
        hull = xy[ConvexHull(xy).vertices]
    except Exception:   # degenerate (collinear) footprints
        return None
    (bx0, bx1), (by0, by1) = wcs.bounding_box.bounding_box(order="F")
    box = make_ccw([bx0, bx1, bx1, bx0], [by0, by0, by1, by1])
    cx, cy = clip_convex(make_ccw(hull[:, 0], hull[:, 1]), box)
    if cx.size < 3:
        return None
    ra, dec = wcs(cx, cy, with_bounding_box=False)
    ra = np.mod(ra, 360.0)
    if not (np.all(np.isfinite(ra)) and np.all(np.isfinite(dec))):
        return None
    return "POLYGON ICRS  " + " ".join(f"{a:.9f} {d:.9f}" for a, d in zip(ra, dec))


def _linear_fits_keywords(wcs, shape) -> dict:
    """A linear (TAN, no SIP) FITS WCS fitted to a custom output gwcs."""
    bbox = None if wcs.bounding_box is not None else ((-0.5, shape[1] - 0.5), (-0.5, shape[0] - 0.5))
    try:
        header = wcs.to_fits_sip(bounding_box=bbox, degree=1, max_pix_error=0.01, max_inv_pix_error=None,
                                 inv_degree=None, npoints=12)
    except (ValueError, RuntimeError) as exc:
        log.warning("No FITS WCS could be fitted to the custom output WCS: %s", exc)
        return {}
    return {k.lower(): v for k, v in header.items() if not k.upper().startswith("NAXIS")
            and not _SIP_KEY.match(k.lower())}


_SIP_KEY = re.compile(r"^(cd[12]_[12]|[ab]p?_\d_\d|[ab]p?_order)$")


def mosaic_model(result: dict, first_meta: dict, grid: OutputGrid, *, kernel, pixfrac, fillval, weight_type,
                 report_var=True, sregion=None, asn=None) -> ImageModel:
    """The ``_i2d`` ImageModel of a :meth:`Coadd.finalize` result; metadata from the first member."""
    model = ImageModel(data=result["data"])
    model.wht = result["wht"]
    if "con" in result and result["con"] is not None:
        model.con = result["con"]
    if "dq" in result and result["dq"] is not None:
        model.dq = result["dq"]
    if "err" in result:
        model.err = result["err"]
    if report_var:
        for name in ("var_rnoise", "var_flat", "var_poisson"):
            if name in result:
                setattr(model, name, result[name])
    meta = copy.deepcopy({k: v for k, v in first_meta.items() if k != "wcs"})
    meta["model_type"] = "ImageModel"
    model.tree["meta"].clear()
    model.tree["meta"].update(meta)
    m = model.meta
    if "err" not in result:
        model.tree["meta"].pop("bunit_err", None)
    m.wcs = grid.wcs
    info = m.wcsinfo.to_dict() if m.wcsinfo else {}
    for key in list(info):
        if _SIP_KEY.match(key) or key in FITS_WCS_DROP:
            del info[key]
    try:
        info.update(fits_wcsinfo(grid.wcs))
    except TypeError:   # a custom output WCS that is not a plain FITS imaging transform
        info.update(_linear_fits_keywords(grid.wcs, model.data.shape))
    if sregion:
        info["s_region"] = sregion
    else:
        info.pop("s_region", None)
    model.tree["meta"]["wcsinfo"] = info
    rm = result["meta"]
    m.set("photometry.pixelarea_steradians", float(rm["pixelarea_steradians"]))
    m.set("photometry.pixelarea_arcsecsq", float(rm["pixelarea_arcsecsq"]))
    m.set("resample.pointings", int(rm["pointings"]))
    m.set("resample.pixel_scale_ratio", None if rm["pixel_scale_ratio"] is None else float(rm["pixel_scale_ratio"]))
    m.set("resample.pixfrac", float(pixfrac))
    m.set("resample.kernel", kernel)
    m.set("resample.fillval", str(fillval))
    m.set("resample.weight_type", str(weight_type))
    for key in ("exposure_time", "start_time", "end_time", "duration", "measurement_time", "elapsed_exposure_time"):
        m.set(f"exposure.{key}", rm[key])
    m.set("exposure.effective_exposure_time", rm["exposure_time"])
    if rm["start_time"] is not None and rm["end_time"] is not None:
        m.set("exposure.mid_time", 0.5 * (rm["start_time"] + rm["end_time"]))
    m.set("background.level", None)
    m.set("background.subtracted", None)
    if asn:
        for key, value in asn.items():
            if value is not None:
                m.set(f"asn.{key}", value)
    return model
