"""Drizzle resampling (``resample`` step) and the shared stage-3 helpers (library views,
mosaic grids, sky geometry) that ``skymatch`` and ``outlier_detection`` use too."""
