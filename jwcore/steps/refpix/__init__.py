"""Reference-pixel correction (``refpix``): NIR detectors in :mod:`.nir`, NIRSpec IRS2 readouts in
:mod:`.irs2`, MIRI in :mod:`.miri`."""
