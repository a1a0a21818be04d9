"""Gain-scale step: rescale count rates taken with a non-standard gain setting."""

from .gain_scale import apply_gain_scale

__all__ = ["apply_gain_scale"]
