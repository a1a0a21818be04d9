"""Group-scale step: undo the power-of-two on-board frame-averaging divisor."""

from .group_scale import apply_group_scale, group_scale_factor

__all__ = ["apply_group_scale", "group_scale_factor"]
