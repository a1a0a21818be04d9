"""``saturation`` step: flag saturated and A/D-floor groups."""

from __future__ import annotations

import numpy as np

from ...errors import BadInputError
from ...runner import Param
from .._ramp_util import frame_read_pattern
from .._refs import cutout, irs2_rows, is_irs2, standard_dq
from .._stepbase import RampStep
from .saturation import ATOD_LIMIT, flag_saturation, flag_saturation_irs2

__all__ = ["SaturationStep"]


class SaturationStep(RampStep):
    """Flag SATURATED (grown by ``n_pix_grow_sat``) and AD_FLOOR groups from the SATURATION
    reference; with ``use_readpatt`` also the frame-averaging cases (the SUPERBIAS, if any,
    is used for the group-2 charge-spill test; none found counts as N/A).  ZEROFRAME (when ``meta.exposure.zero_frame``)
    is zeroed where flagged.  NIRSpec IRS2 ramps use the IRS2 variant, as ``jwst``: the
    SATURATION reference covers the 2048 normal rows and is mapped onto the normal rows of the
    3200-row data; the SUPERBIAS is in the IRS2 layout (its normal rows are used).  SKIPPED when
    the SATURATION reference is N/A.
    """

    name = "saturation"
    class_alias = "saturation"
    description = "Set saturation flags"
    spec = (
        Param("n_pix_grow_sat", int, 1, "number of layers adjacent pixels to flag"),
        Param("use_readpatt", bool, True, "Use grouped read pattern information to assist with flagging"),
    )
    reference_file_types = ("saturation", "superbias")
    optional_references = ("superbias",)

    def process(self, model, refs):
        sat_ref = self.require(refs, "saturation")
        data = model.data
        shape = data.shape
        meta = model.meta
        thresh = cutout(sat_ref.data, sat_ref.meta, meta, shape)
        sat_dq = standard_dq(sat_ref, "dq")
        if sat_dq is None:
            sat_dq = np.zeros(thresh.shape[-2:], dtype=np.uint32)
        else:
            sat_dq = cutout(sat_dq, sat_ref.meta, meta, shape)

        bias_ref = refs.open("superbias")
        irs2 = is_irs2(shape)
        bias = None
        if bias_ref is not None:
            bias = cutout(bias_ref.data, bias_ref.meta, meta, shape)
            if irs2 and bias.shape[-2:] != shape[-2:]:
                raise BadInputError(f"SUPERBIAS reference {refs.path('superbias')} is {bias.shape[-2:]}, but "
                                    f"the IRS2 data are {shape[-2:]}: use a SUPERBIAS in the IRS2 layout")
        if irs2 and thresh.shape[-2:] != (int(irs2_rows(meta, shape).sum()), shape[-1]):
            raise BadInputError(f"SATURATION reference {refs.path('saturation')} is {thresh.shape[-2:]}; "
                                f"IRS2 data take one of the normal pixels only")

        read_pattern = None
        if self.use_readpatt:
            ngroups = meta.exposure.ngroups or shape[1]
            read_pattern = frame_read_pattern(ngroups, meta.exposure.nframes or 1)

        zeroframe = model.zeroframe if meta.exposure.zero_frame and model.has("zeroframe") else None
        kwargs = dict(n_pix_grow_sat=self.n_pix_grow_sat, read_pattern=read_pattern, bias=bias,
                      zeroframe=zeroframe, atod_limit=ATOD_LIMIT)
        if irs2:
            flag_saturation_irs2(data, model.groupdq, model.pixeldq, thresh, sat_dq,
                                 irs2_rows(meta, shape), **kwargs)
        else:
            flag_saturation(data, model.groupdq, model.pixeldq, thresh, sat_dq, **kwargs)
        return model
