"""MIRI-only detector1 steps (thin wrappers around :mod:`jwcal_miri.algorithms`)."""

from .firstframe_step import FirstFrameStep
from .lastframe_step import LastFrameStep
from .reset_step import ResetStep
from .rscd_step import RscdStep

STEPS = (FirstFrameStep, LastFrameStep, ResetStep, RscdStep)

__all__ = ["FirstFrameStep", "LastFrameStep", "ResetStep", "RscdStep", "STEPS"]
