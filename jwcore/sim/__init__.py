"""jwcal's simulator: realistic raw JWST imaging exposures and a consistent reference set.

* :mod:`.detector` -- :class:`DetectorSpec` (registered by instrument plugins through the
  ``jwcal_register_detectors`` hook), subarrays, readout patterns, frame times;
* :mod:`.state` -- a detector's per-pixel truth (bias, gain, noise, dark, non-linearity,
  flat, bad pixels, IPC) shared by the simulator and the reference files;
* :mod:`.geometry` -- distortion (pixel -> V2V3) and pointing (V2V3 -> sky);
* :mod:`.scene`, :mod:`.noise`, :mod:`.ramp` -- the sky and the up-the-ramp physics;
* :mod:`.exposure` -- ``_uncal.fits`` + truth files, observation plans, associations;
* :mod:`.references` -- :func:`write_reference_set` and :func:`build_store`.

``jwcal simulate`` (``jwcore/cli/sim_cmd.py``) drives it from the command line.
"""

from .detector import DetectorSpec, FilterSpec, ReadPattern, Subarray, get_detector, registered_detectors

__all__ = ["DetectorSpec", "FilterSpec", "ReadPattern", "Subarray", "get_detector", "registered_detectors"]
