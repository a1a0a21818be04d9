"""Dark-current step: subtract the (frame-averaged) dark ramp."""

from .dark_current import apply_dark, averaged_dark, extrapolated_groups

__all__ = ["apply_dark", "averaged_dark", "extrapolated_groups"]
