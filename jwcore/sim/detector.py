"""Detector descriptions for the simulator: :class:`DetectorSpec` and its parts.

Each instrument plugin registers one :class:`DetectorSpec` per detector through the
``jwcal_register_detectors`` hook.  A spec says everything the simulator and the
reference-file writer need: geometry (size, amplifiers, FASTAXIS/SLOWAXIS, reference pixels,
subarrays), timing (readout patterns and the frame-time rule), typical electronic
properties (gain, read noise, dark current, bias, full well, non-linearity, IPC), the filters
with their PSF widths and the names real files use, and the SIAF aperture of the full frame
(V2_REF/V3_REF, V3IdlYAngle, plate scales) that places the detector on the sky.

All pixel coordinates are in the DMS "science" frame that FITS files use (``x`` along
NAXIS1, ``y`` along NAXIS2), subarray corners 1-based as in SUBSTRT1/SUBSTRT2.

>>> spec = DetectorSpec(instrument="MYCAM", detector="MYC1", shape=(2048, 2048),
...                     fastaxis=1, slowaxis=2, plate_scale=0.031)
>>> round(spec.frame_time("FULL"), 5)
10.73677
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..errors import JwcalError

SAMPLE_TIME = 10.0e-6  # s per pixel sample (all JWST detectors, TSAMPLE = 10 us)
PHOTOM_KEYS = ("filter", "pupil", "subarray")      # what DetectorSpec.photom_keys may name
FILTER_OFFSET_KEYS = ("filter", "pupil")           # ... and DetectorSpec.filter_offset_keys


@dataclass(frozen=True)
class Subarray:
    """A readout window in the science frame: 1-based start, size, number of outputs."""

    name: str
    xstart: int
    ystart: int
    xsize: int
    ysize: int
    noutputs: int = 1

    @property
    def slices(self) -> tuple[slice, slice]:
        """``(yslice, xslice)`` of this window in a full-frame array."""
        return (slice(self.ystart - 1, self.ystart - 1 + self.ysize),
                slice(self.xstart - 1, self.xstart - 1 + self.xsize))

    @property
    def shape(self) -> tuple[int, int]:
        return (self.ysize, self.xsize)


@dataclass(frozen=True)
class ReadPattern:
    """A readout pattern: frames averaged per group and frames skipped between groups.

    ``raw_readout`` (optional, declared by an instrument plugin) is a readout whose raw frames
    are not laid out like the science frame, e.g. NIRSpec's IRS2 (reference pixels interleaved
    with the normal ones).  It is an object with

    * ``frame_time(spec, subarray) -> float``: TFRAME in seconds;
    * ``keywords(spec, subarray) -> dict``: extra raw-file metadata (``"exposure.nrs_normal"``...);
    * ``ramp_options(options) -> RampOptions``: the options the normal-pixel ramp is simulated
      with (e.g. without the simulator's own correlated noise, which the readout adds itself);
    * ``raw_ramp(state, subarray, pattern, result, *, frame_time, seed, options) -> RampResult``:
      the raw exposure (``result.data`` in the readout's layout) from the simulated
      normal-pixel ramp ``result``.
    """

    name: str
    nframes: int = 1
    groupgap: int = 0
    raw_readout: object | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FilterSpec:
    """A filter as the simulator sees it.

    ``filter``/``pupil`` are the FILTER and PUPIL keyword values real files carry (NIRISS
    puts its short-wave filters in the pupil wheel with FILTER=CLEAR, for example);
    ``fwhm`` is the PSF core FWHM in pixels; ``sky`` the zodiacal background in e-/s/pixel;
    ``photmjsr`` the MJy/sr of 1 DN/s (the PHOTOM reference value); ``wavelength`` in um.
    """

    name: str
    filter: str | None
    pupil: str | None
    fwhm: float
    sky: float = 0.2
    photmjsr: float = 0.3
    wavelength: float = 2.0


@dataclass(frozen=True)
class PhotometryLayout:
    """How an instrument's imaging APCORR and ABVEGAOFFSET references are laid out (jwst's tables).

    ``apcorr_model`` is the APCORR file's DATAMODL (jwst's imaging apcorr model of the
    instrument); ``apcorr_keys`` the selector columns of its APCORR table, from ``"filter"``,
    ``"pupil"`` and ``"subarray"`` (none: the table is one set of rows for the detector's
    default filter); ``abvega_keys`` the selector columns of the ABVEGAOFFSET table, from
    ``"filter"``, ``"pupil"`` and ``"detector"``.  :mod:`jwcore.sim.photometry_refs` writes both.
    """

    apcorr_model: str
    apcorr_keys: tuple[str, ...] = ("filter", "pupil")
    abvega_keys: tuple[str, ...] = ("filter", "pupil")


@dataclass(frozen=True, eq=False)
class DetectorSpec:
    """One detector of one instrument.

    Geometry: ``shape`` is (ny, nx) of the full frame in the science frame.  Amplifiers:
    ``n_amplifiers`` outputs; ``amplifier_bounds`` are the (start, stop) 0-based pixel ranges
    of each output along the *fast* axis in the science frame (``amplifier_layout="stripes"``,
    near-IR detectors), or ``amplifier_layout="interleaved"`` for MIRI, whose output *k* reads
    every column ``c`` with ``c % 4 == k``.  ``fastaxis``/``slowaxis`` are the FASTAXIS and
    SLOWAXIS keywords (+-1: along x, +-2: along y; the sign is the readout direction).
    Reference pixels: ``ref_rows`` = (bottom, top) and ``ref_cols`` = (left, right) widths
    (4, 4)/(4, 4) for the near-IR detectors, (0, 0)/(4, 4) for MIRI.

    Electronics (typical values; the simulator draws per-pixel maps around them): ``gain``
    e-/DN, ``read_noise`` DN per single frame read, ``dark_current`` DN/s, ``bias`` DN,
    ``saturation`` full well in DN above bias (linear scale), ``nonlinearity`` the fractional
    signal deficit at full well, ``ipc_alpha`` the coupling to each of the 4 nearest
    neighbours, ``ktc_noise`` DN of reset noise per integration, ``one_over_f`` DN rms of the
    correlated (1/f) noise along the slow readout axis, ``drift_rms`` DN rms of the per-output
    reference-level jitter between groups.

    Sky placement: ``aperture`` (SIAF full-frame aperture name, also APERNAME), ``v2_ref``,
    ``v3_ref`` (arcsec), ``v3_idl_yangle`` (deg), ``vparity``, ``sci_ref`` (XSciRef, YSciRef,
    1-based), ``sci_scale`` (XSciScale, YSciScale arcsec/pixel), ``distortion`` (fractional
    radial distortion at the detector corner, for the simulated distortion reference).

    Photometry: ``photom_model``/``photom_keys`` declare the PHOTOM reference (its DATAMODL
    and the selector columns of its rows); ``photometry_layout`` (a :class:`PhotometryLayout`)
    the instrument's APCORR/ABVEGAOFFSET table layout; the reference writer then adds them.

    Filters and distortion: ``filter_offsets`` says whether the instrument has filter-dependent
    pixel offsets (the simulator shifts the scene, the reference writer adds a FILTEROFFSET
    reference whose rows are keyed by ``filter_offset_keys``); ``distortion_wildcards`` the
    selection metadata written as wildcards into the DISTORTION reference.

    Timing: ``readout_patterns`` name -> :class:`ReadPattern`; ``frame_time_rule`` one of
    ``"fast_x"`` (fast axis along x), ``"fast_y"`` (fast axis along y) or ``"table"``;
    ``frame_times`` subarray name -> seconds (``"table"``).

    Every declaration defaults to "not applicable" (no PHOTOM, no filter offsets, no
    wildcards...): the simulator core never asks which instrument a spec belongs to.
    """

    instrument: str
    detector: str
    shape: tuple[int, int] = (2048, 2048)
    fastaxis: int = 1
    slowaxis: int = 2
    n_amplifiers: int = 4
    amplifier_bounds: tuple = ()
    amplifier_layout: str = "stripes"
    ref_rows: tuple[int, int] = (4, 4)
    ref_cols: tuple[int, int] = (4, 4)
    plate_scale: float = 0.031
    gain: float = 2.0
    read_noise: float = 6.0
    dark_current: float = 0.002
    bias: float = 12000.0
    saturation: float = 47000.0
    nonlinearity: float = 0.07
    ipc_alpha: float = 0.006
    ktc_noise: float = 15.0
    one_over_f: float = 2.0
    drift_rms: float = 3.0
    filters: Mapping[str, FilterSpec] = field(default_factory=dict)
    default_filter: str | None = None
    subarrays: Mapping[str, Subarray] = field(default_factory=dict)
    readout_patterns: Mapping[str, ReadPattern] = field(default_factory=dict)
    default_readpatt: str = "RAPID"
    frame_time_rule: str = "fast_x"
    frame_times: Mapping[str, float] = field(default_factory=dict)
    exp_type: str = ""
    aperture: str = ""
    v2_ref: float = 0.0
    v3_ref: float = 0.0
    v3_idl_yangle: float = 0.0
    vparity: int = -1
    sci_ref: tuple[float, float] = (1024.5, 1024.5)
    sci_scale: tuple[float, float] | None = None
    distortion: float = 0.002
    module: str | None = None
    channel: str | None = None
    sca_num: int | None = None
    cosmic_ray_rate: float = 1.6e-5   # events / pixel / s
    snowball_rate: float = 0.05       # large events / detector / s
    extra_keywords: Mapping[str, object] = field(default_factory=dict)
    # Instrument-specific reference writers, called as ``fn(writer, filters)`` after the common
    # set (``writer``: jwcore.sim.references' writer, with ``fits(cls, name, meta, **arrays)``,
    # ``base_meta(reftype, description, subarray=, extra=)``, ``asdf(name, tree)``,
    # ``asdf_meta(reftype, description, model_type)``, and the set's ``readpatt`` (ReadPattern),
    # ``ngroups``, ``nints``, ``subarrays`` (names) and ``window`` (Subarray or None));
    # e.g. NIRSpec's optical model and IRS2 references.
    reference_writers: tuple = ()
    # Imaging photometry references (APCORR, ABVEGAOFFSET) and their table layout; None: none
    # written (e.g. NIRSpec, which has no imaging source catalog).
    photometry_layout: PhotometryLayout | None = None
    # PHOTOM reference: its DATAMODL (jwst's imaging photom model of the instrument, e.g.
    # "NrcImgPhotomModel"); None: no PHOTOM written.
    photom_model: str | None = None
    # Selector columns of the PHOTOM rows (PHOTMJSR per configuration), in table order, from
    # "filter", "pupil" (FilterSpec.filter/.pupil, "N/A" when unset) and "subarray" (one row per
    # subarray of the detector); () : a single row (the first filter of the set) without selectors.
    photom_keys: tuple[str, ...] = ("filter", "pupil")
    # Filter-dependent pixel offsets: True: the simulator shifts the scene by
    # jwcore.sim.geometry.filter_offset() and the reference writer adds a FILTEROFFSET
    # reference; False: no offsets (0, 0) and no FILTEROFFSET file.
    filter_offsets: bool = False
    # FilterSpec fields that key a FILTEROFFSET row, from "filter" (always written) and "pupil"
    # (written when the filter has one).
    filter_offset_keys: tuple[str, ...] = ("filter", "pupil")
    # Metadata written into the DISTORTION reference so it serves every configuration, as
    # "dotted.meta.path" -> value below ``meta`` (e.g. {"instrument.filter": "ANY"}); empty: none.
    distortion_wildcards: Mapping[str, str] = field(default_factory=dict)
    # Detector material: "HgCdTe" (near-IR: reference pixels, kTC reset) or "Si:As" (MIRI's
    # IBC arrays: reset anomaly, RSCD, first/last-frame effects, no reset before integration 1)
    material: str = "HgCdTe"

    def __post_init__(self):
        for what, keys, allowed in (("photom_keys", self.photom_keys, PHOTOM_KEYS),
                                    ("filter_offset_keys", self.filter_offset_keys, FILTER_OFFSET_KEYS)):
            unknown = [k for k in keys if k not in allowed]
            if unknown:
                raise JwcalError(f"{self.instrument} {self.detector}: unknown {what} {unknown}; "
                                 f"choose from {', '.join(allowed)}")
        ny, nx = self.shape
        if not self.amplifier_bounds:
            length = nx if abs(self.fastaxis) == 1 else ny
            if self.amplifier_layout == "interleaved":
                bounds = tuple((k, length) for k in range(self.n_amplifiers))
            else:
                step = length // self.n_amplifiers
                bounds = tuple((k * step, (k + 1) * step) for k in range(self.n_amplifiers))
            object.__setattr__(self, "amplifier_bounds", bounds)
        if not self.subarrays:
            object.__setattr__(self, "subarrays", {"FULL": Subarray("FULL", 1, 1, nx, ny, self.n_amplifiers)})
        if not self.readout_patterns:
            object.__setattr__(self, "readout_patterns", {self.default_readpatt: ReadPattern(self.default_readpatt)})
        if self.sci_scale is None:
            object.__setattr__(self, "sci_scale", (self.plate_scale, self.plate_scale))
        if self.default_filter is None and self.filters:
            object.__setattr__(self, "default_filter", next(iter(self.filters)))

    # -- lookups --------------------------------------------------------------------------
    @property
    def key(self) -> tuple[str, str]:
        return (self.instrument.upper(), self.detector.upper())

    @property
    def is_si_as(self) -> bool:
        """Si:As IBC detector physics (declared by the instrument plugin's ``material``)."""
        return self.material == "Si:As"

    def subarray(self, name: str) -> Subarray:
        try:
            return self.subarrays[name.upper()]
        except KeyError:
            raise JwcalError(f"{self.detector}: unknown subarray {name!r}; choose from "
                             f"{', '.join(self.subarrays)}") from None

    def readout(self, name: str) -> ReadPattern:
        try:
            return self.readout_patterns[name.upper()]
        except KeyError:
            raise JwcalError(f"{self.detector}: unknown readout pattern {name!r}; choose from "
                             f"{', '.join(self.readout_patterns)}") from None

    def filter(self, name: str | None) -> FilterSpec:
        name = (name or self.default_filter or "").upper()
        try:
            return self.filters[name]
        except KeyError:
            raise JwcalError(f"{self.detector}: unknown filter {name!r}; choose from "
                             f"{', '.join(self.filters)}") from None

    # -- timing ---------------------------------------------------------------------------
    def frame_time(self, subarray: str | Subarray = "FULL", readpatt: str | ReadPattern | None = None) -> float:
        """TFRAME in seconds for a subarray (the instrument's readout-clocking rule, or the
        readout pattern's own when it has a ``raw_readout``, e.g. NIRSpec IRS2)."""
        sub = subarray if isinstance(subarray, Subarray) else self.subarray(subarray)
        if readpatt is not None:
            patt = readpatt if isinstance(readpatt, ReadPattern) else self.readout(readpatt)
            if patt.raw_readout is not None:
                return float(patt.raw_readout.frame_time(self, sub))
        if self.frame_time_rule == "table":
            try:
                return float(self.frame_times[sub.name])
            except KeyError:
                raise JwcalError(f"{self.detector}: no frame time known for subarray {sub.name}") from None
        return readout_frame_time(self.frame_time_rule, sub.xsize, sub.ysize, sub.noutputs)

    # -- geometry -------------------------------------------------------------------------
    def reference_pixel_mask(self):
        """Boolean full-frame array: True on reference pixels."""
        import numpy as np

        ny, nx = self.shape
        mask = np.zeros((ny, nx), bool)
        b, t = self.ref_rows
        left, right = self.ref_cols
        if b:
            mask[:b] = True
        if t:
            mask[ny - t:] = True
        if left:
            mask[:, :left] = True
        if right:
            mask[:, nx - right:] = True
        return mask

    def amplifier_map(self):
        """Full-frame int8 array: the output (0..n-1) that reads each pixel."""
        import numpy as np

        ny, nx = self.shape
        amp = np.zeros((ny, nx), np.int8)
        if self.amplifier_layout == "interleaved":
            amp[:] = (np.arange(nx) % self.n_amplifiers)[None, :]
            return amp
        for k, (a, b) in enumerate(self.amplifier_bounds):
            if abs(self.fastaxis) == 1:
                amp[:, a:b] = k
            else:
                amp[a:b, :] = k
        return amp


def readout_frame_time(rule: str, xsize: int, ysize: int, noutputs: int) -> float:
    """Frame time of a SIDECAR-clocked window (seconds).

    Each row along the fast axis costs ``fast/noutputs + 12`` samples of 10 us, and a frame
    ``slow + 1`` rows (one output per subarray: ``slow + 2``; with the fast axis along x, a
    window of at most 8x8: ``slow + 3``); full frames read by 4 outputs add one sample.
    ``rule`` picks the fast axis: ``"fast_x"`` (along x) or ``"fast_y"`` (along y).  Full frame:
    (512 + 12) x (2048 + 1) + 1 samples = 10.73677 s (TFRAME of flight NIRCam headers);
    FGS 128x128 one output: 140 x 130 samples = 0.182 s (the flight ACQ1 header's TFRAME).
    """
    if rule == "fast_x":
        fast, slow = xsize, ysize
    elif rule == "fast_y":
        fast, slow = ysize, xsize
    else:
        raise JwcalError(f"unknown frame-time rule {rule!r}")
    colpad = 12
    if noutputs >= 4:
        rowpad, fullpad = 1, 1
    else:
        rowpad, fullpad = 2, 0
        if rule == "fast_x" and xsize <= 8 and ysize <= 8:
            rowpad = 3
    return round(((fast / noutputs + colpad) * (slow + rowpad) + fullpad) * SAMPLE_TIME, 8)


# -- registry --------------------------------------------------------------------------------
def registered_detectors(pm=None) -> dict[tuple[str, str], DetectorSpec]:
    """Every detector the loaded plugins register, keyed by (INSTRUMENT, DETECTOR)."""
    if pm is None:
        from ..plugins import get_plugin_manager

        pm = get_plugin_manager()
    found: dict[tuple[str, str], DetectorSpec] = {}

    def register(spec):
        # The hook also carries other detector descriptions (e.g. the ramp steps' readout
        # layouts); the simulator takes the DetectorSpecs.
        if isinstance(spec, DetectorSpec):
            found[spec.key] = spec

    pm.hook.jwcal_register_detectors(register=register)
    return found


def get_detector(instrument: str, detector: str | None = None, pm=None) -> DetectorSpec:
    """The registered spec of ``instrument``'s ``detector`` (its first detector if None)."""
    specs = registered_detectors(pm)
    inst = instrument.upper()
    mine = [s for (i, _), s in specs.items() if i == inst]
    if not mine:
        known = sorted({i for i, _ in specs})
        raise JwcalError(f"no simulator detectors registered for instrument {instrument!r}"
                         f"{'; known: ' + ', '.join(known) if known else ''}")
    if detector is None:
        return mine[0]
    spec = specs.get((inst, detector.upper()))
    if spec is None:
        raise JwcalError(f"{inst} has no detector {detector!r}; choose from "
                         f"{', '.join(s.detector for s in mine)}")
    return spec
