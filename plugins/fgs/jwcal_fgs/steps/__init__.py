"""FGS-specific steps."""
