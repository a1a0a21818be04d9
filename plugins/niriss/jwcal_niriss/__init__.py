"""jwcal-niriss: NIRISS for jwcal (see plugin.py)."""
