"""The ``photom`` step for imaging products (ImageModel, CubeModel).

The PHOTOM row is chosen with the columns the instrument plugin declares
(``jwcal_reference_row_keys(instrument, "photom", exp_type)``); the pixel-area map of the
AREA reference becomes the product's AREA extension and its PIXAR_SR/PIXAR_A2 (else the
PHOTOM file's) are copied.  Spectroscopic photom (wavelength-dependent responses) is not
implemented: such a PHOTOM row makes the step skip.
"""

from __future__ import annotations

import logging

import numpy as np

from ...errors import ReferenceFileError
from ...refs.rows import select_row
from ...runner import Param, SkipStep
from ...runner.step import Step

log = logging.getLogger("jwcal.step.photom")

TIME_TABLES = ("TIMECOEFF_LINEAR", "TIMECOEFF_EXPONENTIAL", "TIMECOEFF_POWERLAW")


def read_photom_tables(path) -> tuple[np.ndarray, dict, dict]:
    """``(PHOTOM table, {timecoeff_*: table}, primary header)`` of a PHOTOM reference file."""
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdul:
            names = {h.name.upper(): h for h in hdul[1:]}
            if "PHOTOM" not in names:
                raise ReferenceFileError(f"{path}: no PHOTOM table")
            table = np.asarray(names["PHOTOM"].data).copy()
            time = {n.lower(): np.asarray(names[n].data).copy() for n in TIME_TABLES
                    if n in names and names[n].data is not None}
            header = dict(hdul[0].header)
    except OSError as exc:
        raise ReferenceFileError(f"{path}: not a readable PHOTOM reference ({exc})") from None
    for name, t in time.items():
        if len(t) != len(table):
            raise ReferenceFileError(f"{path}: {name.upper()} has {len(t)} rows, PHOTOM has {len(table)}")
    return table, time, header


class PhotomStep(Step):
    name = "photom"
    class_alias = "PhotomStep"
    description = "Convert DN/s to MJy/sr (PHOTMJSR), attach the pixel-area map"
    spec = (
        Param("inverse", bool, False, "Divide by the conversion instead (undo photom)"),
        Param("source_type", str, None, "Process as this source type (spectroscopy only)", nullable=True),
        Param("apply_time_correction", bool, True, "Apply the reference's time-dependent throughput correction"),
    )
    reference_file_types = ("photom", "area")
    optional_references = ("area",)

    def process(self, model, refs):
        from .photom import MJSR_TO_UJA2, apply_conversion, conversion_factor, time_correction

        if model.model_type not in ("ImageModel", "CubeModel"):
            raise SkipStep(f"photom handles ImageModel and CubeModel inputs, not {model.model_type}")
        path = refs.path("photom")
        if path is None:
            raise SkipStep("no PHOTOM reference")
        meta = model.meta
        instrument = str(meta.instrument.name or "").upper()
        exp_type = str(meta.exposure.type or "").upper()
        keys = self.pm.hook.jwcal_reference_row_keys(instrument=instrument, reftype="photom", exp_type=exp_type)
        if keys is None:
            raise SkipStep(f"no plugin declares the PHOTOM row keys of {instrument} {exp_type}")
        table, time_tables, header = read_photom_tables(path)
        if "wavelength" in {n.lower() for n in table.dtype.names}:
            raise SkipStep("spectroscopic PHOTOM tables are not implemented")
        self._save_area_info(model, refs, header)

        row, match = select_row(table, keys, meta)
        if row is None:
            raise SkipStep(f"no PHOTOM row matches {match}")
        log.info("PHOTOM row %d matches %s", row, match)
        names = {n.lower(): n for n in table.dtype.names}
        if "photmjsr" not in names:
            raise ReferenceFileError(f"{path}: PHOTOM table has no PHOTMJSR column")
        photmjsr = table[names["photmjsr"]][row]
        correction = 1.0
        if self.apply_time_correction and time_tables:
            correction = time_correction(len(table), time_tables, meta.exposure.mid_time)[row]
            if correction != 1.0:
                log.info("Multiplicative time dependence correction is %.6g", correction)
        conversion = conversion_factor(photmjsr, correction)
        log.info("PHOTMJSR value: %.6g", conversion)
        meta.photometry.conversion_megajanskys = float(conversion)
        meta.photometry.conversion_microjanskys = float(conversion * MJSR_TO_UJA2)

        var = {n: getattr(model, n) if model.has(n) else None for n in ("var_poisson", "var_rnoise", "var_flat")}
        apply_conversion(conversion, model.data, model.err, model.dq, inverse=self.inverse, **var)
        unit = "DN/s" if self.inverse else "MJy/sr"
        meta.bunit_data = unit
        meta.bunit_err = unit
        return model

    def _save_area_info(self, model, refs, photom_header):
        meta = model.meta
        sr = a2 = None
        area = refs.open("area")
        if area is not None:
            sub = meta.subarray
            if None in (sub.xstart, sub.ystart, sub.xsize, sub.ysize):
                raise ReferenceFileError("science data has no subarray keywords (SUBSTRT/SUBSIZE)")
            y0, x0 = sub.ystart - 1, sub.xstart - 1
            pix = np.asarray(area.data)[y0:y0 + sub.ysize, x0:x0 + sub.xsize]
            model.area = pix.astype(np.float32, copy=True)
            log.info("Pixel area map copied to output.")
            sr = area.meta.photometry.pixelarea_steradians
            a2 = area.meta.photometry.pixelarea_arcsecsq
        else:
            sr, a2 = photom_header.get("PIXAR_SR"), photom_header.get("PIXAR_A2")
        if sr is None or a2 is None:
            log.warning("PIXAR_SR/PIXAR_A2 missing from the %s reference", "AREA" if area is not None else "PHOTOM")
        meta.photometry.pixelarea_steradians = None if sr is None else float(sr)
        meta.photometry.pixelarea_arcsecsq = None if a2 is None else float(a2)
