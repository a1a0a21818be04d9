"""Building blocks for the instrument plugins' reference-selection tables.

A plugin's ``refkeys.py`` declares ``MATCH_KEYS`` (reftype -> the metadata paths CRDS matches
on), ``DEFAULT_KEYS`` and ``NOT_APPLICABLE``.  This module holds what those tables share: the
metadata paths of the CRDS selection keywords and a few groups of rows.  A plugin writes its
table as a dict display that unpacks the groups it shares and spells out the rows that differ;
a row given after a group replaces that group's row and keeps its place::

    MATCH_KEYS = {
        **NIR_DETECTOR1,
        "dark": (DETECTOR, EXP_TYPE, NOUTPUTS, SUBARRAY),   # this instrument's own selector
        **PERSISTENCE,
        "flat": (DETECTOR, FILTER, PUPIL),
    }

The groups carry no provenance of their own: each plugin's docstring cites the jwst tables and
CRDS rmaps its rows, shared or not, come from.  The groups are read-only mappings.
"""

from __future__ import annotations

from types import MappingProxyType

# -- metadata paths of the CRDS selection keywords, each named after its FITS keyword -------
DETECTOR = "meta.instrument.detector"
FILTER = "meta.instrument.filter"
PUPIL = "meta.instrument.pupil"
GRATING = "meta.instrument.grating"
BAND = "meta.instrument.band"
CHANNEL = "meta.instrument.channel"
MODULE = "meta.instrument.module"
SUBARRAY = "meta.subarray.name"
SUBSTRT1 = "meta.subarray.xstart"
SUBSTRT2 = "meta.subarray.ystart"
SUBSIZE1 = "meta.subarray.xsize"
SUBSIZE2 = "meta.subarray.ysize"
READPATT = "meta.exposure.readpatt"
EXP_TYPE = "meta.exposure.type"
NOUTPUTS = "meta.exposure.noutputs"

#: SUBARRAY plus the subarray geometry, for references selected by the exact subarray window.
SUBARRAY_GEOMETRY = (SUBARRAY, SUBSTRT1, SUBSTRT2, SUBSIZE1, SUBSIZE2)

#: What a reftype missing from ``MATCH_KEYS`` is matched on.
DEFAULT_KEYS = (DETECTOR,)

# -- shared groups of rows ------------------------------------------------------------------
#: calwebb_detector1 as the near-infrared (HgCdTe) detectors' tables mostly give it.
NIR_DETECTOR1 = MappingProxyType({
    "mask": (DETECTOR, SUBARRAY),
    "saturation": (DETECTOR,),
    "ipc": (DETECTOR,),
    "superbias": (DETECTOR, READPATT, SUBARRAY),
    "linearity": (DETECTOR, SUBARRAY),
    "dark": (DETECTOR, READPATT, SUBARRAY),
    "gain": (DETECTOR, SUBARRAY),
    "readnoise": (DETECTOR, READPATT, SUBARRAY),
})

#: The persistence references (trapdensity, trappars, persat): DETECTOR only.
PERSISTENCE = MappingProxyType({
    "trapdensity": (DETECTOR,),
    "trappars": (DETECTOR,),
    "persat": (DETECTOR,),
})

#: calwebb_image3: drizpars by INSTRUME only, apcorr and abvegaoffset by EXP_TYPE.
IMAGE3 = MappingProxyType({
    "drizpars": (),
    "apcorr": (EXP_TYPE,),
    "abvegaoffset": (EXP_TYPE,),
})
