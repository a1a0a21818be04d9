"""Detector readout layouts: what the ramp steps need to know about a detector's frame.

``jwst`` hard-codes two kinds of detector in its detector1 steps: the near-infrared
2048 x 2048 arrays with four reference rows/columns on every edge and four amplifiers
owning blocks of 512 columns, and one mid-infrared 1032 x 1024 array with four reference
columns on the left and right, four column-interleaved amplifiers, no reference-pixel
correction for subarrays, and ramp fitting that drops groups no pixel may use.  jwcal keeps
the core instrument-blind: those facts are a :class:`ReadoutLayout`, and an instrument
plugin whose detectors are not laid out like :data:`NEAR_IR` declares its own by registering
it through the ``jwcal_register_detectors`` hook (for an ``InstrumentPlugin``, in its
``detectors=[...]`` list; an object with a ``readout`` attribute holding a layout is accepted
too, so a richer detector description can carry it).  An exposure whose instrument and
detector match no registered layout uses :data:`NEAR_IR`, which is what ``jwst`` assumes for
every instrument but one.

Who uses what:

* ``ipc``: ``full_shape`` (is the exposure a subarray of a 4-D kernel?) and
  ``reference_border`` (which rows/columns the convolution leaves alone);
* ``refpix``: ``refpix`` picks the algorithm (``"amplifier-blocks"``: the near-IR side/top/bottom
  scheme, ``"interleaved-columns"``: the left/right column scheme) and
  ``refpix_subarrays`` whether subarrays are corrected at all, ``edgeless_subarrays`` the
  subarrays whose edge columns stand in for reference pixels;
* ``ramp_fit``: ``trim_unused_groups`` (drop leading/trailing groups that are DO_NOT_USE in every
  pixel before fitting).

>>> NEAR_IR.reference_rows(xstart=1, ystart=1, xsize=2048, ysize=2048)
(4, 4, 4, 4)
>>> NEAR_IR.reference_rows(xstart=1, ystart=1, xsize=64, ysize=64)
(4, 0, 4, 0)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger("jwcal.layout")

__all__ = ["ReadoutLayout", "NEAR_IR", "readout_layout"]


@dataclass(frozen=True)
class ReadoutLayout:
    """The readout facts of one instrument's detectors (or of one detector).

    Attributes
    ----------
    instrument : str or None
        INSTRUME value this layout applies to (``None``: a default that matches nothing).
    detector : str or None
        DETECTOR value; ``None`` for every detector of the instrument.  A layout naming the
        detector wins over one that does not.
    full_shape : (rows, columns)
        The full frame in DMS orientation.
    reference_border : (bottom, top, left, right)
        Reference rows/columns on each edge of the DMS full frame.
    refpix : str
        ``"amplifier-blocks"`` or ``"interleaved-columns"`` (see the module docstring).
    refpix_subarrays : bool
        False: ``refpix`` leaves subarray exposures alone (SKIPPED), as ``jwst`` does for the
        interleaved-column detector.
    trim_unused_groups : bool
        ``ramp_fit`` first drops leading groups that are DO_NOT_USE in every pixel of every
        integration, then the last one if it is.
    edgeless_subarrays : tuple of str
        SUBARRAY names that reach no detector edge: ``refpix`` treats their first and last
        four DMS columns as reference pixels (``jwst`` does this for these three names,
        whatever the instrument).
    """

    instrument: str | None = None
    detector: str | None = None
    full_shape: tuple = (2048, 2048)
    reference_border: tuple = (4, 4, 4, 4)
    refpix: str = "amplifier-blocks"
    refpix_subarrays: bool = True
    trim_unused_groups: bool = False
    edgeless_subarrays: tuple = ("SUB512", "SUB512S", "SUB32")

    def applies_to(self, instrument: str | None, detector: str | None) -> bool:
        if self.instrument is None or instrument is None:
            return False
        if self.instrument.upper() != str(instrument).upper():
            return False
        return self.detector is None or (detector is not None and self.detector.upper() == str(detector).upper())

    def is_subarray(self, shape) -> bool:
        """True when the last two axes of ``shape`` are smaller than the full frame."""
        return shape[-2] < self.full_shape[0] or shape[-1] < self.full_shape[1]

    def reference_rows(self, xstart: int, ystart: int, xsize: int, ysize: int) -> tuple:
        """Reference pixels ``(bottom, top, left, right)`` inside a (sub)array.

        ``xstart``/``ystart`` are the 1-based SUBSTRT1/SUBSTRT2, sizes SUBSIZE1/SUBSIZE2.
        """
        b, t, l, r = self.reference_border
        ny, nx = self.full_shape
        x0, y0 = int(xstart) - 1, int(ystart) - 1
        return (
            max(0, b - y0),
            max(0, y0 + int(ysize) - (ny - t)),
            max(0, l - x0),
            max(0, x0 + int(xsize) - (nx - r)),
        )


#: The near-infrared layout ``jwst`` assumes unless told otherwise.
NEAR_IR = ReadoutLayout()


def _registered(pm) -> list:
    found: list = []
    if pm is None:
        return found
    hook = getattr(pm.hook, "jwcal_register_detectors", None)
    if hook is None:
        return found
    infos = getattr(pm, "infos", {})
    for impl in hook.get_hookimpls():
        info = infos.get(impl.plugin_name)
        if info is not None and info.broken:
            continue
        try:
            impl.function(found.append)
        except Exception as exc:  # a broken plugin must not stop the others' layouts
            log.warning("plugin %s failed to describe its detectors: %s", impl.plugin_name, exc)
    return found


def readout_layout(meta, pm=None) -> ReadoutLayout:
    """The layout of an exposure's detector (from its INSTRUME/DETECTOR); :data:`NEAR_IR` if none.

    ``pm`` is the plugin manager to ask (default: the process-wide one).
    """
    if pm is None:
        from ..plugins import get_plugin_manager

        pm = get_plugin_manager()
    instrument = meta.get("instrument.name")
    detector = meta.get("instrument.detector")
    generic = None
    for obj in _registered(pm):
        lay = obj if isinstance(obj, ReadoutLayout) else getattr(obj, "readout", None)
        if not isinstance(lay, ReadoutLayout) or not lay.applies_to(instrument, detector):
            continue
        if lay.detector is not None:
            return lay
        generic = generic or lay
    return generic or NEAR_IR
