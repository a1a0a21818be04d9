"""Ready-made WCS builders for instrument plugins (they read the selected reference files).

An instrument plugin's ``jwcal_build_wcs`` typically checks that the exposure is one of its
imaging modes and calls :func:`imaging_wcs_from_references` with how its filter-offset file
is matched.
"""

from __future__ import annotations

import logging

from ..errors import ReferenceFileError
from .imaging import imaging_wcs_for
from .reffiles import find_filter_offset, load_distortion, load_filter_offsets

log = logging.getLogger("jwcal.wcs")

__all__ = ["imaging_wcs_from_references"]


def imaging_wcs_from_references(model, references, *, offset_match=None, offset_required=False):
    """The imaging gwcs of ``model`` from its ``distortion`` (and ``filteroffset``) references.

    ``offset_match``: ``{filteroffset key: metadata path}`` (e.g. ``{"filter":
    "meta.instrument.filter", "pupil": "meta.instrument.pupil"}``), or ``None`` when the
    instrument has no filter offsets.  ``offset_required``: a missing (N/A) filteroffset
    reference is an error rather than "no offset".
    """
    path = references.path("distortion")
    if path is None:
        raise ReferenceFileError("an imaging WCS needs a DISTORTION reference (selection gave N/A)")
    distortion = load_distortion(path)
    offset = None
    if offset_match is not None:
        opath = references.path("filteroffset") if "filteroffset" in references.selections else None
        if opath is None and offset_required:
            raise ReferenceFileError("this instrument's imaging WCS needs a FILTEROFFSET reference")
        if opath is not None:
            meta = model.meta
            match = {k: meta.get(p[len("meta."):] if p.startswith("meta.") else p) for k, p in offset_match.items()}
            offset = find_filter_offset(load_filter_offsets(opath), match)
            if offset is None:
                log.info("No filter offset matches %s", match)
            else:
                log.info("Filter offset (column, row) = %s", offset)
    return imaging_wcs_for(model.meta, model.data.shape, distortion, filter_offset=offset)
