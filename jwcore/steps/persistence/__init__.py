"""Persistence step: flag groups inside a persistence window opened by saturation."""

from .persistence import flag_persistence, mjd_to_epoch

__all__ = ["flag_persistence", "mjd_to_epoch"]
