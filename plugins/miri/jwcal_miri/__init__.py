"""jwcal-miri: MIRI for jwcal (see plugin.py)."""
