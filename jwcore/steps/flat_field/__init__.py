"""Flat-field step (imaging): divide by the FLAT reference, VAR_FLAT, DQ propagation."""

from .flat_field import FlatResult, apply_flat, match_nans_and_flags, prepare_flat

__all__ = ["FlatResult", "apply_flat", "match_nans_and_flags", "prepare_flat"]
