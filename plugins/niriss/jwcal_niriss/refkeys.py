"""NIRISS reference-file selection keywords: reftype -> the metadata paths CRDS matches on.

INSTRUME is implied and USEAFTER against DATE-OBS/TIME-OBS is always applied on top; a
reference without one of these keywords, or with ``N/A``/``ANY``/a ``A|B|`` pattern, matches
as CRDS would (see :mod:`jwcore.refs.store`).

Provenance (checked 2025, jwst 3.0 era):

* jwst's "Reference Selection Keywords" tables (docs/jwst/references_general/*_selection.inc):
  mask, saturation, superbias, linearity, dark (READPATT, SUBARRAY), gain, readnoise, ipc,
  trapdensity, trappars, persat, flat (FILTER, PUPIL), photom, area, filteroffset (EXP_TYPE),
  apcorr, abvegaoffset, drizpars (INSTRUME only).
* distortion: the docs table (EXP_TYPE, PUPIL) plus FILTER, which the NIRISS distortion rmap
  header in the crds package (crds/jwst/specs/niriss_distortion.rmap) lists as a parkey.
* The user manual's older "CRDS Selection Criteria" (flat by DETECTOR/FILTER only, dark by
  DETECTOR/SUBARRAY) are superseded by the tables above.

Subarrays: a ``SUBARRAY=FULL``/``GENERIC`` mask, linearity, superbias, gain or readnoise
serves subarray exposures (jwst extracts the subarray); darks must match the subarray.
"""

from jwcore.refs.keys import (DEFAULT_KEYS, DETECTOR, EXP_TYPE, FILTER, IMAGE3, NIR_DETECTOR1,
                              PERSISTENCE, PUPIL)

__all__ = ["MATCH_KEYS", "DEFAULT_KEYS", "NOT_APPLICABLE"]

MATCH_KEYS = {
    # calwebb_detector1: the shared near-IR rows as they are
    **NIR_DETECTOR1,
    **PERSISTENCE,
    # calwebb_image2
    "distortion": (EXP_TYPE, FILTER, PUPIL),
    "filteroffset": (EXP_TYPE,),
    "flat": (DETECTOR, FILTER, PUPIL),
    "photom": (DETECTOR,),
    "area": (DETECTOR, FILTER, PUPIL, EXP_TYPE),
    # calwebb_image3
    **IMAGE3,
}

# Reftypes CRDS answers "N/A" for on NIRISS (not in the jwst tables for this instrument).
NOT_APPLICABLE = frozenset({"refpix", "reset", "rscd"})
