"""Reference-pixel correction (``refpix``): NIR detectors in :mod:`.nir`, MIRI in :mod:`.miri`."""
