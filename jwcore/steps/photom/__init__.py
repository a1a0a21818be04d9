"""Photom step (imaging): PHOTMJSR from the instrument's PHOTOM row, pixel areas, MJy/sr."""

from .photom import (
    A2_TO_SR, MJSR_TO_UJA2, apply_conversion, conversion_factor, exponential_loss, linear_loss,
    powerlaw_loss, time_correction,
)

__all__ = ["A2_TO_SR", "MJSR_TO_UJA2", "apply_conversion", "conversion_factor", "exponential_loss",
           "linear_loss", "powerlaw_loss", "time_correction"]
