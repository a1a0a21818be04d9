"""jwcal-nircam: NIRCAM for jwcal (see plugin.py)."""
