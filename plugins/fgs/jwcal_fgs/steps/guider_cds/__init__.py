"""``guider_cds``: count rates of the FGS guiding modes (ID, ACQ1/ACQ2, TRACK, FineGuide)."""

from .guider_cds import guider_cds

__all__ = ["guider_cds"]
