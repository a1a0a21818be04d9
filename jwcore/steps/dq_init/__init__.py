"""DQ initialisation step: fold the MASK reference into the science DQ arrays."""

from .dq_init import apply_dq_init, map_dq_def, unknown_dq_def_names

__all__ = ["apply_dq_init", "map_dq_def", "unknown_dq_def_names"]
