"""tweakreg: find point sources in each exposure, match the catalogs, fit shift/rotation
(/scale) and insert jwst's tangent-plane correction (``v2v3corr``) into each exposure's WCS."""

from .align import AlignError, Exposure, MatchParams, RefCatalog, absolute_align, align_groups, relative_align
from .detect import background, find_sources
from .fit import iter_linear_fit
from .match import estimate_2dhist_shift, match_catalogs, xyxymatch
from .tangent import TangentPlane, corrected_wcs, existing_correction, sky_rotation, tpcorr_model

__all__ = [
    "AlignError", "Exposure", "MatchParams", "RefCatalog", "TangentPlane", "absolute_align", "align_groups",
    "background", "corrected_wcs", "estimate_2dhist_shift", "existing_correction", "find_sources",
    "iter_linear_fit", "match_catalogs", "relative_align", "sky_rotation", "tpcorr_model", "xyxymatch",
]
