"""MIRI reference-file selection keywords: reftype -> the metadata paths CRDS matches on.

INSTRUME is implied and USEAFTER against DATE-OBS/TIME-OBS is always applied on top; a
reference without one of these keywords, or with ``N/A``/``ANY``/a ``A|B|`` pattern, matches
as CRDS would (see :mod:`jwcore.refs.store`).

Provenance (checked 2025, jwst 3.0 era):

* jwst's "Reference Selection Keywords" tables (docs/jwst/references_general/*_selection.inc,
  distortion_reffile.rst, filteroffset_reffile.rst): mask (SUBARRAY), saturation,
  linearity (SUBARRAY, BAND, FILTER), dark (READPATT, SUBARRAY), gain, readnoise, ipc, rscd,
  flat (FILTER, BAND, READPATT, SUBARRAY), photom (BAND), area (FILTER, EXP_TYPE),
  distortion (EXP_TYPE, CHANNEL, BAND), filteroffset (EXP_TYPE), apcorr, abvegaoffset,
  drizpars (INSTRUME only).
* reset: the user manual's "CRDS Selection Criteria" (INSTRUME, DETECTOR, READPATT,
  SUBARRAY), the same parkeys as the reset rmap header in the crds package
  (crds/jwst/specs/miri_reset.rmap).
* MIRI is absent from the persistence tables (the manual: "there are no reference files for
  MIRI"): trapdensity/trappars/persat are N/A; a store that has one anyway matches it on
  DETECTOR (DEFAULT_KEYS, the parkey of crds/jwst/specs/miri_trapdensity.rmap).

Subarrays: a ``SUBARRAY=FULL``/``GENERIC`` mask, linearity, gain, readnoise or flat serves
subarray exposures (jwst extracts the subarray); darks and resets must match the subarray.
"""

from jwcore.refs.keys import (BAND, CHANNEL, DEFAULT_KEYS, DETECTOR, EXP_TYPE, FILTER, IMAGE3,
                              READPATT, SUBARRAY)

__all__ = ["MATCH_KEYS", "DEFAULT_KEYS", "NOT_APPLICABLE"]

MATCH_KEYS = {
    # calwebb_detector1
    "mask": (DETECTOR, SUBARRAY),
    "saturation": (DETECTOR,),
    "ipc": (DETECTOR,),
    "reset": (DETECTOR, READPATT, SUBARRAY),
    "linearity": (DETECTOR, SUBARRAY, BAND, FILTER),
    "rscd": (DETECTOR,),
    "dark": (DETECTOR, READPATT, SUBARRAY),
    "gain": (DETECTOR, SUBARRAY),
    "readnoise": (DETECTOR, READPATT, SUBARRAY),
    # calwebb_image2
    "distortion": (DETECTOR, EXP_TYPE, CHANNEL, BAND),
    "filteroffset": (DETECTOR, EXP_TYPE),
    "flat": (DETECTOR, FILTER, BAND, READPATT, SUBARRAY),
    "photom": (DETECTOR, BAND),
    "area": (DETECTOR, FILTER, EXP_TYPE),
    # calwebb_image3
    **IMAGE3,
}

# Reftypes CRDS answers "N/A" for on MIRI (not in the jwst tables for this instrument).
NOT_APPLICABLE = frozenset({"superbias", "refpix", "trapdensity", "trappars", "persat"})
