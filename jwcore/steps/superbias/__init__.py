"""Superbias step: subtract the bias image from every group."""

from .superbias import apply_superbias

__all__ = ["apply_superbias"]
