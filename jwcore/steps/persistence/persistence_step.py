"""``persistence`` step (``jwst`` 3.0: flag groups in persistence windows; skipped by default)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import BadInputError
from ...runner import Param, SkipStep
from .._stepbase import RampStep
from .persistence import flag_persistence, mjd_to_epoch

__all__ = ["PersistenceStep"]


class PersistenceStep(RampStep):
    """Flag PERSISTENCE in the groups that follow a saturation (or a level above
    ``dn_threshold``) within ``persistence_time`` seconds (see
    :mod:`jwcore.steps.persistence.persistence`).

    As in ``jwst`` 3.0 the step is skipped by default (``skip=True``) and needs no reference
    file.  Without a positive ``persistence_time`` it records FAILED.  The window end times
    can be carried between exposures: ``persistence_array_file`` (an ASDF file, one entry per
    detector: rows, cols, vals, pers_time) is read first when its ``pers_time`` equals
    ``persistence_time``, and ``save_persistence`` writes the windows still open at the end.

    (The trap-density model of older ``jwst`` versions, with TRAPDENSITY/TRAPPARS/PERSAT
    references, is gone from ``jwst`` 3.0 and is not implemented.)
    """

    name = "persistence"
    class_alias = "persistence"
    description = "Flag groups affected by persistence"
    spec = (
        Param("save_persistence", str, None, "Name of ASDF output file to save the persistence array", nullable=True),
        Param("persistence_time", int, None, "Time, in seconds, to use for persistence window", nullable=True),
        Param("dn_threshold", float, None, "A threshold above which to flag persistence.", nullable=True),
        Param("persistence_array_file", str, None,
              "A path to an ASDF file containing a 2-D array of persistence times per pixel", nullable=True),
        Param("persistence_dnu", bool, False, "If True the set the DO_NOT_USE flag with PERSISTENCE"),
        Param("skip", bool, True, "By default, skip the step."),
    )
    reference_file_types = ()

    def run(self, model, ctx=None):
        self._failed = False
        result = super().run(model, ctx)
        if self._failed:
            for target in [result.model, *result.extras.values()]:
                target.meta.cal_step.persistence = "FAILED"
        return result

    def process(self, model, refs):
        if self.persistence_time is None or self.persistence_time <= 0:
            self.log.info("Persistence step failed due to invalid persistence_time.")
            self._failed = True
            return model
        if model.data.ndim != 4:
            raise SkipStep(f"don't understand shape {model.data.shape} of input data")
        nints, _, ny, nx = model.data.shape
        meta = model.meta
        detector = meta.instrument.detector
        windows = self._read_windows(detector, ny, nx)
        start = meta.exposure.start_time
        if start is None:
            raise BadInputError("persistence needs the exposure start time (EXPSTART)")
        epoch = mjd_to_epoch(float(start))
        int_time = meta.exposure.integration_time or 0.0
        table = model.int_times if model.has("int_times") else None
        starts = []
        for i in range(nints):
            if table is not None and len(table) > i:
                starts.append(mjd_to_epoch(float(table[i]["int_start_MJD_UTC"])))
            else:
                starts.append(epoch + i * int_time)
        windows = flag_persistence(
            model.groupdq, model.data, start_times=starts, group_time=float(meta.exposure.group_time),
            persistence_time=float(self.persistence_time), persistence_array=windows,
            dn_threshold=self.dn_threshold, dnu=self.persistence_dnu,
        )
        if self.save_persistence is not None:
            self._write_windows(windows, detector, meta.filename)
        return model

    def _read_windows(self, detector, ny, nx):
        windows = np.zeros((ny, nx), np.float64)
        path = self.persistence_array_file
        if path is None:
            return windows
        if not Path(path).exists():
            self.log.info("Persistence array file %s does not exist; creating a new persistence array", path)
            return windows
        import asdf

        with asdf.open(path) as af:
            if detector not in af.tree:
                self.log.info("Detector %s not in persistence array file; creating a new array", detector)
                return windows
            entry = af.tree[detector]
            if entry["pers_time"] != self.persistence_time:
                self.log.info("%s does not equal persistence_time: %s", entry["pers_time"], self.persistence_time)
                return windows
            windows[np.asarray(entry["rows"]), np.asarray(entry["cols"])] = np.asarray(entry["vals"])
        return windows

    def _write_windows(self, windows, detector, filename):
        import asdf

        path = Path(self.save_persistence)
        if path.suffix != ".asdf":
            path = path.with_suffix(".asdf")
        rows, cols = np.nonzero(windows)
        tree = {}
        if path.exists():
            with asdf.open(path, lazy_load=False, memmap=False) as af:
                tree = {k: v for k, v in af.tree.items() if not k.startswith("asdf_")}
        tree[detector] = {"filename": filename, "rows": rows, "cols": cols, "vals": windows[rows, cols],
                          "pers_time": self.persistence_time}
        asdf.AsdfFile(tree).write_to(path)
        self.log.info("Saved the persistence array as %s", path)
