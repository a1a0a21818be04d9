"""MIRI's detector readout layout, for the generic ramp steps (``ipc``, ``refpix``, ``ramp_fit``).

The three MIRI detectors share one layout: a 1032 x 1024 frame (DMS = detector orientation)
with four reference columns on the left and on the right and no reference rows, four
amplifiers interleaved by column, no reference-pixel correction of subarrays, and ramp
fitting that drops leading/trailing groups that no pixel may use.
"""

from jwcore.steps._layout import ReadoutLayout

READOUT = ReadoutLayout(
    instrument="MIRI",
    full_shape=(1024, 1032),
    reference_border=(0, 0, 4, 4),
    refpix="interleaved-columns",
    refpix_subarrays=False,
    trim_unused_groups=True,
    edgeless_subarrays=(),
)
