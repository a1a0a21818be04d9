"""Rescale grouped ramps whose on-board average used FRMDIVSR instead of NFRAMES.

The flight software divides the sum of NFRAMES frames by FRMDIVSR (a power of two).
When the two differ every group is wrong by FRMDIVSR/NFRAMES; multiply it back.
"""

from __future__ import annotations

from .._ramp_util import array_blocks, run_parallel

__all__ = ["group_scale_factor", "apply_group_scale"]


def group_scale_factor(nframes, frame_divisor) -> float | None:
    """The factor FRMDIVSR/NFRAMES, or None when jwst skips the step.

    jwst skips when NFRAMES is missing, when FRMDIVSR is missing (whether or not
    NFRAMES is a power of two), or when the two are equal.
    """
    if nframes is None or frame_divisor is None or nframes == frame_divisor:
        return None
    return float(frame_divisor) / nframes


def apply_group_scale(data, nframes, frame_divisor) -> float | None:
    """Multiply ``data`` (any shape, usually the 4-D SCI ramp) in place by FRMDIVSR/NFRAMES.

    The factor is a Python float, applied to float32 data in float32 as jwst does.
    Returns the factor applied, or None (data untouched) when the step is skipped.
    """
    scale = group_scale_factor(nframes, frame_divisor)
    if scale is None:
        return None

    def work(block):
        block *= scale

    run_parallel(work, array_blocks(data))
    return scale
