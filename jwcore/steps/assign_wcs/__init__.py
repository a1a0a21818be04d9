"""assign_wcs step: the instrument plugin builds the gwcs (``jwcal_build_wcs``); the step stores
it, writes S_REGION and the FITS TAN-SIP approximation (:mod:`jwcore.wcs.fitsapprox`)."""
