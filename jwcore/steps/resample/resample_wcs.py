"""The output (mosaic) WCS and the pixel maps between an exposure and it.

The mosaic WCS is built as jwst 3.0 builds it: a TAN projection whose reference point
(CRVAL) is the centre of all input footprints (S_REGION), oriented like the first exposure
(or ``rotation`` degrees from North), with the first exposure's pixel scale at its reference
point times ``pixel_scale_ratio`` (or an absolute ``pixel_scale``), and a bounding box that
holds every input footprint.  The transform is gwcs's ``FITSImagingWCSTransform`` so the
FITS keywords (CRPIX/CRVAL/CDELT/PC) follow from it exactly.

Pixel maps (input pixel -> output pixel) are computed in row blocks so the temporaries of the
WCS evaluation stay small; each block is the same element-wise computation as a full-frame call,
and the blocks run on the thread budget's cores (``jwcore.parallel.threads``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ...parallel import blas_threads, threads
from .geometry import footprint_center, polygon_area

__all__ = [
    "compute_scale", "mean_pixel_area", "rotation_matrix", "mosaic_wcs", "calc_pixmap",
    "resample_range", "bbox_intervals", "fits_wcsinfo", "is_imaging_wcs", "FITS_WCS_DROP",
]

# wcsinfo entries that describe an exposure (not a mosaic): dropped from an i2d's meta.
FITS_WCS_DROP = ("v2_ref", "v3_ref", "ra_ref", "dec_ref", "roll_ref", "v3yangle", "vparity")


def is_imaging_wcs(wcs) -> bool:
    return all(ax == "SPATIAL" for ax in wcs.output_frame.axes_type)


def bbox_intervals(wcs):
    """``((x0, x1), (y0, y1))`` of a gwcs bounding box, or ``None``."""
    bbox = getattr(wcs, "bounding_box", None)
    if bbox is None:
        return None
    try:
        return tuple(tuple(float(v) for v in iv) for iv in bbox.bounding_box(order="F"))
    except AttributeError:
        return tuple(tuple(float(v) for v in iv) for iv in bbox)


def compute_scale(wcs, fiducial, pscale_ratio=None) -> float:
    """Pixel scale (degrees) of ``wcs`` at the sky point ``fiducial``: the geometric mean of the
    separations to the neighbouring pixels along x and y."""
    from astropy.coordinates import SkyCoord

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "invalid value encountered in sqrt", RuntimeWarning)
        crpix = np.array(wcs.invert(*fiducial, with_bounding_box=False))
    px = np.array([crpix[0], crpix[0] + 1.0, crpix[0]])
    py = np.array([crpix[1], crpix[1], crpix[1] + 1.0])
    ra, dec = wcs(px, py, with_bounding_box=False)
    c = SkyCoord(ra=ra, dec=dec, unit="deg")
    xscale = abs(c[0].separation(c[1]).value)
    yscale = abs(c[0].separation(c[2]).value)
    if pscale_ratio is not None:
        xscale *= pscale_ratio
        yscale *= pscale_ratio
    return float(np.sqrt(xscale * yscale))


def _boundary(xmin, xmax, ymin, ymax, dx, dy):
    nx, ny = xmax - xmin + 1, ymax - ymin + 1
    dx = dx if dx and dx > 0 else nx
    dy = dy if dy and dy > 0 else ny
    sx, sy = max(1, int(np.ceil(nx / dx))), max(1, int(np.ceil(ny / dy)))
    x = np.concatenate([np.linspace(xmin, xmax, sx, False), np.full(sy, float(xmax)),
                        np.linspace(xmax, xmin, sx, False), np.full(sy, float(xmin))])
    y = np.concatenate([np.full(sx, float(ymin)), np.linspace(ymin, ymax, sy, False),
                        np.full(sx, float(ymax)), np.linspace(ymax, ymin, sy, False)])
    edges = [slice(0, sx), slice(sx, sx + sy), slice(sx + sy, 2 * sx + sy), slice(2 * sx + sy, 2 * sx + 2 * sy)]
    return x, y, (xmax - xmin) * (ymax - ymin), edges


def mean_pixel_area(wcs, shape=None) -> float | None:
    """Mean pixel area (sr) over the bounding box (or ``shape``): the sky area of the polygon
    through the outermost pixel centres divided by its area in pixels.  Edges whose sky
    positions are not finite are pulled in one pixel at a time."""
    shape = shape or wcs.array_shape
    if shape is None:
        raise ValueError("the WCS has no array_shape; give the shape")
    ny, nx = shape
    bbox = bbox_intervals(wcs) or ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    (x0, x1), (y0, y1) = bbox
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    lim = [max(0, int(y0 + 0.5)), min(nx - 1, int(x1 - 0.5)), min(ny - 1, int(y1 - 0.5)), max(0, int(x0 + 0.5))]
    step = [1, -1, -1, 1]
    k = 0
    while lim[3] < lim[1] and lim[0] < lim[2]:
        ymin, xmax, ymax, xmin = lim
        x, y, image_area, edges = _boundary(xmin, xmax, ymin, ymax, min((xmax - xmin) // 4, 15),
                                            min((ymax - ymin) // 4, 15))
        ra, dec = wcs(x, y)[:2]
        for _ in range(4):
            sl = edges[k]
            if not (np.all(np.isfinite(ra[sl])) and np.all(np.isfinite(dec[sl]))):
                lim[k] += step[k]
                k = (k + 1) % 4
                break
            k = (k + 1) % 4
        else:
            if image_area == 0:
                return None
            return polygon_area(ra, dec) / image_area
    return None


def rotation_matrix(roll_ref: float, v3i_yangle: float, vparity: int = 1) -> np.ndarray:
    """The 2x2 PC matrix of a frame at ``roll_ref`` (radians) for an aperture with V3IdlYAngle
    ``v3i_yangle`` (radians) and parity ``vparity``."""
    if vparity not in (1, -1):
        raise ValueError(f"vparity must be 1 or -1, not {vparity}")
    a = roll_ref - vparity * v3i_yangle
    return np.array([[vparity * np.cos(a), np.sin(a)], [vparity * -np.sin(a), np.cos(a)]])


def mosaic_wcs(footprints, ref_wcs, ref_wcsinfo, *, pscale_ratio=1.0, pscale=None, rotation=None,
               shape=None, crpix=None, crval=None):
    """The mosaic gwcs covering ``footprints`` ((N, 2) RA/Dec vertex arrays).

    ``ref_wcs``/``ref_wcsinfo``: the first exposure's WCS and ``meta.wcsinfo`` (needs roll_ref,
    v3yangle, vparity, ra_ref, dec_ref).  ``pscale``: degrees per pixel (overrides
    ``pscale_ratio``).  ``rotation``: PA of the output Y axis (degrees; ``None``: the
    exposure's orientation).  ``shape``: (ny, nx); ``crpix``: 0-based; ``crval``: degrees.
    """
    import gwcs
    from astropy.modeling import models as am
    from gwcs.fitswcs import FITSImagingWCSTransform

    fiducial = tuple(crval) if crval is not None else footprint_center(list(footprints))
    v3yangle = np.deg2rad(ref_wcsinfo["v3yangle"])
    vparity = ref_wcsinfo["vparity"]
    if rotation is None:
        roll = np.deg2rad(ref_wcsinfo["roll_ref"])
    else:
        roll = np.deg2rad(rotation) + vparity * v3yangle
    pc = rotation_matrix(roll, v3yangle, vparity=vparity)
    if not pscale:
        pscale = compute_scale(ref_wcs, (ref_wcsinfo["ra_ref"], ref_wcsinfo["dec_ref"]), pscale_ratio=pscale_ratio)
    projection = am.Pix2Sky_TAN()
    transform = (am.AffineTransformation2D(matrix=pc) | am.Scale(pscale) & am.Scale(pscale)
                 | projection | am.RotateNative2Celestial(fiducial[0], fiducial[1], 180))
    pix = np.hstack([transform.inverse(*np.asarray(f).T) for f in footprints])
    dmin, dmax = np.min(pix, axis=1), np.max(pix, axis=1)
    native = transform.inverse(*fiducial)
    if crpix is None:
        offsets = tuple(n - d for n, d in zip(native, dmin))
    else:
        offsets = tuple(c - n for n, c in zip(native, crpix))
    dmin = dmin + offsets
    dmax = dmax + offsets
    if shape is None:
        shape = tuple(int(d + 0.5) for d in dmax[::-1])
        bbox = tuple((-0.5, s - 0.5) for s in shape[::-1])
    else:
        shape = tuple(shape)
        bbox = tuple((max(0, int(lo + 0.5)) - 0.5, min(int(hi + 0.5), n) - 0.5)
                     for lo, hi, n in zip(dmin, dmax, shape[::-1]))
    if any(n < 2 for n in shape):
        raise ValueError(f"the output image would be too small: shape {shape}, bounding box {bbox}")
    fwcs = FITSImagingWCSTransform(projection, crpix=offsets, crval=fiducial, cdelt=[pscale, pscale], pc=pc)
    wcs = gwcs.WCS([gwcs.wcs.Step(ref_wcs.input_frame, fwcs), gwcs.wcs.Step(ref_wcs.output_frame, None)])
    wcs.bounding_box = bbox
    wcs.pixel_shape = shape[::-1]
    return wcs


def resample_range(shape, bbox=None):
    """``(xmin, xmax, ymin, ymax)``: the input pixels (0-based, inclusive) inside ``bbox``."""
    ny, nx = shape
    if bbox is None:
        return 0, max(nx - 1, 0), 0, max(ny - 1, 0)
    (x1, x2), (y1, y2) = bbox
    xmin = max(0, int(x1 + 0.5))
    ymin = max(0, int(y1 + 0.5))
    xmax = max(xmin, min(nx - 1, int(x2 + 0.5)))
    ymax = max(ymin, min(ny - 1, int(y2 + 0.5)))
    return xmin, xmax, ymin, ymax


def _map_block(wcs_from, wcs_to, x, y, inside=False):
    """``wcs_to`` pixels of ``wcs_from`` pixels ``(x, y)``.  ``inside``: all of them lie in
    ``wcs_from``'s bounding box, so it need not be applied (the same numbers, without
    astropy's per-call masking and copies)."""
    ra, dec = wcs_from(x, y, with_bounding_box=not inside)[:2]
    return wcs_to.invert(ra, dec, with_bounding_box=False)


def _plain_bbox(wcs):
    """``((x0, x1), (y0, y1))`` when the forward transform's bounding box is a plain box on
    both pixel axes (so "inside" is just ``x0 <= x <= x1`` and ``y0 <= y <= y1``), else None."""
    from astropy.modeling.bounding_box import ModelBoundingBox

    try:
        bbox = wcs.forward_transform.bounding_box
    except (NotImplementedError, AttributeError):
        return None
    if not isinstance(bbox, ModelBoundingBox) or bbox.ignored or len(bbox.intervals) != 2:
        return None
    (x0, x1), (y0, y1) = bbox.bounding_box(order="F")
    return (float(x0), float(x1)), (float(y0), float(y1))


def calc_pixmap(wcs_from, wcs_to, shape, stepsize=1, order=1, block_rows=64) -> np.ndarray:
    """(ny, nx, 2) float64: where each pixel centre of ``wcs_from`` lands in ``wcs_to`` pixels.

    Pixels outside ``wcs_from``'s bounding box map to NaN; ``wcs_to``'s bounding box is not
    applied.  ``stepsize`` > 1 evaluates the WCS on a coarser grid and interpolates with a
    bivariate spline of ``order`` 1 or 3 (falling back to the full evaluation when the coarse
    grid has non-finite values).

    The full evaluation runs in blocks of ``block_rows`` rows on the thread budget's cores,
    with numpy's BLAS held to one thread meanwhile (the sky rotations' matrix products would
    otherwise start BLAS threads that compete with the blocks for the same cores).  Each
    element is computed exactly as by one full-frame call.
    """
    ny, nx = shape
    out = np.empty((ny, nx, 2), np.float64)
    bbox = bbox_intervals(wcs_from)
    if bbox is None:
        xmin, xmax, ymin, ymax = 0, nx - 1, 0, ny - 1
    else:
        (bx0, bx1), (by0, by1) = bbox
        xmin, xmax = max(0, int(math.ceil(bx0))), min(nx - 1, int(math.floor(bx1)))
        ymin, ymax = max(0, int(math.ceil(by0))), min(ny - 1, int(math.floor(by1)))
    width, height = xmax - xmin + 1, ymax - ymin + 1
    if stepsize > 1 and max(width, height) > 10:
        if order not in (1, 3):
            raise ValueError("pixmap interpolation order must be 1 or 3")
        if _spline_pixmap(wcs_from, wcs_to, out, (xmin, xmax, ymin, ymax), stepsize, order):
            return out
    xs = np.arange(nx, dtype=np.float64)
    plain = _plain_bbox(wcs_from) if bbox is not None else None
    x_inside = plain is not None and plain[0][0] <= 0 and nx - 1 <= plain[0][1]

    def block(r0):
        r1 = min(ny, r0 + block_rows)
        y, x = np.meshgrid(np.arange(r0, r1, dtype=np.float64), xs, indexing="ij")
        inside = x_inside and plain[1][0] <= r0 and r1 - 1 <= plain[1][1]
        px, py = _map_block(wcs_from, wcs_to, x, y, inside=inside)
        out[r0:r1, :, 0] = px
        out[r0:r1, :, 1] = py

    starts = range(0, ny, block_rows)
    nthreads = min(threads(), len(starts))
    with blas_threads(1):
        if nthreads > 1:
            # the transforms' numpy arithmetic releases the GIL: row blocks on several cores
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(nthreads) as pool:
                list(pool.map(block, starts))
        else:
            for r0 in starts:
                block(r0)
    return out


def _spline_pixmap(wcs_from, wcs_to, out, box, stepsize, order) -> bool:
    from scipy.interpolate import RectBivariateSpline

    xmin, xmax, ymin, ymax = box
    width, height = xmax - xmin + 1, ymax - ymin + 1
    npx = max(int(math.ceil(width / stepsize)), min(10, width))
    npy = max(int(math.ceil(height / stepsize)), min(10, height))
    xc, yc = np.linspace(xmin, xmax, npx), np.linspace(ymin, ymax, npy)
    gx, gy = np.meshgrid(xc, yc)
    px, py = _map_block(wcs_from, wcs_to, gx, gy)
    if not (np.all(np.isfinite(px)) and np.all(np.isfinite(py))):
        return False
    fx = RectBivariateSpline(yc, xc, px, kx=order, ky=order)
    fy = RectBivariateSpline(yc, xc, py, kx=order, ky=order)
    out[...] = np.nan
    yin, xin = np.arange(ymin, ymax + 1), np.arange(xmin, xmax + 1)
    out[ymin:ymax + 1, xmin:xmax + 1, 0] = fx(yin, xin)
    out[ymin:ymax + 1, xmin:xmax + 1, 1] = fy(yin, xin)
    return True


def fits_wcsinfo(wcs) -> dict:
    """The FITS keywords (``meta.wcsinfo`` names) of a mosaic gwcs built by :func:`mosaic_wcs`."""
    from gwcs.fitswcs import FITSImagingWCSTransform

    t = wcs.forward_transform
    if not isinstance(t, FITSImagingWCSTransform):
        raise TypeError("the output WCS is not a FITS imaging WCS")
    code = t.projection.prjprm.code
    frame = wcs.output_frame
    return {
        "crpix1": float(t.crpix[0] + 1), "crpix2": float(t.crpix[1] + 1),
        "cdelt1": float(t.cdelt[0]), "cdelt2": float(t.cdelt[1]),
        "crval1": float(t.crval[0]), "crval2": float(t.crval[1]),
        "pc1_1": float(t.pc[0][0]), "pc1_2": float(t.pc[0][1]), "pc2_1": float(t.pc[1][0]), "pc2_2": float(t.pc[1][1]),
        "ctype1": f"RA---{code}", "ctype2": f"DEC--{code}",
        "cunit1": str(frame.unit[0]), "cunit2": str(frame.unit[1]),
        "radesys": str(getattr(frame.reference_frame, "name", "icrs")).upper(),
        "wcsaxes": 2,
    }
