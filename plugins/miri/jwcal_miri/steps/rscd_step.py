"""``rscd`` step: flag the RSCD-affected first groups of MIRI integrations DO_NOT_USE."""

from __future__ import annotations

import numpy as np

from jwcore.errors import BadInputError
from jwcore.runner import SkipStep
from jwcore.steps._stepbase import RampStep

from ..algorithms.rscd import flag_rscd, rscd_group_skip
from ._common import require_miri


def _group_skip_table(path):
    """The RSCD_GROUP_SKIP table of an RSCD reference file (read directly from the FITS file)."""
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        for extname in ("RSCD_GROUP_SKIP", "RSCD"):
            if extname in hdul and hdul[extname].data is not None:
                return np.asarray(hdul[extname].data).copy()
    raise BadInputError(f"RSCD reference {path} has no RSCD_GROUP_SKIP table")


def _text(value):
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip() if isinstance(value, str) else value


def _rows(table):
    """The table as a list of dicts with lower-case column names and stripped strings."""
    names = table.dtype.names or ()
    return [{n.lower(): _text(row[n]) for n in names} for row in table]


class RscdStep(RampStep):
    """Flag the first groups of each integration DO_NOT_USE, as many as the RSCD reference's
    RSCD_GROUP_SKIP table gives for the exposure's SUBARRAY and READPATT (integration 1 and
    integrations 2+ separately), backing off for saturated pixels; records the counts in
    ``meta.rscd``.  SKIPPED for non-MIRI data, when RSCD is N/A, when the table has no row
    for the exposure, or with fewer than 3 groups."""

    name = "rscd"
    class_alias = "rscd"
    description = "Flag the first N groups of an integration of MIRI data DO_NOT_USE"
    spec = ()
    reference_file_types = ("rscd",)

    def process(self, model, refs):
        require_miri(model, "RSCD")
        path = refs.path("rscd")
        if path is None:
            raise SkipStep("no RSCD reference file (N/A); rscd step skipped")
        table = _group_skip_table(path)
        meta = model.meta
        table = _rows(table)
        skips = rscd_group_skip(table, str(meta.subarray.name or ""), str(meta.exposure.readpatt or ""))
        if skips is None:
            raise SkipStep("READPATT, SUBARRAY combination not found in ref file: RSCD correction skipped")
        if skips[0] < 0:
            self.log.warning("RSCD reference file is of a deprecated model: skipping 1 group in integration 1")
        result = flag_rscd(model.groupdq, model.pixeldq, skip_int1=skips[0], skip_int2p=skips[1],
                           nints=meta.exposure.nints, integration_start=meta.exposure.integration_start)
        if result["status"] != "COMPLETE":
            raise SkipStep("Too few groups to apply RSCD correction")
        for key, value in result.items():
            if key != "status" and value is not None:
                model.meta.set(f"rscd.{key}", value)
        return model
