"""Saturation step: flag saturated and A/D-floor groups."""

from .saturation import ATOD_LIMIT, dilate, flag_saturation, flag_saturation_irs2

__all__ = ["ATOD_LIMIT", "dilate", "flag_saturation", "flag_saturation_irs2"]
