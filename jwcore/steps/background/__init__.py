"""Background step (``bkg_subtract``): subtract the clipped mean of background exposures."""

from .background import (
    Background, Window, average_background, overlap_cutout, subtract_background, window_from_meta,
)

__all__ = ["Background", "Window", "average_background", "overlap_cutout", "subtract_background",
           "window_from_meta"]
