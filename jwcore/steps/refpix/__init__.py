"""Reference-pixel correction (``refpix``): NIR detectors in :mod:`.nir` (with the SIRS side-pixel
algorithm of :mod:`.sirs`), NIRSpec IRS2 readouts in :mod:`.irs2`, MIRI in :mod:`.miri`."""
