"""jwcal-nirspec: NIRSPEC for jwcal (see plugin.py)."""
