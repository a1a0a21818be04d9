"""jwcal-fgs: FGS for jwcal (see plugin.py)."""
