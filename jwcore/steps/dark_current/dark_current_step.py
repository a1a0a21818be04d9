"""``dark_current`` step: subtract the (frame-averaged) dark ramp."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...runner import Param, SkipStep
from .._refs import cutout, extra_array, standard_dq
from .._stepbase import RampStep
from .dark_current import apply_dark, averaged_dark

__all__ = ["DarkCurrentStep"]


class DarkCurrentStep(RampStep):
    """Subtract the DARK reference, averaged to the science read pattern (NFRAMES, GROUPGAP;
    4-D per-integration darks as MIRI's use their integration), and OR its DQ into PIXELDQ.

    Also stores the average dark current used later by ``ramp_fit`` for the Poisson
    variance (``average_dark_current``, e-/s), in ``jwst``'s order of priority: the step
    parameter, the dark's AVDRKCUR image (if it has the science shape and is not all
    zero), the dark's AVDRKCUR keyword, else 0.

    ``dark_output`` writes the dark that was subtracted (the frame-averaged one, or the
    reference itself when the read patterns agree) as a DARK model file; a relative name
    goes to the output folder (``jwst`` also drops the folder of an absolute one, jwcal
    keeps it).  Status key
    ``dark_sub`` (S_DARK).  SKIPPED when DARK is N/A or when the dark's NFRAMES or GROUPGAP
    exceed the science ones.
    """

    name = "dark_current"
    class_alias = "dark_current"
    cal_step = "dark_sub"
    description = "Subtract dark current from the input science data"
    spec = (
        Param("dark_output", str, None, "Dark model or averaged dark subtracted", nullable=True),
        Param("average_dark_current", float, None,
              "The average dark current for this detector in units of e-/sec.", nullable=True),
    )
    reference_file_types = ("dark",)

    def process(self, model, refs):
        ref = self.require(refs, "dark")
        meta = model.meta
        shape = model.data.shape
        self._set_average_dark_current(model, ref, refs.path("dark"))

        # planes are read from the file as they are subtracted (never the whole dark)
        dark = cutout(ref.lazy("data"), ref.meta, meta, shape)
        dark_dq = standard_dq(ref, "dq")
        dark_dq = np.uint32(0) if dark_dq is None else cutout(dark_dq, ref.meta, meta, shape)
        nframes = int(meta.exposure.nframes or 1)
        groupgap = int(meta.exposure.groupgap or 0)
        dark_nframes = int(ref.meta.get("exposure.nframes") or 1)
        dark_groupgap = int(ref.meta.get("exposure.groupgap") or 0)
        done = apply_dark(model.data, model.pixeldq, dark, dark_dq, nframes=nframes, groupgap=groupgap,
                          dark_nframes=dark_nframes, dark_groupgap=dark_groupgap,
                          int_start=meta.exposure.integration_start)
        if not done:
            raise SkipStep("the dark's NFRAMES or GROUPGAP exceed the science data's; "
                           "input returned without subtracting dark current")
        if self.dark_output:
            self._write_dark(ref, dark, dark_dq, shape, nframes, groupgap, dark_nframes, dark_groupgap)
        return model

    def _set_average_dark_current(self, model, ref, path):
        plane = model.data.shape[-2:]
        if self.average_dark_current is not None:
            model.average_dark_current = _constant_plane(plane, self.average_dark_current)
            self.log.info("Using Poisson noise from average dark current %s e-/sec", self.average_dark_current)
            return
        avg = extra_array(ref, path, "AVDRKCUR", "average_dark_current")
        if avg is None or np.sum(avg) == 0.0:
            scalar = ref.meta.get("exposure.average_dark_current") or 0.0
            model.average_dark_current = _constant_plane(plane, scalar)
        elif np.shape(avg) != plane:
            self.log.warning("DarkModel average_dark_current does not match shape of data; not applied")
        else:
            model.average_dark_current = np.asarray(avg, np.float32)

    def _write_dark(self, ref, dark, dark_dq, shape, nframes, groupgap, dark_nframes, dark_groupgap):
        from ...datamodel import DarkModel

        matched = nframes == dark_nframes and groupgap == dark_groupgap
        if matched:
            out = np.nan_to_num(np.asarray(dark, np.float32), nan=0.0)
        else:
            out = averaged_dark(dark, shape[1], nframes, groupgap, dark_nframes=dark_nframes,
                                dark_groupgap=dark_groupgap, nints=shape[0])
        product = DarkModel(data=out, dq=np.broadcast_to(np.asarray(dark_dq, np.uint32), out.shape[-2:])
                            if np.ndim(dark_dq) < 2 else dark_dq)
        product.copy_meta_from(ref)
        product.meta.exposure.nframes = nframes
        product.meta.exposure.ngroups = shape[1]
        product.meta.exposure.groupgap = groupgap
        path = Path(self.dark_output)
        if not path.is_absolute():
            ctx = self.context
            folder = self.output_dir or (ctx.output_dir if ctx is not None else None)
            path = Path(folder or ".") / path.name
        product.save(path)
        self.log.info("Saved the subtracted dark as %s", path)


def _constant_plane(shape, value):
    """A read-only float32 plane holding ``value`` everywhere, without memory of its own
    (a broadcast view; it is copied only if the ramp is written out)."""
    return np.broadcast_to(np.float32(value), shape)
