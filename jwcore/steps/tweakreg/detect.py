"""Source detection for tweakreg and source_catalog (photutils finders, jwst's settings).

* Background: photutils ``Background2D`` in ``bkg_boxsize`` meshes (3-sigma clipped median,
  3x3 median filter of the mesh); when the meshes do not fit, one mesh over the whole
  unmasked image.  The detection threshold is ``snr_threshold`` x the background RMS map.
* Finders (``starfinder``): ``"iraf"`` (``IRAFStarFinder``, tweakreg's default), ``"dao"``
  (``DAOStarFinder``) -- both with the median threshold, on the background-subtracted image
  -- or ``"segmentation"`` (``SourceFinder`` on the image convolved with a Gaussian of
  ``kernel_fwhm`` and ``SourceCatalog`` properties; source_catalog's default).
* Masked: pixels flagged DO_NOT_USE or NON_SCIENCE (or the caller's coverage mask).

The returned table uses jwst's column names (``id``, ``xcentroid``, ``ycentroid``, ``flux``,
...).  No I/O, no logging configuration.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from ... import dq as dqflags

log = logging.getLogger("jwcal.step.tweakreg")

__all__ = ["FINDERS", "EXTRA_SEGMENT_COLUMNS", "background", "convolve_fwhm", "coverage_from_dq", "find_sources"]

FINDERS = ("iraf", "dao", "segmentation")
# photutils' default SourceCatalog columns plus these (as jwst asks for)
EXTRA_SEGMENT_COLUMNS = ("ellipticity", "sky_bbox_ll", "sky_bbox_ul", "sky_bbox_lr", "sky_bbox_ur")
_RENAME = {"pa": "orientation", "npix": "area", "segment_flux": "flux", "label": "id",
           "x_centroid": "xcentroid", "y_centroid": "ycentroid"}


def coverage_from_dq(dq) -> np.ndarray | None:
    if dq is None:
        return None
    return (np.asarray(dq) & (dqflags.DO_NOT_USE | dqflags.NON_SCIENCE)) != 0


def background(data, box_size, coverage_mask=None):
    """``(background, rms)`` maps of ``data`` (see the module docstring)."""
    from astropy.stats import SigmaClip
    from astropy.utils.exceptions import AstropyUserWarning
    from photutils.background import Background2D, MedianBackground

    kw = dict(filter_size=(3, 3), coverage_mask=coverage_mask, sigma_clip=SigmaClip(sigma=3.0),
              bkg_estimator=MedianBackground())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        try:
            bkg = Background2D(data, box_size, **kw)
        except ValueError:
            bkg = Background2D(data, data.shape, exclude_percentile=100.0, **kw)
            log.info("Background could not be estimated in meshes; using the whole unmasked image "
                     "(bkg_boxsize=%s).", data.shape)
        return bkg.background, bkg.background_rms


def convolve_fwhm(data, fwhm: float, mask=None):
    """``data`` convolved with a normalized circular Gaussian of ``fwhm`` pixels."""
    from astropy.convolution import Gaussian2DKernel, convolve
    from astropy.stats import gaussian_fwhm_to_sigma
    from astropy.utils.exceptions import AstropyUserWarning

    kernel = Gaussian2DKernel(fwhm * gaussian_fwhm_to_sigma)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        return convolve(data, kernel, mask=mask)


def _empty():
    from astropy.table import QTable

    return QTable(names=("id", "xcentroid", "ycentroid", "flux"), dtype=(int, float, float, float))


def _rename(table):
    import astropy.units as u

    for old, new in _RENAME.items():
        if old in table.colnames and new not in table.colnames:
            table.rename_column(old, new)
    if "orientation" in table.colnames and getattr(table["orientation"], "unit", None) is None:
        table["orientation"] = u.Quantity(table["orientation"], u.deg)
    return table


def find_sources(data, *, snr_threshold: float, kernel_fwhm: float, bkg_boxsize: int = 400,
                 starfinder: str = "iraf", coverage_mask=None, error=None, wcs=None,
                 sigma_radius: float = 1.5, min_separation=None, sharpness_range=(0.5, 2.0),
                 roundness_range=(0.0, 0.2), n_brightest=None, peak_max=None, n_pixels: int = 10,
                 connectivity: int = 8, n_levels: int = 32, contrast: float = 0.001,
                 mode: str = "exponential", deblend: bool = True, local_bkg_width: int = 0,
                 aperture_mask_method: str = "correct", kron_params=None, relabel: bool = True):
    """Detect sources; returns ``(table, segmentation image or None)``.

    ``data`` is not modified.  The table is empty (columns ``id, xcentroid, ycentroid,
    flux``) when nothing is found or the background cannot be measured.
    """
    from photutils import use_future_column_names
    from photutils.utils import NoDetectionsWarning

    name = starfinder.lower()
    if name in ("iraf", "irafstarfinder"):
        name = "iraf"
    elif name in ("dao", "daostarfinder"):
        name = "dao"
    elif name in ("segmentation", "sourcefinder"):
        name = "segmentation"
    else:
        raise ValueError(f"unknown starfinder {starfinder!r}; use one of {', '.join(FINDERS)}")
    data = np.asarray(data)
    try:
        bkg, rms = background(data, bkg_boxsize, coverage_mask)
    except ValueError as exc:
        log.warning("Error determining sky background: %s", exc)
        return _empty(), None
    with np.errstate(invalid="ignore"):
        threshold = snr_threshold * rms
        sub = data - bkg
    segm = None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=NoDetectionsWarning)
        warnings.filterwarnings("ignore", message=".*NaN.*")
        with use_future_column_names():
            if name in ("iraf", "dao"):
                from photutils.detection import DAOStarFinder, IRAFStarFinder

                cls = IRAFStarFinder if name == "iraf" else DAOStarFinder
                finder = cls(float(np.median(threshold)), kernel_fwhm, sigma_radius=sigma_radius,
                             min_separation=min_separation, sharpness_range=sharpness_range,
                             roundness_range=roundness_range, n_brightest=n_brightest, peak_max=peak_max)
                sources = finder(sub, mask=coverage_mask)
            else:
                from photutils.segmentation import SourceCatalog, SourceFinder

                conv = convolve_fwhm(sub, kernel_fwhm, mask=coverage_mask) if kernel_fwhm > 0 else sub
                finder = SourceFinder(n_pixels, connectivity=connectivity, deblend=deblend,
                                      n_levels=n_levels, contrast=contrast, mode=mode, relabel=relabel,
                                      progress_bar=False)
                segm = finder(conv, threshold, mask=coverage_mask)
                if segm is None:
                    sources = None
                else:
                    cat = SourceCatalog(sub, segm, mask=coverage_mask, convolved_data=conv, error=error,
                                        wcs=wcs, local_bkg_width=local_bkg_width,
                                        aperture_mask_method=aperture_mask_method,
                                        kron_params=(2.5, 1.4, 0.0) if kron_params is None else tuple(kron_params))
                    from photutils.segmentation.catalog import DEFAULT_COLUMNS

                    sources = cat.to_table(columns=list(DEFAULT_COLUMNS) + list(EXTRA_SEGMENT_COLUMNS))
    if sources is None or len(sources) == 0:
        log.warning("No sources found in the image.")
        return _empty(), segm
    return _rename(sources), segm
