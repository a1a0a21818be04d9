"""NIRSpec IRS2 readouts for the simulator (NRSIRS2RAPID, NRSIRS2): raw frames, timing and the
IRS2 references.

Readout
-------
IRS2 ("improved reference sampling and subtraction") reads each detector row through five
outputs of 640 samples: the reference output (no light-sensitive pixels) and the four
amplifiers, where every ``NRS_NORM`` (16) normal pixels are followed by ``NRS_REF`` (4)
interleaved reference pixels, starting half a block in (8 normal, 4 reference, 16 normal, ...,
8 normal).  In DMS orientation a full frame is 3200 rows x 2048 columns: NRS1 is the detector
frame transposed, NRS2 transposed and flipped on both axes (its DMS rows run backwards).
Dropping the reference output and the interleaved rows leaves the 2048 x 2048 science frame.

Timing: within a detector row each output spends 712 sample times of 10 us: the 640 samples,
two idle samples around each of the 32 groups of reference samples, and 8 at the end of the
row; the outputs read in alternate directions (the reference output and amplifiers 2 and 4
backwards).  A frame is 2048 rows plus one, plus one sample:
TFRAME = (712 x 2049 + 1) x 10 us = 14.58889 s.  NRSIRS2RAPID averages 1 frame per group,
NRSIRS2 5 (as in flight headers).  Full frame only; no ZEROFRAME.

Raw signal
----------
Normal pixels come from the simulator's ramp (:func:`jwcore.sim.ramp.simulate_ramp`:
signal, superbias, kTC, white read noise, telegraph pixels, cosmic rays) without its own
drifts and 1/f noise.  Instead every sample of every output -- normal pixels, interleaved
reference pixels and the reference output alike -- gets the noise of the moment it is read:

* a 1/f noise common to the five outputs (``one_over_f`` DN rms per frame);
* a 1/f noise of each amplifier, shared by its normal and reference pixels (half that);
* per output a level per integration, a jitter per group and a linear drift over the frame
  (``drift_rms``).

Reference samples carry their own bias (the IRS2 superbias's reference rows), kTC noise and
white read noise; a few interleaved reference pixels (:data:`BAD_REFERENCE_GROUPS`, listed in
the REFPIX DQ table) are very noisy.  ``jwst``'s IRS2 correction removes the per-output levels
and drifts (its linear fit in time), the common noise (from the reference output: the REFPIX
``alpha`` coefficients are 1 minus a low-pass filter) and the low frequencies of each
amplifier's own noise (from the interleaved reference pixels: ``beta`` is the low-pass filter,
scaled by the sampling density of the reference samples on the time line).

References (:func:`write_irs2_references`, when a reference set is made for an IRS2 readout)
-----------------------------------------------------------------------------------------------
``READPATT = NRSIRS2RAPID``, ``P_READPA = NRSIRS2RAPID|NRSIRS2|`` (a USEAFTER one second after
the set's, so they win over the set's ``READPATT=ANY`` dark and read noise):

* MASK and SUPERBIAS in the IRS2 layout (3200 rows, SUBSIZE2 = 2048, as CRDS's IRS2 ones);
  the interleaved and reference-output rows of the mask are REFERENCE_PIXEL;
* DARK of the normal pixels (2048 rows; the dark step runs after ``refpix`` has removed the
  reference rows) with IRS2 frames;
* READNOISE of the normal pixels after the IRS2 correction (CDS noise of a normal pixel and of
  the reference output sample that the correction subtracts);
* REFPIX: the IRS2 coefficient table (``IRS2Model``: ALPHA_0..3, BETA_0..3, real and imaginary
  parts interleaved, 2 x 712 x 2048 rows) and its DQ table.

SATURATION, LINEARITY, GAIN and IPC are the traditional (normal-pixel) ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from jwcore import dq
from jwcore.errors import JwcalError
from jwcore.sim.detector import SAMPLE_TIME

__all__ = ["IRS2Readout", "IRS2_READOUT", "BAD_REFERENCE_GROUPS", "line_samples", "irs2_frame_time",
           "row_layout", "irs2_superbias", "refpix_coefficients", "write_irs2_references"]

NRS_NORMAL = 16
NRS_REFERENCE = 4
OUTPUT_SAMPLES = 640          # samples of one output along a detector row
NORMAL_PER_OUTPUT = 512
ROW_PAD = 8                   # idle samples at the end of a detector row
NROWS = 3200                  # DMS rows of an IRS2 full frame
NLINES = 2048                 # detector rows (DMS columns)

#: Interleaved reference pixels that are bad, as the REFPIX DQ table lists them:
#: (output 1-4, odd/even pair 1-2, reference group 0-31 of that output).
BAD_REFERENCE_GROUPS = ((2, 1, 5), (3, 2, 17))


def line_samples(n: int = NRS_NORMAL, r: int = NRS_REFERENCE) -> int:
    """Sample times one output spends on a detector row (712 for 16 + 4)."""
    return NORMAL_PER_OUTPUT + NORMAL_PER_OUTPUT // n * (r + 2) + ROW_PAD


def irs2_frame_time(n: int = NRS_NORMAL, r: int = NRS_REFERENCE, nlines: int = NLINES) -> float:
    """TFRAME (s) of an IRS2 full frame: (712 x 2049 + 1) x 10 us = 14.58889 s."""
    return round((line_samples(n, r) * (nlines + 1) + 1) * SAMPLE_TIME, 8)


@dataclass(frozen=True)
class RowLayout:
    """Where each DMS row of an IRS2 frame comes from (arrays of length 3200)."""

    output: np.ndarray     # 0: reference output, 1-4: amplifiers (detector order)
    slot: np.ndarray       # time slot within a detector row (0..711)
    normal: np.ndarray     # bool: a normal (light-sensitive) pixel row
    column: np.ndarray     # detector column (0..3199)
    line: np.ndarray       # detector row of each DMS column (length 2048)


@lru_cache(maxsize=4)
def row_layout(detector: str, n: int = NRS_NORMAL, r: int = NRS_REFERENCE) -> RowLayout:
    """The IRS2 readout order of ``detector`` (NRS1 or NRS2) in DMS orientation."""
    det = str(detector).upper()
    if det not in ("NRS1", "NRS2"):
        raise JwcalError(f"IRS2 readouts exist for NRS1 and NRS2 only, not {detector!r}")
    y = np.arange(NROWS)
    col = y if det == "NRS1" else NROWS - 1 - y
    output = col // OUTPUT_SAMPLES
    local = col % OUTPUT_SAMPLES
    pos = np.where(output % 2 == 0, OUTPUT_SAMPLES - 1 - local, local)     # readout order
    m = pos - n // 2
    block = np.floor_divide(m, n + r)
    is_ref = (m >= 0) & (np.mod(m, n + r) < r)
    slot = np.where(m < 0, pos, np.where(is_ref, pos + 2 * block + 1, pos + 2 * (block + 1)))
    normal = ~is_ref & (output > 0)
    x = np.arange(NLINES)
    line = x if det == "NRS1" else NLINES - 1 - x
    arrays = [output.astype(np.intp), slot.astype(np.intp), normal, col.astype(np.intp), line.astype(np.intp)]
    for a in arrays:
        a.setflags(write=False)      # shared by every caller (cached)
    return RowLayout(*arrays)


def _bad_reference_rows(layout: RowLayout, n: int = NRS_NORMAL, r: int = NRS_REFERENCE) -> np.ndarray:
    """DMS rows of the bad interleaved reference pixels of :data:`BAD_REFERENCE_GROUPS` (the
    REFPIX DQ table's convention: detector columns; amplifiers 2 and 4 swap the pairs)."""
    rows = []
    inverse = np.empty(NROWS, np.intp)
    inverse[layout.column] = np.arange(NROWS)
    for out, odd_even, group in BAD_REFERENCE_GROUPS:
        pair = 3 - odd_even if out % 2 == 0 else odd_even
        first = out * OUTPUT_SAMPLES + n // 2 + group * (n + r) + 2 * (pair - 1)
        rows.extend(inverse[[first, first + 1]])
    return np.array(sorted(rows), np.intp)


def _dq_table():
    out = np.array([o for o, _, _ in BAD_REFERENCE_GROUPS], np.uint16)
    oe = np.array([e for _, e, _ in BAD_REFERENCE_GROUPS], np.uint16)
    mask = np.array([1 << g for _, _, g in BAD_REFERENCE_GROUPS], np.uint32)
    return out, oe, mask


# ------------------------------------------------------------------------------- references
def irs2_superbias(state) -> np.ndarray:
    """The IRS2 superbias (3200 x 2048 float32, DMS): the detector's superbias on the normal
    rows, and a bias of their own (per-output level, per-row structure, pixel noise; from the
    detector seed) on the reference-output and interleaved rows."""
    spec = state.spec
    if state.superbias.shape != (NLINES, NLINES) or tuple(state.origin) != (0, 0):
        raise JwcalError("IRS2 readouts are full frame only (the detector state must be the full frame)")
    layout = row_layout(spec.detector)
    out = np.empty((NROWS, NLINES), np.float32)
    out[layout.normal] = state.superbias
    rng = np.random.default_rng(np.random.SeedSequence([int(state.seed) & 0xFFFFFFFF, 0x1252,
                                                        sum(map(ord, spec.detector.upper()))]))
    ref = ~layout.normal
    level = np.empty(5, np.float32)
    level[0] = spec.bias + rng.normal(0.0, 0.02 * spec.bias)
    for k in range(1, 5):
        level[k] = float(np.mean(state.superbias[layout.output[layout.normal] == k]))
    rows = ref.sum()
    out[ref] = (level[layout.output[ref]][:, None] + rng.normal(0.0, 20.0, (rows, 1))
                + rng.normal(0.0, 8.0, (rows, NLINES))).astype(np.float32)
    return out


def refpix_coefficients(n: int = NRS_NORMAL, r: int = NRS_REFERENCE, *, f_pass: float | None = None,
                        f_stop: float | None = None):
    """``(alpha, beta)`` float64 real filters on the 2048 x 712 time line (numpy FFT order).

    ``beta`` = L(f) x (row samples / reference samples per row) low-pass-interpolates each
    amplifier's interleaved reference samples; ``alpha`` = 1 - L(f) takes the rest (the high
    frequencies) from the reference output.  L is 1 below ``f_pass`` and falls to 0 at
    ``f_stop`` with a cosine (default 2 and 8 cycles per detector row).
    """
    row = line_samples(n, r)
    length = NLINES * row
    f_pass = 2.0 / row if f_pass is None else f_pass
    f_stop = 8.0 / row if f_stop is None else f_stop
    f = np.abs(np.fft.fftfreq(length))
    low = np.clip((f_stop - f) / (f_stop - f_pass), 0.0, 1.0)
    low = 0.5 - 0.5 * np.cos(np.pi * low)
    density = row / float(NORMAL_PER_OUTPUT // n * 2 * r)         # 712 / 256
    return 1.0 - low, density * low


def _later(useafter: str, seconds: int = 1) -> str:
    when = datetime.strptime(useafter[:19], "%Y-%m-%dT%H:%M:%S") + timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def write_irs2_references(writer, filters) -> None:
    """NIRSpec's reference-writer hook (``DetectorSpec.reference_writers``): the IRS2 MASK,
    SUPERBIAS, DARK, READNOISE and REFPIX, when the set is made for an IRS2 readout (full
    frame).  Nothing otherwise (the REFPIX table alone is 93 MB)."""
    from jwcore.datamodel import models as M
    from jwcore.sim.references import dq_def

    patt = getattr(writer, "readpatt", None)
    readout = getattr(patt, "raw_readout", None)
    window = getattr(writer, "window", None)
    if not isinstance(readout, IRS2Readout) or (window is not None and window.name != "FULL"):
        return
    spec, state = writer.spec, writer.state
    full = spec.subarray("FULL")
    n, r = readout.nrs_normal, readout.nrs_reference
    layout = row_layout(spec.detector, n, r)
    names = [p.name for p in spec.readout_patterns.values() if isinstance(p.raw_readout, IRS2Readout)]
    select = {"exposure.readpatt": patt.name, "exposure.p_readpatt": "".join(f"{x}|" for x in names)}
    useafter = _later(writer.useafter)

    def meta(reftype, description, extra=None):
        m = writer.base_meta(reftype, description, extra={**select, **(extra or {})})
        m["useafter"] = useafter
        return m

    defs = dq_def()
    mask = np.zeros((NROWS, NLINES), np.uint32)
    mask[layout.normal] = state.mask
    mask[~layout.normal] = dq.REFERENCE_PIXEL
    writer.fits(M.MaskModel, "mask_irs2", meta("MASK", "IRS2 bad-pixel mask (3200 rows: reference rows included)"),
                dq=mask, dq_def=defs)
    writer.fits(M.SuperBiasModel, "superbias_irs2",
                meta("SUPERBIAS", "IRS2 superbias (3200 rows: reference output and interleaved rows included)"),
                data=irs2_superbias(state), dq=np.zeros((NROWS, NLINES), np.uint32), dq_def=defs)

    tframe = readout.frame_time(spec, full)
    nframes = int(writer.ngroups) * (patt.nframes + patt.groupgap)
    ddq = (state.mask & np.uint32(dq.HOT | dq.WARM)).astype(np.uint32)
    dmeta = writer.base_meta("DARK", f"IRS2 dark current (DN, cumulative per frame, {tframe:.5f} s frames)",
                             subarray=full, extra={**select, "exposure.nframes": 1, "exposure.groupgap": 0,
                                                   "exposure.ngroups": nframes, "exposure.frame_time": tframe,
                                                   "exposure.noutputs": full.noutputs})
    dmeta["useafter"] = useafter
    writer.fits(M.DarkModel, "dark_irs2_full", dmeta, data=state.dark_frames(tframe, nframes, full), dq=ddq,
                dq_def=defs)

    rn = np.sqrt(2.0 * (state.read_noise.astype(np.float64) ** 2 + spec.read_noise ** 2)).astype(np.float32)
    writer.fits(M.ReadnoiseModel, "readnoise_irs2",
                meta("READNOISE", "IRS2 CDS read noise (DN) of normal pixels after the IRS2 correction"),
                data=rn)
    _write_refpix(writer, useafter, select, n, r)


def _write_refpix(writer, useafter, select, n, r) -> Path:
    """The REFPIX reference (jwst's IRS2Model layout), written with astropy."""
    from astropy.io import fits

    from jwcore.atomic import atomic_path

    spec = writer.spec
    alpha, beta = refpix_coefficients(n, r)
    columns = []
    for name, values in (("ALPHA", alpha), ("BETA", beta)):
        inter = np.zeros(2 * values.size, np.float32)
        inter[0::2] = values                                    # real parts; imaginary 0
        for k in range(4):
            columns.append(fits.Column(name=f"{name}_{k}", format="E", array=inter))
    out, odd_even, mask = _dq_table()
    dq_cols = [fits.Column(name="OUTPUT", format="I", bzero=32768, array=out),
               fits.Column(name="ODD_EVEN", format="I", bzero=32768, array=odd_even),
               fits.Column(name="MASK", format="J", bzero=2**31, array=mask)]
    primary = fits.PrimaryHDU()
    for key, value in (("DATE", writer.date), ("DATAMODL", "IRS2Model"), ("TELESCOP", "JWST"),
                       ("INSTRUME", spec.instrument.upper()), ("DETECTOR", spec.detector.upper()),
                       ("READPATT", select["exposure.readpatt"]), ("P_READPA", select["exposure.p_readpatt"]),
                       ("EXP_TYPE", spec.exp_type), ("REFTYPE", "REFPIX"), ("USEAFTER", useafter),
                       ("PEDIGREE", "DUMMY"), ("AUTHOR", "jwcal simulator"), ("ORIGIN", "jwcal"),
                       ("DESCRIP", "IRS2 coefficients: alpha = 1 - low-pass, beta = low-pass / ref. density")):
        primary.header[key] = value
    hdul = fits.HDUList([primary, fits.BinTableHDU.from_columns(columns, name="IRS2"),
                         fits.BinTableHDU.from_columns(dq_cols, name="DQ")])
    path = writer.folder / f"{writer.stem}_refpix.fits"
    with atomic_path(path, overwrite=True) as tmp:
        hdul.writeto(tmp, overwrite=True)
    writer.paths.append(path)
    return path


# ------------------------------------------------------------------------------------ readout
def _one_over_f(rng, length: int, rms: float) -> np.ndarray:
    """One series of 1/f noise (float32, periodic over ``length``) scaled to ``rms``."""
    if rms <= 0:
        return np.zeros(length, np.float32)
    nf = length // 2 + 1
    amp = _inverse_sqrt_f(length)
    spec = (rng.standard_normal(nf, dtype=np.float32) + 1j * rng.standard_normal(nf, dtype=np.float32))
    spec *= amp
    series = np.fft.irfft(spec, n=length).astype(np.float32)
    series -= series.mean()
    std = float(series.std())
    return series * np.float32(rms / std) if std > 0 else series


@lru_cache(maxsize=2)
def _inverse_sqrt_f(length: int) -> np.ndarray:
    f = np.fft.rfftfreq(length)
    amp = np.zeros(f.size, np.float32)
    amp[1:] = f[1:] ** -0.5
    return amp


@dataclass(frozen=True)
class IRS2Readout:
    """The IRS2 raw layout of NIRSpec's NRS1/NRS2 (see the module docstring); a
    ``ReadPattern.raw_readout``."""

    nrs_normal: int = NRS_NORMAL
    nrs_reference: int = NRS_REFERENCE

    def frame_time(self, spec, subarray) -> float:
        self._check(spec, subarray)
        return irs2_frame_time(self.nrs_normal, self.nrs_reference)

    def keywords(self, spec, subarray) -> dict:
        self._check(spec, subarray)
        return {"exposure.nrs_normal": self.nrs_normal, "exposure.nrs_reference": self.nrs_reference}

    def ramp_options(self, options):
        from jwcore.sim.ramp import RampOptions

        return replace(options or RampOptions(), correlated_noise=False)

    def _check(self, spec, subarray):
        name = getattr(subarray, "name", subarray)
        if str(name).upper() != "FULL":
            raise JwcalError(f"{spec.detector}: IRS2 readouts are full frame only (not {name})")

    def raw_ramp(self, state, subarray, pattern, result, *, frame_time, seed, options=None):
        """The 3200-row raw ramp (uint16) from the simulated normal-pixel ramp ``result``."""
        self._check(state.spec, subarray)
        spec = state.spec
        n, r = self.nrs_normal, self.nrs_reference
        layout = row_layout(spec.detector, n, r)
        nints, ngroups = result.data.shape[:2]
        noiseless = bool(options is not None and options.noiseless)
        nf = pattern.nframes
        row = line_samples(n, r)
        length = NLINES * row
        ref = ~layout.normal
        nref = int(ref.sum())
        bias_ref = irs2_superbias(state)[ref]
        bad_rows = np.searchsorted(np.flatnonzero(ref), _bad_reference_rows(layout, n, r))
        # flat index of every sample on the five outputs' time lines, and its time in the frame
        when = layout.line[None, :] * row + layout.slot[:, None]                 # (3200, 2048)
        flat = (layout.output[:, None] * length + when).astype(np.int32)
        t_frame = (when / float(length) - 0.5).astype(np.float32)
        del when
        out = np.empty((nints, ngroups, NROWS, NLINES), np.uint16)
        sigma_c = spec.one_over_f / np.sqrt(nf)
        sigma_a = 0.5 * spec.one_over_f / np.sqrt(nf)
        key = [int(seed) & 0xFFFFFFFF, 0x1252]
        for i in range(nints):
            rng = np.random.default_rng(np.random.SeedSequence(key + [i]))
            level = rng.normal(0.0, 5.0 * spec.drift_rms, 5)
            ktc = np.zeros((nref, NLINES), np.float32) if noiseless else \
                spec.ktc_noise * rng.standard_normal((nref, NLINES), dtype=np.float32)
            for g in range(ngroups):
                grng = np.random.default_rng(np.random.SeedSequence(key + [i, g]))
                if noiseless:
                    noise = np.zeros((NROWS, NLINES), np.float32)
                else:
                    common = _one_over_f(grng, length, sigma_c)
                    lines = np.empty((5, length), np.float32)
                    for k in range(5):
                        lines[k] = common
                        if k:
                            lines[k] += _one_over_f(grng, length, sigma_a)
                    del common
                    noise = np.take(lines, flat)
                    del lines
                    jitter = (level + grng.normal(0.0, spec.drift_rms, 5)).astype(np.float32)
                    slope = grng.normal(0.0, spec.drift_rms, 5).astype(np.float32)
                    noise += jitter[layout.output][:, None] + slope[layout.output][:, None] * t_frame
                plane = out[i, g]
                normal = result.data[i, g].astype(np.float32) + noise[layout.normal]
                np.rint(normal, out=normal)
                plane[layout.normal] = np.clip(normal, 0, 65535).astype(np.uint16)
                del normal
                raw = bias_ref + noise[ref]
                del noise
                if not noiseless:
                    raw += ktc
                    raw += (spec.read_noise / np.sqrt(nf)) * grng.standard_normal((nref, NLINES), dtype=np.float32)
                    raw[bad_rows] += 60.0 * grng.standard_normal((bad_rows.size, NLINES), dtype=np.float32)
                np.rint(raw, out=raw)
                plane[ref] = np.clip(raw, 0, 65535).astype(np.uint16)
        return replace(result, data=out)


#: The readout object shared by the NRSIRS2RAPID and NRSIRS2 patterns.
IRS2_READOUT = IRS2Readout()
