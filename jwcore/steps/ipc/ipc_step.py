"""``ipc`` step: deconvolve inter-pixel capacitance with the IPC reference kernel."""

from __future__ import annotations

import numpy as np

from .._refs import irs2_rows, is_irs2, science_window
from .._stepbase import RampStep
from .ipc import apply_ipc

__all__ = ["IPCStep"]


class IPCStep(RampStep):
    """Convolve every group with the IPC kernel (2-D, or 4-D per pixel), leaving the
    reference rows/columns untouched.

    Which rows/columns are reference pixels, and whether the exposure is a subarray of a
    4-D kernel, come from the detector's :class:`~jwcore.steps._layout.ReadoutLayout`
    (``reference_border`` and ``full_shape``) placed with SUBSTRT1/2 and SUBSIZE1/2; ``jwst``
    hard-codes the same two layouts.  IRS2 ramps are convolved on their normal rows only.
    SKIPPED when IPC is N/A.
    """

    name = "ipc"
    class_alias = "ipc"
    description = "Perform IPC correction by convolving with IPC reference data"
    spec = ()
    reference_file_types = ("ipc",)

    def process(self, model, refs):
        ref = self.require(refs, "ipc")
        layout = self.layout(model)
        meta = model.meta
        shape = model.data.shape
        xstart, ystart, _, _ = science_window(meta, shape)
        xsize = meta.subarray.xsize or shape[-1]
        ysize = meta.subarray.ysize or shape[-2]
        nref = layout.reference_rows(xstart, ystart, xsize, ysize)
        kernel = np.asarray(ref.data)
        if kernel.ndim == 4 and layout.is_subarray((ysize, xsize)):
            x0, y0 = xstart - 1, ystart - 1
            kernel = kernel[:, :, y0:y0 + ysize, x0:x0 + xsize]
        normal = irs2_rows(meta, shape) if is_irs2(shape) else None
        apply_ipc(model.data, kernel, nref, normal_rows=normal)
        return model
