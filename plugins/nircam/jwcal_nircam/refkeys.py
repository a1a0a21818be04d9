"""NIRCam reference-file selection keywords: reftype -> the metadata paths CRDS matches on.

INSTRUME is implied (the store keeps references per instrument) and USEAFTER against the
exposure's DATE-OBS/TIME-OBS is always applied on top.  A reference that does not carry one
of these keywords, or carries ``N/A``/``ANY``/a ``A|B|`` pattern, matches as CRDS would
(see :mod:`jwcore.refs.store`).

Provenance (checked 2025, jwst 3.0 era):

* jwst's "Reference Selection Keywords" tables (docs/jwst/references_general/*_selection.inc,
  the reference-file pages of jwst-pipeline.readthedocs.io): mask, saturation, superbias,
  linearity, dark (EXP_TYPE, NOUTPUTS, SUBARRAY: NIRCam darks are not selected by READPATT),
  gain, readnoise, ipc, trapdensity, trappars, persat, flat, photom, area, filteroffset
  (CHANNEL, MODULE), apcorr, abvegaoffset, drizpars (INSTRUME only).
* distortion: the docs table (EXP_TYPE, DETECTOR, CHANNEL, FILTER) plus PUPIL, which the
  NIRCam distortion rmap selects on (jwst PR #6763, "matches actual rmap criteria").
* The user manual's older "CRDS Selection Criteria" sections agree on DETECTOR for mask,
  ipc, linearity and persistence, DETECTOR/FILTER/PUPIL for flat, and DETECTOR/SUBARRAY for
  dark; where they differ, the newer tables win.

Subarrays: gain, readnoise, mask, linearity and superbias list SUBARRAY, but jwst cuts the
subarray out of a full-frame reference, so a ``SUBARRAY=FULL`` (or ``GENERIC``) file serves
subarray exposures when no file for that subarray exists; darks must match the exposure's
subarray (``jwcore.refs.store.FULL_FRAME_SERVES_SUBARRAYS``).
"""

from jwcore.refs.keys import (CHANNEL, DEFAULT_KEYS, DETECTOR, EXP_TYPE, FILTER, IMAGE3, MODULE,
                              NIR_DETECTOR1, NOUTPUTS, PERSISTENCE, PUPIL, SUBARRAY)

__all__ = ["MATCH_KEYS", "DEFAULT_KEYS", "NOT_APPLICABLE"]

MATCH_KEYS = {
    # calwebb_detector1: the shared near-IR rows, but darks by EXP_TYPE and NOUTPUTS, not READPATT
    **NIR_DETECTOR1,
    "dark": (DETECTOR, EXP_TYPE, NOUTPUTS, SUBARRAY),
    **PERSISTENCE,
    # calwebb_image2
    "distortion": (DETECTOR, EXP_TYPE, CHANNEL, FILTER, PUPIL),
    "filteroffset": (CHANNEL, MODULE),
    "flat": (DETECTOR, FILTER, PUPIL),
    "photom": (DETECTOR,),
    "area": (DETECTOR, FILTER, PUPIL, EXP_TYPE),
    # calwebb_image3
    **IMAGE3,
}

# Reftypes CRDS answers "N/A" for on NIRCam (not in the jwst tables for this instrument).
NOT_APPLICABLE = frozenset({"refpix", "reset", "rscd"})
