"""FGS reference-file selection keywords: reftype -> the metadata paths CRDS matches on.

INSTRUME is implied and USEAFTER against DATE-OBS/TIME-OBS is always applied on top; a
reference without one of these keywords, or with ``N/A``/``ANY``/a ``A|B|`` pattern, matches
as CRDS would (see :mod:`jwcore.refs.store`).

Provenance (checked 2025, jwst 3.0 era):

* jwst's "Reference Selection Keywords" tables (docs/jwst/references_general/*_selection.inc
  and distortion_reffile.rst): mask (SUBARRAY, EXP_TYPE), saturation, superbias, linearity,
  dark (READPATT, SUBARRAY), gain, readnoise, ipc, trapdensity, trappars, persat,
  flat (EXP_TYPE), photom, area, distortion (EXP_TYPE), apcorr, abvegaoffset.
* The user manual's older "CRDS Selection Criteria" (mask, flat by DETECTOR only) are
  superseded by the tables above.  FGS is absent from the drizpars and filteroffset tables.

Subarrays: a ``SUBARRAY=FULL``/``GENERIC`` mask, linearity, superbias, gain or readnoise
serves subarray exposures (jwst extracts the subarray); darks must match the subarray.
"""

from jwcore.refs.keys import (DEFAULT_KEYS, DETECTOR, EXP_TYPE, NIR_DETECTOR1, PERSISTENCE,
                              SUBARRAY)

__all__ = ["MATCH_KEYS", "DEFAULT_KEYS", "NOT_APPLICABLE"]

MATCH_KEYS = {
    # calwebb_detector1 / calwebb_guider: the shared near-IR rows, but masks also by EXP_TYPE
    **NIR_DETECTOR1,
    "mask": (DETECTOR, SUBARRAY, EXP_TYPE),
    **PERSISTENCE,
    # calwebb_image2
    "distortion": (DETECTOR, EXP_TYPE),
    "flat": (DETECTOR, EXP_TYPE),
    "photom": (DETECTOR,),
    "area": (DETECTOR,),
    # calwebb_image3 (no drizpars)
    "apcorr": (EXP_TYPE,),
    "abvegaoffset": (EXP_TYPE,),
}

# Reftypes CRDS answers "N/A" for on FGS (not in the jwst tables for this instrument).
NOT_APPLICABLE = frozenset({"refpix", "reset", "rscd", "filteroffset", "drizpars"})
