"""Linearity step: polynomial classic-nonlinearity correction."""

from .linearity import apply_linearity, evaluate_polynomial, prepare_coefficients

__all__ = ["apply_linearity", "evaluate_polynomial", "prepare_coefficients"]
