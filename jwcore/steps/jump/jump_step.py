"""``jump`` step: two-point-difference jump detection (and snowballs / showers)."""

from __future__ import annotations

import numpy as np

from ... import dq
from ...runner import Param, SkipStep
from .._refs import cutout
from .._stepbase import RampStep, threads_for
from . import detect_jumps

__all__ = ["JumpStep"]

_P = Param


class JumpStep(RampStep):
    """Flag JUMP_DET in GROUPDQ with :func:`jwcore.steps.jump.detect_jumps` (GAIN and
    READNOISE cut to the subarray).  PIXELDQ gains NO_GAIN_VALUE | DO_NOT_USE where the gain
    is not positive.  Records ``meta.exposure.primary_cosmic_rays`` (per 1000 s per pixel)
    and ``extended_emission_events`` (per 1e6 s per pixel) as ``jwst`` does.  SKIPPED with
    NGROUPS <= 2.  ``maximum_cores`` sets the number of threads (results do not depend on
    it); ``use_ellipses`` is deprecated in ``jwst`` and ignored.
    """

    name = "jump"
    class_alias = "jump"
    description = "Perform jump detection using two point difference"
    spec = (
        _P("rejection_threshold", float, 4.0, "CR sigma rejection threshold"),
        _P("three_group_rejection_threshold", float, 6.0, "CR sigma rejection threshold"),
        _P("four_group_rejection_threshold", float, 5.0, "CR sigma rejection threshold"),
        _P("maximum_cores", str, "1", "cores for multiprocessing. Can be an integer, 'half', 'quarter', or 'all'"),
        _P("flag_4_neighbors", bool, True, "flag the four perpendicular neighbors of each CR"),
        _P("max_jump_to_flag_neighbors", float, 1000.0, "maximum jump sigma that will trigger neighbor flagging"),
        _P("min_jump_to_flag_neighbors", float, 10.0, "minimum jump sigma that will trigger neighbor flagging"),
        _P("after_jump_flag_dn1", float, 0.0, "1st flag groups after jump above DN threshold"),
        _P("after_jump_flag_time1", float, 0.0, "1st flag groups after jump groups within specified time"),
        _P("after_jump_flag_dn2", float, 0.0, "2nd flag groups after jump above DN threshold"),
        _P("after_jump_flag_time2", float, 0.0, "2nd flag groups after jump groups within specified time"),
        _P("expand_large_events", bool, False, "Turns on Snowball detector for NIR detectors"),
        _P("min_sat_area", float, 1.0, "minimum required area for the central saturation of snowballs"),
        _P("min_jump_area", float, 5.0, "minimum area to trigger large events processing"),
        _P("expand_factor", float, 2.0, "The expansion factor for the enclosing circles or ellipses"),
        _P("use_ellipses", bool, False, "deprecated"),
        _P("sat_required_snowball", bool, True, "Require the center of snowballs to be saturated"),
        _P("min_sat_radius_extend", float, 2.5, "The min radius of the sat core to trigger the extension of the core"),
        _P("sat_expand", int, 2, "Number of pixels to add to the radius of the saturated core of snowballs"),
        _P("edge_size", int, 25,
           "Distance from detector edge where a saturated core is not required for snowball detection"),
        _P("mask_snowball_core_next_int", bool, True, "Flag saturated cores of snowballs in the next integration?"),
        _P("snowball_time_masked_next_int", int, 4000,
           "Time in seconds over which saturated cores are flagged in next integration"),
        _P("find_showers", bool, False, "Apply MIRI shower flagging?"),
        _P("max_shower_amplitude", float, 4.0, "Maximum MIRI shower amplitude in DN/s"),
        _P("extend_snr_threshold", float, 1.2, "The SNR minimum for detection of extended showers in MIRI"),
        _P("extend_min_area", int, 90, "Min area of emission after convolution for the detection of showers"),
        _P("extend_inner_radius", float, 1.0, "Inner radius of the ring_2D_kernel used for convolution"),
        _P("extend_outer_radius", float, 2.6, "Outer radius of the ring_2D_Kernel used for convolution"),
        _P("extend_ellipse_expand_ratio", float, 1.1, "Expand the radius of the ellipse fit to the extended emission"),
        _P("time_masked_after_shower", float, 15.0, "Seconds to flag as jump after a detected extended emission"),
        _P("min_diffs_single_pass", int, 10,
           "The minimum number of differences needed to skip the iterative flagging of jumps."),
        _P("max_extended_radius", int, 200, "The maximum radius of an extended snowball or shower"),
        _P("minimum_groups", int, 3, "The minimum number of groups to perform jump detection using sigma clipping"),
        _P("minimum_sigclip_groups", int, 100, "The minimum number of groups to switch to sigma clipping"),
        _P("only_use_ints", bool, True,
           "In sigclip only compare the same group across ints, if False compare all groups"),
    )
    reference_file_types = ("gain", "readnoise")

    _ALGORITHM_PARAMS = tuple(p.name for p in spec if p.name != "maximum_cores")

    def process(self, model, refs):
        nints, ngroups, ny, nx = model.data.shape
        if ngroups <= 2:
            raise SkipStep("Cannot apply jump detection when NGROUPS<=2")
        gain_ref = self.require(refs, "gain")
        rn_ref = self.require(refs, "readnoise")
        meta = model.meta
        gain = cutout(gain_ref.data, gain_ref.meta, meta, model.data.shape)
        readnoise = cutout(rn_ref.data, rn_ref.meta, meta, model.data.shape)
        self.log.info("CR rejection threshold = %g sigma", self.rejection_threshold)
        params = {name: getattr(self, name) for name in self._ALGORITHM_PARAMS}
        result = detect_jumps(
            model.data, model.groupdq, model.pixeldq, readnoise, gain,
            frame_time=meta.exposure.frame_time, group_time=meta.exposure.group_time,
            nframes=meta.exposure.nframes or 1, max_workers=threads_for(self.maximum_cores),
            return_info=True, in_place=True, **params,
        )
        model.groupdq = result.groupdq
        model.pixeldq = result.pixeldq

        # event rates per pixel, over the groups not flagged DO_NOT_USE everywhere
        dnu = np.uint8(dq.DO_NOT_USE)
        all_dnu = sum(
            1 for i in range(nints) for g in range(ngroups) if np.all(model.groupdq[i, g] & dnu)
        )
        total_groups = nints * ngroups - all_dnu - nints
        if total_groups >= 1:
            total = meta.exposure.group_time * total_groups * ny * nx
            meta.exposure.primary_cosmic_rays = 1000 * result.n_primary / total
            meta.exposure.extended_emission_events = 1e6 * result.n_extended / total
        return model
