"""Source-catalog photometry on a drizzled image, with jwst 3.0's columns and conventions.

Inputs are arrays in Jy per pixel (the step converts the i2d's MJy/sr with PIXAR_SR), the
detection table of :func:`jwcore.steps.tweakreg.detect.find_sources` and the aperture
parameters.  What is measured, per source:

* local background: 3-sigma clipped median of the pixels whose centres fall in a circular
  annulus (``bkg_aperture_inner/outer_radius``); its error ``sqrt(pi / 2N) * std``;
* aperture fluxes in three circles (the 30/50/70 % encircled-energy radii of the APCORR
  reference, or 1, 2, 3 pixels without one), exact pixel overlap, background subtracted,
  errors from the ERR array; the total flux is the largest aperture times its APCORR value;
* isophotal flux/area/shape from the segmentation (photutils ``SourceCatalog``);
* AB magnitudes ``-2.5 log10(F / 3631 Jy)`` (errors ``2.5 log10(1 + dF/F)``, NaN for F < 0),
  Vega magnitudes ``AB - ABVEGAOFFSET`` (NaN without the reference);
* concentration indices (flux ratios of the apertures), ``is_extended`` (both CIs above the
  star thresholds), DAOFind sharpness and roundness, the nearest neighbour, sky positions and
  the position angle of the major axis on the sky.

No I/O; photutils does the aperture sums.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["FALLBACK_APERTURES", "aperture_params", "flux_to_abmag", "local_background",
           "aperture_photometry", "daofind_sharpness_roundness", "nearest_neighbours",
           "build_catalog", "COLUMN_DESCRIPTIONS"]

# jwst's aperture set when there is no APCORR reference: radii 1, 2, 3 pixels, no correction.
FALLBACK_APERTURES = {
    "aperture_ee": np.array((1, 2, 3)),
    "aperture_radii": np.array((1.0, 2.0, 3.0)),
    "aperture_corrections": np.array((1.0, 1.0, 1.0)),
    "bkg_aperture_inner_radius": 5.0,
    "bkg_aperture_outer_radius": 10.0,
}


def aperture_params(table, aperture_ee=(30, 50, 70), pixel_scale_ratio=None, selector=None) -> dict:
    """Aperture radii (pixels of the image), corrections and background annulus from an
    APCORR table (structured array or Table with ``eefraction, radius, apcorr, skyin,
    skyout`` and the ``selector`` columns, e.g. ``{"filter": "F200W", "pupil": "CLEAR"}``).

    Radii are in native detector pixels and are divided by ``pixel_scale_ratio`` (resampled /
    native pixel scale).  Raises ``ValueError`` for bad ``aperture_ee`` and ``LookupError``
    when the table has no (or more than one) matching row.
    """
    ee = np.asarray(aperture_ee).astype(int)
    if ee.size != 3:
        raise ValueError("aperture_ee must contain exactly 3 values")
    if not np.all(ee[1:] > ee[:-1]):
        raise ValueError("aperture_ee values must be strictly increasing")
    if np.any((ee <= 0) | (ee >= 100)):
        raise ValueError("aperture_ee values must be between 0 and 100")
    names = table.dtype.names if hasattr(table, "dtype") and table.dtype.names else table.colnames
    lower = {n.lower(): n for n in names}
    rows = np.ones(len(table), dtype=bool)
    for key, value in (selector or {}).items():
        col = np.asarray(table[lower[key.lower()]])
        rows &= np.char.strip(col.astype(str)) == str(value).strip()
    if not rows.any():
        raise LookupError(f"APCORR reference data is missing for {selector}")
    percent = np.round(np.asarray(table[lower["eefraction"]], dtype=float) * 100)
    ratio = 1.0 if pixel_scale_ratio is None else float(pixel_scale_ratio)
    radii, corr, skyin, skyout = [], [], [], []
    for e in ee:
        sel = np.flatnonzero(rows & (percent == e))
        if sel.size == 0:
            raise LookupError(f"no APCORR row for the {e}% encircled energy ({selector})")
        if sel.size > 1:
            raise LookupError(f"more than one APCORR row for the {e}% encircled energy ({selector})")
        k = sel[0]
        radii.append(float(table[lower["radius"]][k]))
        corr.append(float(table[lower["apcorr"]][k]))
        skyin.append(float(table[lower["skyin"]][k]))
        skyout.append(float(table[lower["skyout"]][k]))
    if len(set(skyin)) != 1 or len(set(skyout)) != 1:
        raise LookupError("the APCORR rows of one configuration have different skyin/skyout")
    return {
        "aperture_ee": ee,
        "aperture_radii": np.array(radii) / ratio,
        "aperture_corrections": np.array(corr),
        "bkg_aperture_inner_radius": skyin[0] / ratio,
        "bkg_aperture_outer_radius": skyout[0] / ratio,
    }


def flux_to_abmag(flux, flux_err):
    """AB magnitude and error of fluxes in Jy (NaN where the flux is negative)."""
    flux = np.asarray(flux, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = -2.5 * np.log10(flux) + 8.9
        if flux_err is None or np.all(np.isnan(flux_err)):
            err = np.full_like(mag, np.nan)
        else:
            err = 2.5 * np.log10(1.0 + np.asarray(flux_err, dtype=float) / flux)
    neg = flux < 0
    mag = np.where(neg, np.nan, mag)
    err = np.where(neg, np.nan, err)
    return mag, err


def _finite_xy(xy):
    xy = np.array(xy, dtype=float)
    xy[~np.isfinite(xy)] = -1000.0
    return xy


def local_background(data, xy, r_in: float, r_out: float):
    """Per source: sigma-clipped (3 sigma) median of the annulus pixels and its error."""
    from astropy.stats import SigmaClip
    from astropy.utils.exceptions import AstropyUserWarning
    from photutils.aperture import CircularAnnulus

    xy = _finite_xy(xy)
    n = len(xy)
    med = np.full(n, np.nan)
    err = np.full(n, np.nan)
    if n == 0:
        return med, err
    clip = SigmaClip(sigma=3.0)
    masks = CircularAnnulus(xy, r_in, r_out).to_mask(method="center")
    if n == 1 and not isinstance(masks, list):
        masks = [masks]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", AstropyUserWarning)
        for i, m in enumerate(masks):
            values = m.get_values(data)
            kept = clip(values, masked=False)
            med[i] = np.median(kept)
            err[i] = np.sqrt(np.pi / (2.0 * kept.size)) * np.std(kept)
    return med, err


def aperture_photometry(data, err, xy, radii, background):
    """Background-subtracted circular-aperture fluxes and errors, shape ``(len(radii), N)``."""
    from photutils.aperture import CircularAperture
    from photutils.aperture import aperture_photometry as phot

    xy = _finite_xy(xy)
    n = len(xy)
    flux = np.full((len(radii), n), np.nan)
    ferr = np.full((len(radii), n), np.nan)
    if n == 0:
        return flux, ferr
    apertures = [CircularAperture(xy, r) for r in radii]
    table = phot(data, apertures, error=err)
    for i, ap in enumerate(apertures):
        flux[i] = np.asarray(table[f"aperture_sum_{i}"], dtype=float) - np.asarray(background) * ap.area
        ferr[i] = np.asarray(table[f"aperture_sum_err_{i}"], dtype=float)
    return flux, ferr


def _daofind_kernel(kernel_fwhm: float):
    """DAOFind's zero-sum circular Gaussian kernel and its mask."""
    sigma = kernel_fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    half = int(max(2.0, 1.5 * sigma))
    size = 2 * half + 1
    yy, xx = np.mgrid[0:size, 0:size] - half
    r = np.hypot(xx, yy)
    mask = (r <= max(2.0, 1.5 * sigma)).astype(int)
    g = np.exp(-(xx ** 2 + yy ** 2) / (2.0 * sigma ** 2)) * mask
    npix = mask.sum()
    denom = np.sum(g ** 2) - np.sum(g) ** 2 / npix
    return ((g - g.sum() / npix) / denom) * mask, mask


def _cutouts(image, xy, half):
    """``(N, 2h+1, 2h+1)`` cutouts centred on the pixel nearest each position (ties go down),
    zero outside the image; in the image's precision (sums over them too, as jwst)."""
    image = np.asarray(image)
    n = len(xy)
    size = 2 * half + 1
    ny, nx = image.shape
    cx = np.ceil(xy[:, 0] - 0.5).astype(int)
    cy = np.ceil(xy[:, 1] - 0.5).astype(int)
    dtype = image.dtype if image.dtype.kind == "f" else np.float64
    out = np.zeros((n, size, size), dtype=dtype)
    inside = (cx + half >= 0) & (cx - half < nx) & (cy + half >= 0) & (cy - half < ny)
    if not inside.any():
        return out
    padded = np.pad(image.astype(dtype, copy=False), half, mode="constant", constant_values=0.0)
    off = np.arange(-half, half + 1)
    rows = (cy[inside, None] + half + off[None, :])[:, :, None]
    cols = (cx[inside, None] + half + off[None, :])[:, None, :]
    out[inside] = padded[rows, cols]
    return out


def daofind_sharpness_roundness(data, xy, kernel_fwhm: float):
    """DAOFind sharpness and (symmetry) roundness at each position."""
    from scipy import ndimage

    xy = _finite_xy(xy)
    kernel, mask = _daofind_kernel(kernel_fwhm)
    half = kernel.shape[0] // 2
    # in the image's own precision (float32 for an i2d), as jwst
    conv = ndimage.convolve(np.asarray(data), kernel, mode="constant", cval=0.0)
    cut = _cutouts(data, xy, half)
    ccut = _cutouts(conv, xy, half)
    peak = cut[:, half, half]
    cpeak = ccut[:, half, half]
    mean = (np.sum(cut * mask, axis=(1, 2)) - peak) / (mask.sum() - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharp = (peak - mean) / cpeak
    c = ccut.copy()
    c[:, half, half] = 0.0
    q1 = c[:, : half + 1, half + 1:].sum(axis=(1, 2))
    q2 = c[:, :half, : half + 1].sum(axis=(1, 2))
    q3 = c[:, half:, :half].sum(axis=(1, 2))
    q4 = c[:, half + 1:, half:].sum(axis=(1, 2))
    sum2 = -q1 + q2 - q3 + q4
    sum4 = np.abs(c).sum(axis=(1, 2))
    sum4[sum4 == 0] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        rnd = 2.0 * sum2 / sum4
    return sharp, rnd


def nearest_neighbours(xy, labels):
    """Label of and distance (pixels) to each source's nearest neighbour (-1/NaN if none)."""
    from scipy.spatial import cKDTree

    xy = np.asarray(xy, dtype=float)
    n = len(xy)
    if n < 2:
        return np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
    bad = ~np.all(np.isfinite(xy), axis=1)
    dist, idx = cKDTree(_finite_xy(xy)).query(_finite_xy(xy), k=[2])
    dist, idx = dist[:, 0], idx[:, 0]
    lab = np.asarray(labels)[idx].astype(np.int64)
    lab[bad] = -1
    dist = dist.astype(float)
    dist[bad] = np.nan
    return lab, dist


COLUMN_DESCRIPTIONS = {
    "label": "Source label (matches the segmentation map)",
    "xcentroid": "Centroid x, pixels (0-based)",
    "ycentroid": "Centroid y, pixels (0-based)",
    "sky_centroid": "ICRS position of the centroid",
    "aper_bkg_flux": "Local background per pixel: clipped median in the background annulus",
    "aper_bkg_flux_err": "Standard error of that median",
    "is_extended": "True when both concentration indices exceed the star thresholds",
    "sharpness": "DAOFind sharpness",
    "roundness": "DAOFind roundness (symmetry)",
    "nn_label": "Label of the nearest neighbour",
    "nn_dist": "Distance to the nearest neighbour, pixels",
    "isophotal_flux": "Flux inside the segment",
    "isophotal_flux_err": "Error of the flux inside the segment",
    "isophotal_abmag": "AB magnitude of the isophotal flux",
    "isophotal_abmag_err": "Error of that AB magnitude",
    "isophotal_vegamag": "Vega magnitude of the isophotal flux",
    "isophotal_vegamag_err": "Error of that Vega magnitude",
    "isophotal_area": "Area of the segment",
    "semimajor_sigma": "Semimajor-axis sigma of the Gaussian with the same second moments",
    "semiminor_sigma": "Semiminor-axis sigma of the Gaussian with the same second moments",
    "ellipticity": "1 - semiminor / semimajor",
    "orientation": "Angle of the major axis from +x, counter-clockwise (deg)",
    "sky_orientation": "Position angle of the major axis, east of north (deg)",
    "sky_bbox_ll": "Sky position of the lower-left corner of the source's bounding box",
    "sky_bbox_ul": "Sky position of the upper-left corner of the source's bounding box",
    "sky_bbox_lr": "Sky position of the lower-right corner of the source's bounding box",
    "sky_bbox_ur": "Sky position of the upper-right corner of the source's bounding box",
}


def _col(table, name, n):
    """A detection-table column as a float array (NaN when the finder did not give it)."""
    if name in table.colnames:
        v = table[name]
        return np.asarray(getattr(v, "value", v), dtype=float)
    return np.full(n, np.nan)


def build_catalog(data, err, sources, *, kernel_fwhm: float, aperture: dict, abvega_offset,
                  ci_star_thresholds=(2.0, 1.8), wcs=None, sky_angle_deg=None):
    """The jwst-style source catalog (an astropy ``QTable``).

    ``data``, ``err``: Jy per pixel (not background-subtracted; the annuli measure the local
    background).  ``sources``: detection table (``id`` or ``label``, ``xcentroid``,
    ``ycentroid`` and, from segmentation, ``flux``/``segment_flux_err``/``area``/shape and
    ``sky_bbox_*`` columns).  ``abvega_offset``: ``m_AB - m_Vega`` or ``None`` (Vega NaN).
    ``wcs``: gives ``sky_centroid``; ``sky_angle_deg``: angle of north from +x at the image
    reference pixel (for ``sky_orientation``).
    """
    import astropy.units as u
    from astropy.table import QTable

    n = len(sources)
    ee = np.asarray(aperture["aperture_ee"])
    x = _col(sources, "xcentroid", n)
    y = _col(sources, "ycentroid", n)
    labels = np.asarray(sources["id"] if "id" in sources.colnames else sources["label"]).astype(np.int64)
    xy = np.column_stack([x, y])
    bkg, bkg_err = local_background(data, xy, aperture["bkg_aperture_inner_radius"],
                                    aperture["bkg_aperture_outer_radius"])
    flux, ferr = aperture_photometry(data, err, xy, aperture["aperture_radii"], bkg)
    vega = np.nan if abvega_offset is None else float(abvega_offset)

    cat = QTable()
    cat["label"] = labels
    cat["xcentroid"] = x
    cat["ycentroid"] = y
    if wcs is not None:
        cat["sky_centroid"] = wcs.pixel_to_world(x, y)
    else:
        cat["sky_centroid"] = np.full(n, None)
    cat["aper_bkg_flux"] = bkg * u.Jy
    cat["aper_bkg_flux_err"] = bkg_err * u.Jy
    names = [f"aper{e}" for e in ee]
    corr = np.asarray(aperture["aperture_corrections"], dtype=float)
    total, total_err = corr[-1] * flux[-1], corr[-1] * ferr[-1]
    for k, name in enumerate(names):
        cat[f"{name}_flux"] = flux[k] * u.Jy
        cat[f"{name}_flux_err"] = ferr[k] * u.Jy
    cat["aper_total_flux"] = total * u.Jy
    cat["aper_total_flux_err"] = total_err * u.Jy
    mags = [flux_to_abmag(flux[k], ferr[k]) for k in range(len(names))] + [flux_to_abmag(total, total_err)]
    for (m, me), name in zip(mags, names + ["aper_total"]):
        cat[f"{name}_abmag"] = m
        cat[f"{name}_abmag_err"] = me
    for (m, me), name in zip(mags, names + ["aper_total"]):
        cat[f"{name}_vegamag"] = m - vega
        cat[f"{name}_vegamag_err"] = me
    with np.errstate(divide="ignore", invalid="ignore"):
        ci = [flux[1] / flux[0], flux[2] / flux[1], flux[2] / flux[0]]
    cat[f"CI_{ee[1]}_{ee[0]}"] = ci[0]
    cat[f"CI_{ee[2]}_{ee[1]}"] = ci[1]
    cat[f"CI_{ee[2]}_{ee[0]}"] = ci[2]
    with np.errstate(invalid="ignore"):
        cat["is_extended"] = (ci[0] > ci_star_thresholds[0]) & (ci[1] > ci_star_thresholds[1])
    sharp, rnd = daofind_sharpness_roundness(data, xy, kernel_fwhm)
    cat["sharpness"] = sharp
    cat["roundness"] = rnd
    nn_label, nn_dist = nearest_neighbours(xy, labels)
    cat["nn_label"] = nn_label
    cat["nn_dist"] = nn_dist * u.pix
    iso = _col(sources, "flux", n)
    iso_err = _col(sources, "segment_flux_err", n)
    cat["isophotal_flux"] = iso * u.Jy
    cat["isophotal_flux_err"] = iso_err * u.Jy
    m, me = flux_to_abmag(iso, iso_err)
    cat["isophotal_abmag"] = m
    cat["isophotal_abmag_err"] = me
    cat["isophotal_vegamag"] = m - vega
    cat["isophotal_vegamag_err"] = me
    cat["isophotal_area"] = _col(sources, "area", n) * u.pix ** 2
    cat["semimajor_sigma"] = _col(sources, "semimajor_axis", n) * u.pix
    cat["semiminor_sigma"] = _col(sources, "semiminor_axis", n) * u.pix
    cat["ellipticity"] = sources["ellipticity"] if "ellipticity" in sources.colnames else np.full(n, np.nan)
    orient = _col(sources, "orientation", n)
    cat["orientation"] = orient * u.deg
    if sky_angle_deg is None:
        cat["sky_orientation"] = np.full(n, np.nan) * u.deg
    else:
        cat["sky_orientation"] = np.mod(180.0 - sky_angle_deg + orient, 360.0) * u.deg
    for corner in ("ll", "ul", "lr", "ur"):
        name = f"sky_bbox_{corner}"
        cat[name] = sources[name] if name in sources.colnames else np.full(n, None)
    _describe_and_format(cat, ee)
    return cat


def _describe_and_format(cat, ee):
    for name in cat.colnames:
        desc = COLUMN_DESCRIPTIONS.get(name)
        if desc is None:
            if name.startswith("CI_"):
                a, b = name[3:].split("_")
                desc = f"Concentration index: aper{a}_flux / aper{b}_flux"
            elif name.startswith("aper"):
                kind = "flux" if "flux" in name else ("AB magnitude" if "abmag" in name else "Vega magnitude")
                what = ("total (aperture-corrected, point sources) " if "total" in name
                        else f"{name.split('_')[0][4:]}% encircled-energy aperture ")
                desc = f"{'Error of the ' if name.endswith('_err') else ''}{what}{kind}".strip()
            else:
                desc = name
        cat[name].info.description = desc
        if name in ("xcentroid", "ycentroid") or name.startswith("CI_"):
            cat[name].info.format = ".4f"
        if "flux" in name:
            cat[name].info.format = ".6e"
        if ("abmag" in name or "vegamag" in name or name in ("nn_dist", "sharpness", "roundness", "semimajor_sigma",
                                                             "semiminor_sigma", "ellipticity", "orientation",
                                                             "sky_orientation")):
            cat[name].info.format = ".6f"
