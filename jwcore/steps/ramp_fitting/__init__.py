"""Ramp fitting (jwst ``ramp_fit`` step algorithm): OLS with optimal weighting."""

from .miri import miri_group_range
from .ols import RampFitOpt, RampFitProduct, RampFitResult, default_block_rows, fit_ramps

__all__ = [
    "RampFitOpt",
    "RampFitProduct",
    "RampFitResult",
    "default_block_rows",
    "fit_ramps",
    "miri_group_range",
]
