"""Ramp fitting (jwst ``ramp_fit`` step algorithms): OLS with optimal weighting (OLS_C) and
the likelihood fit (LIKELY)."""

from .likely import LikelyResult, fit_ramps_likely
from .miri import miri_group_range
from .ols import RampFitOpt, RampFitProduct, RampFitResult, default_block_rows, fit_ramps

__all__ = [
    "LikelyResult",
    "RampFitOpt",
    "RampFitProduct",
    "RampFitResult",
    "default_block_rows",
    "fit_ramps",
    "fit_ramps_likely",
    "miri_group_range",
]
