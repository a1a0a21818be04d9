"""The ``astrometric_align`` step (tabulated absolute astrometric corrections)."""

from .astrometric_align_step import AstrometricAlignStep

__all__ = ["AstrometricAlignStep"]
