"""NIRISS commissioning analyses on arrays (no file I/O): photometry, filter offsets,
encircled energy, surface brightness, mean profiles, aperture corrections, count rates."""

from .apcorr import TotalFlux, aperture_corrected_total
from .countrates import JWST_AREA_CM2, countrate_numpy, countrate_synphot, expected_countrate
from .ee import EEResult, encircled_energy, median_filter_values, polyfit_values
from .means import MeanProfile, mean_profiles, monotonic_flags
from .offsets import OffsetResult, filter_offsets, match_catalogs
from .photometry import (
    ApertureResult, Catalog, Centroid, aperture_photometry, aperture_weights, centroid,
    rect_circle_overlap, simplephot,
)
from .sb import SBResult, surface_brightness
from .stats import ClippedStats, clipped_stats, sigma_clip_mask

__all__ = [n for n in dir() if not n.startswith("_")]
