"""NIRSpec reference-file selection keywords: reftype -> the metadata paths CRDS matches on.

INSTRUME is implied and USEAFTER against DATE-OBS/TIME-OBS is always applied on top; a
reference without one of these keywords, or with ``N/A``/``ANY``/a ``A|B|`` pattern, matches
as CRDS would (see :mod:`jwcore.refs.store`).

Provenance (checked 2025, jwst 3.0 era):

* jwst's "Reference Selection Keywords" tables (docs/jwst/references_general/*_selection.inc):
  mask (SUBARRAY, READPATT), saturation (SUBARRAY), superbias and dark (READPATT, SUBARRAY and
  the subarray geometry SUBSTRT1/2, SUBSIZE1/2), linearity, gain, readnoise, ipc,
  refpix (READPATT: the IRS2 coefficients), flat (FILTER, GRATING, EXP_TYPE),
  photom (EXP_TYPE only), area (FILTER, GRATING, EXP_TYPE), apcorr (EXP_TYPE).
* drizpars: NIRSpec has a drizpars rmap with no match parameters
  (crds/jwst/specs/nirspec_drizpars.rmap), so only USEAFTER selects.
* NIRSpec is absent from the persistence, distortion, filteroffset and abvegaoffset tables
  (its WCS uses the camera/collimator/fore/fpa/msa/ote references); a store that provides
  such a file anyway is matched on DETECTOR (DEFAULT_KEYS).
* The optical model (CRDS rmaps nirspec_{camera,collimator,fpa,ote,wavelengthrange}: EXP_TYPE;
  disperser: GRATING, EXP_TYPE; fore: EXP_TYPE, FILTER).  jwcal also matches DETECTOR: CRDS
  files carry ``P_DETECT = NRS1|NRS2|`` (so they still match), and the simulator writes one
  set per detector (its OTE is fitted to each detector's geometry).

Subarrays: a ``SUBARRAY=FULL``/``GENERIC`` mask, saturation, linearity, superbias, gain or
readnoise serves subarray exposures (jwst extracts the subarray, and the subarray geometry
keywords are then "don't care"); darks must match the subarray.
"""

from jwcore.refs.keys import (DEFAULT_KEYS, DETECTOR, EXP_TYPE, FILTER, GRATING, NIR_DETECTOR1,
                              READPATT, SUBARRAY, SUBARRAY_GEOMETRY)

__all__ = ["MATCH_KEYS", "DEFAULT_KEYS", "NOT_APPLICABLE"]

MATCH_KEYS = {
    # calwebb_detector1: the shared near-IR rows, with NIRSpec's own mask, saturation,
    # superbias and dark, plus refpix (no persistence)
    **NIR_DETECTOR1,
    "mask": (DETECTOR, SUBARRAY, READPATT),
    "saturation": (DETECTOR, SUBARRAY),
    "superbias": (DETECTOR, READPATT) + SUBARRAY_GEOMETRY,
    "dark": (DETECTOR, READPATT) + SUBARRAY_GEOMETRY,
    "refpix": (DETECTOR, READPATT),
    # calwebb_image2 (imaging-like modes)
    "flat": (DETECTOR, FILTER, GRATING, EXP_TYPE),
    "photom": (EXP_TYPE,),
    "area": (DETECTOR, FILTER, GRATING, EXP_TYPE),
    # assign_wcs: the optical model
    "camera": (DETECTOR, EXP_TYPE),
    "collimator": (DETECTOR, EXP_TYPE),
    "fpa": (DETECTOR, EXP_TYPE),
    "ote": (DETECTOR, EXP_TYPE),
    "wavelengthrange": (DETECTOR, EXP_TYPE),
    "disperser": (DETECTOR, GRATING, EXP_TYPE),
    "fore": (DETECTOR, EXP_TYPE, FILTER),
    # calwebb_image3 / spec3
    "drizpars": (),
    "apcorr": (EXP_TYPE,),
}

# Reftypes CRDS answers "N/A" for on NIRSpec (not in the jwst tables for this instrument).
NOT_APPLICABLE = frozenset({"reset", "rscd", "trapdensity", "trappars", "persat", "distortion",
                            "filteroffset", "abvegaoffset"})
