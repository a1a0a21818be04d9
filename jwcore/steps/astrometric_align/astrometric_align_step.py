"""``astrometric_align``: apply a tabulated absolute astrometric correction to an image's WCS.

The correction for the exposure (or visit, or observation) is looked up in ``table`` (see
:mod:`jwcore.astrometry.table`) and put into ``meta.wcs``; the FITS WCS keywords and S_REGION
follow.  Not in any pipeline by default: insert it after ``assign_wcs`` (or anywhere later in
image2) by configuration::

    [steps.astrometric_align]
    insert_after = "assign_wcs"
    table = "alignment/ngc0628_shifts.ecsv"
"""

from __future__ import annotations

from functools import lru_cache

from ...errors import BadInputError
from ...runner import Param, SkipStep, Step


@lru_cache(maxsize=8)
def _table(path: str, mtime: float):
    from ...astrometry import read_alignment_table

    return read_alignment_table(path)


def load_table(path):
    import os

    return _table(str(path), os.path.getmtime(path) if os.path.exists(path) else 0.0)


class AstrometricAlignStep(Step):
    name = "astrometric_align"
    class_alias = "AstrometricAlignStep"
    description = "Apply a tabulated absolute astrometric correction (shift, rotation) to the WCS"
    spec = (
        Param("table", str, None, "Alignment table (FITS/ECSV/CSV) with per-exposure/visit corrections", nullable=True),
        Param("missing", str, "skip", "When no row matches: skip the step or fail", choices=("skip", "error")),
    )

    def process(self, model, refs):
        from ...astrometry import apply_correction, keys_for

        if not self.table:
            raise SkipStep("no alignment table given (table=...)")
        if model.model_type not in ("ImageModel", "CubeModel"):
            raise SkipStep(f"astrometric_align handles images, not {model.model_type}")
        table = load_table(self.table)
        keys = keys_for(model.meta, model.meta.filename or (self.context and self.context.input_path))
        found = table.lookup(keys)
        if found is None:
            msg = f"no row of {self.table} matches {keys.get('file')} ({', '.join(f'{k}={v}' for k, v in keys.items())})"
            if self.missing == "error":
                raise BadInputError(msg)
            raise SkipStep(msg)
        what, value, corr = found
        center = apply_correction(model, corr)
        self.log.info("Applied %s=%s: dra=%.4f\" ddec=%.4f\" rotation=%.5f deg scale=%.7f about (%.6f, %.6f)",
                      what, value, corr.dra, corr.ddec, corr.rotation, corr.scale, *center)
        return model
