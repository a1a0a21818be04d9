"""A reference-file set consistent with the simulator, in today's jwst formats.

:func:`write_reference_set` writes, for one detector, the files calwebb_detector1/image2
ask for, made from the same :class:`~jwcore.sim.state.DetectorState` the simulator uses:
MASK, SATURATION, SUPERBIAS (near-IR), LINEARITY, DARK (per subarray; MIRI: 4-D
DarkMIRIModel), GAIN, READNOISE, IPC, TRAPDENSITY, TRAPPARS, PERSAT, RESET and RSCD (MIRI),
FLAT (per filter), PHOTOM (DATAMODL and row selectors as the spec declares them:
``photom_model``, ``photom_keys``), AREA, DISTORTION (ASDF, with the spec's
``distortion_wildcards``) and FILTEROFFSET (ASDF, when the spec declares ``filter_offsets``),
APCORR (FITS) and ABVEGAOFFSET (ASDF) for source_catalog (:mod:`.photometry_refs`, when the
plugin declares a ``photometry_layout``), plus the
step-parameter references of resample and outlier detection
(``pars-resamplestep``/``pars-outlierdetectionstep``: jwst 3.0 reads no reference *data* in
those steps).  :func:`build_store` indexes them in a :class:`~jwcore.refs.store.LocalStore`.

Every file carries REFTYPE, USEAFTER, PEDIGREE, AUTHOR, DESCRIP and its selection keywords.
Full-frame files are written with SUBARRAY=GENERIC and P_SUBARR listing the detector's
subarrays (jwst cuts the window out by SUBSTRT/SUBSIZE); darks and MIRI resets are written
per subarray, as CRDS holds them.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import dq
from ..errors import JwcalError
from ..datamodel import models as M
from .detector import DetectorSpec
from .exposure import write_fits_deterministic
from .geometry import distortion_model, filter_offset, pixel_area_map
from .photometry_refs import _value as _selector_value, write_photometry_references
from .scene import ARCSEC2_SR
from .state import DetectorState, detector_state

AUTHOR = "jwcal simulator"
PEDIGREE = "DUMMY"
DQ_NAMES = ("DO_NOT_USE", "SATURATED", "DEAD", "HOT", "WARM", "LOW_QE", "TELEGRAPH", "NO_LIN_CORR",
            "NO_SAT_CHECK", "NO_FLAT_FIELD", "REFERENCE_PIXEL")


def _model_class(base, name):
    """A jwcore model class that writes DATAMODL=``name`` (jwst's model for the layout)."""
    return type(name, (base,), {"model_type": name})


@lru_cache(maxsize=None)
def _photom_model_class(name: str):
    """A PHOTOM model class writing DATAMODL ``name`` (the spec's ``photom_model``)."""
    return _model_class(M.PhotomModel, name)


# the 4-D dark of Si:As detectors (jwst's format name)
DarkMIRIModel = _model_class(M.DarkModel, "DarkMIRIModel")

# PHOTOM selector columns (DetectorSpec.photom_keys) and their FITS column types
_PHOTOM_DTYPES = {"filter": "S12", "pupil": "S12", "subarray": "S17"}


def dq_def(names=DQ_NAMES) -> np.ndarray:
    rows = []
    for name in names:
        value = dq.PIXEL[name]
        rows.append((int(value).bit_length() - 1, value, name, name.replace("_", " ").lower()))
    return np.array(rows, dtype=[("BIT", ">i4"), ("VALUE", ">u4"), ("NAME", "S40"), ("DESCRIPTION", "S80")])


def _set_path(meta: dict, path: str, value) -> None:
    """Set ``meta[a][b][c] = value`` for the dotted ``path`` "a.b.c" (creating branches)."""
    node = meta
    *branches, leaf = path.split(".")
    for b in branches:
        node = node.setdefault(b, {})
    node[leaf] = value


class _Writer:
    def __init__(self, spec: DetectorSpec, state: DetectorState, folder: Path, useafter: str, date: str):
        self.spec, self.state, self.folder, self.useafter, self.date = spec, state, folder, useafter, date
        self.paths: list[Path] = []
        self.stem = f"jwcal_{spec.instrument.lower()}_{spec.detector.lower()}"

    def base_meta(self, reftype: str, description: str, *, subarray=None, extra=None) -> dict:
        spec = self.spec
        sub = subarray or spec.subarrays.get("FULL") or next(iter(spec.subarrays.values()))
        generic = subarray is None
        meta = {
            "telescope": "JWST", "reftype": reftype.upper() if reftype.lower() != "distortion" else reftype,
            "useafter": self.useafter, "pedigree": PEDIGREE, "author": AUTHOR, "description": description,
            "origin": "jwcal", "date": self.date,
            "instrument": {"name": spec.instrument.upper(), "detector": spec.detector.upper()},
            "exposure": {"type": spec.exp_type, "p_exptype": f"{spec.exp_type}|"},
            "subarray": {"name": "GENERIC" if generic else sub.name, "xstart": sub.xstart, "ystart": sub.ystart,
                         "xsize": sub.xsize, "ysize": sub.ysize, "fastaxis": spec.fastaxis,
                         "slowaxis": spec.slowaxis},
        }
        if generic:
            meta["subarray"]["p_subarray"] = "".join(f"{n}|" for n in spec.subarrays)
        for path, value in (extra or {}).items():
            _set_path(meta, path, value)
        return meta

    def fits(self, cls, name: str, meta: dict, **arrays) -> Path:
        model = cls(meta=meta)
        for key, value in arrays.items():
            setattr(model, key, value)
        path = self.folder / f"{self.stem}_{name}.fits"
        write_fits_deterministic(model, path, self.date)
        self.paths.append(path)
        return path

    def asdf_meta(self, reftype: str, description: str, model_type: str | None = None) -> dict:
        """The ``meta`` of an ASDF reference of this detector (a fresh dict to add to)."""
        return _asdf_meta(self, reftype, description, model_type)

    def asdf(self, name: str, tree: dict) -> Path:
        import asdf

        path = self.folder / f"{self.stem}_{name}.asdf"
        buf = io.BytesIO()
        asdf.AsdfFile(tree).write_to(buf)
        from ..atomic import atomic_path

        with atomic_path(path, overwrite=True) as tmp:
            tmp.write_bytes(buf.getvalue())
        self.paths.append(path)
        return path


def write_reference_set(detector_spec: DetectorSpec, folder, *, useafter: str = "2022-01-01T00:00:00",
                        seed: int = 1, filters=None, subarrays=None, readpatt: str | None = None,
                        ngroups: int | None = None, nints: int = 2, window: str | None = None,
                        date: str = "2022-01-01T00:00:00.000") -> list[Path]:
    """Write the detector's reference files into ``folder``; returns their paths.

    ``seed`` picks the detector truth (use the exposures' ``detector_seed``); ``filters``
    the FLAT/FILTEROFFSET/PHOTOM rows (default: the detector's default filter); ``subarrays``
    the windows of the per-subarray DARK (and MIRI RESET) files (default: FULL, or
    ``window``); ``ngroups`` / ``readpatt`` size the darks and resets so they cover an
    exposure of that many groups (default 10 groups of the default readout); ``nints`` the
    integrations of the MIRI 4-D dark and reset.  ``window``: write every image reference cut
    to that subarray (SUBARRAY=<name>, as CRDS's subarray references) instead of full frame
    and GENERIC: much smaller files for subarray work.  AREA stays full frame (jwst needs it so).
    """
    spec = detector_spec
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    filters = [spec.filter(f).name for f in (filters or [spec.default_filter])]
    win = spec.subarray(window) if window else None
    subarrays = [spec.subarray(s).name for s in (subarrays or [window or "FULL"])]
    if win is not None:
        for name in subarrays:
            s = spec.subarray(name)
            if not (s.xstart >= win.xstart and s.ystart >= win.ystart and s.xstart + s.xsize <= win.xstart + win.xsize
                    and s.ystart + s.ysize <= win.ystart + win.ysize):
                raise JwcalError(f"subarray {name} lies outside the reference window {win.name}")
    state = detector_state(spec, seed, window=win)
    w = _Writer(spec, state, folder, useafter, date)
    shape = win.shape if win else spec.shape

    def cut(arr):
        return np.ascontiguousarray(arr)

    def rmeta(reftype, description, extra=None):
        return w.base_meta(reftype, description, subarray=win, extra=extra)
    patt = spec.readout(readpatt or spec.default_readpatt)
    ngroups = int(ngroups or 10)
    ref = cut(state.reference)
    defs = dq_def()

    # -- detector1 -----------------------------------------------------------------------
    w.fits(M.MaskModel, "mask", rmeta("MASK", "Bad-pixel mask of the simulated detector"),
           dq=cut(state.mask), dq_def=defs)

    sat_dq = np.zeros(shape, np.uint32)
    sat_dq[ref] = dq.NO_SAT_CHECK
    w.fits(M.SaturationModel, "saturation",
           rmeta("SATURATION", "Saturation level (raw DN incl. bias): 95% of the full-well signal"),
           data=cut(state.saturation), dq=sat_dq, dq_def=defs)

    if not spec.is_si_as:
        w.fits(M.SuperBiasModel, "superbias", rmeta("SUPERBIAS", "Superbias: the raw zero-signal level"),
               data=cut(state.superbias), dq=np.zeros(shape, np.uint32), dq_def=defs)

    coeffs = np.stack([np.zeros(shape, np.float32), np.ones(shape, np.float32), cut(state.nonlin)])
    w.fits(M.LinearityModel, "linearity",
           rmeta("LINEARITY", "Linearity correction t = m + a m^2 (COEFFS = [0, 1, a])"),
           coeffs=coeffs.astype(np.float32), dq=np.zeros(shape, np.uint32), dq_def=defs)

    w.fits(M.GainModel, "gain", rmeta("GAIN", "Gain (e-/DN)", extra={"bunit_data": "electron/DN"}),
           data=cut(state.gain))
    w.fits(M.ReadnoiseModel, "readnoise",
           rmeta("READNOISE", "CDS read noise (DN): sqrt(2) x the noise of a single read",
                extra={"exposure.readpatt": "ANY", "exposure.p_readpatt": "ANY|"}),
           data=(state.read_noise * np.float32(np.sqrt(2.0))).astype(np.float32))
    w.fits(M.IPCModel, "ipc", rmeta("IPC", "IPC deconvolution kernel (3x3 core of the inverse)"),
           data=state.ipc_inverse)

    for name in subarrays:
        sub = spec.subarray(name)
        tframe = spec.frame_time(sub)
        nframes = ngroups * (patt.nframes + patt.groupgap)
        frames = state.dark_frames(tframe, nframes, sub)
        ddq = (state.mask[state.view(sub)] & np.uint32(dq.HOT | dq.WARM)).astype(np.uint32)
        if spec.is_si_as:
            data = np.broadcast_to(frames, (nints,) + frames.shape).astype(np.float32)
            meta = w.base_meta("DARK", f"Dark current (DN, cumulative per group, {tframe:.5f} s frames)",
                               subarray=sub, extra={"exposure.readpatt": "ANY", "exposure.p_readpatt": "ANY|",
                                                    "exposure.nframes": 1, "exposure.groupgap": 0,
                                                    "exposure.ngroups": nframes, "exposure.nints": nints,
                                                    "exposure.frame_time": tframe})
            w.fits(DarkMIRIModel, f"dark_{sub.name.lower()}", meta, data=data,
                   dq=np.zeros(data.shape, np.uint32), dq_def=defs)
        else:
            meta = w.base_meta("DARK", f"Dark current (DN, cumulative per frame, {tframe:.5f} s frames)",
                               subarray=sub, extra={"exposure.readpatt": "ANY", "exposure.p_readpatt": "ANY|",
                                                    "exposure.nframes": 1, "exposure.groupgap": 0,
                                                    "exposure.ngroups": nframes, "exposure.frame_time": tframe,
                                                    "exposure.noutputs": sub.noutputs})
            w.fits(M.DarkModel, f"dark_{sub.name.lower()}", meta, data=frames, dq=ddq, dq_def=defs)

    if spec.is_si_as:
        from .ramp import reset_anomaly

        for name in subarrays:
            sub = spec.subarray(name)
            vs = state.view(sub)
            planes = np.stack([np.stack([reset_anomaly(state, i, g)[vs] for g in range(ngroups)])
                               for i in range(nints)]).astype(np.float32)
            meta = w.base_meta("RESET", "Reset anomaly (DN) per integration and group", subarray=sub,
                               extra={"exposure.readpatt": "ANY", "exposure.p_readpatt": "ANY|",
                                      "exposure.ngroups": ngroups, "exposure.nints": nints})
            w.fits(M.ResetModel, f"reset_{sub.name.lower()}", meta, data=planes,
                   dq=np.zeros(sub.shape, np.uint32), dq_def=defs)
        rows = [(s, r, 1, 2) for s in spec.subarrays for r in spec.readout_patterns]
        table = np.array(rows, dtype=[("subarray", "S17"), ("readpatt", "S12"), ("group_skip1", ">i4"),
                                      ("group_skip", ">i4")])
        w.fits(M.RSCDModel, "rscd", w.base_meta("RSCD", "RSCD: groups to skip per subarray and readout"),
               rscd_group_skip_table=table)

    # persistence (skipped by default in calwebb_detector1, but the formats are real)
    trap = np.full(shape, 0.0, np.float32)
    trap[~ref] = 0.01
    w.fits(M.TrapDensityModel, "trapdensity", rmeta("TRAPDENSITY", "Trap density (traps per pixel)"),
           data=trap, dq=np.zeros(shape, np.uint32), dq_def=defs)
    pars = np.array([(1.0e-3, 1.0, 0.0, -1.0e-3), (5.0e-4, 0.5, 0.0, -5.0e-4), (1.0e-4, 0.2, 0.0, -1.0e-4)],
                    dtype=[("capture0", ">f8"), ("capture1", ">f8"), ("capture2", ">f8"), ("decay_param", ">f8")])
    w.fits(M.TrapParsModel, "trappars", w.base_meta("TRAPPARS", "Trap capture and decay parameters"),
           trappars_table=pars)
    w.fits(M.PersistenceSatModel, "persat", rmeta("PERSAT", "Persistence saturation level (DN)"),
           data=cut(state.full_well * 0.98).astype(np.float32), dq=np.zeros(shape, np.uint32), dq_def=defs)

    # -- image2 --------------------------------------------------------------------------
    flat = cut(state.flat).copy()
    fdq = np.zeros(shape, np.uint32)
    bad = flat <= 0
    flat[bad] = 1.0
    fdq[bad] = dq.NO_FLAT_FIELD | dq.DO_NOT_USE
    fdq[ref] = dq.NO_FLAT_FIELD
    for fname in filters:
        f = spec.filter(fname)
        extra = {}
        if f.filter:
            extra["instrument.filter"] = f.filter
        if f.pupil:
            extra["instrument.pupil"] = f.pupil
        w.fits(M.FlatModel, f"flat_{fname.lower()}", rmeta("FLAT", f"Pixel flat for {fname}", extra=extra),
               data=flat, dq=fdq, dq_def=defs)

    pixar_a2 = spec.sci_scale[0] * spec.sci_scale[1]
    phot_extra = {"photometry.pixelarea_steradians": pixar_a2 * ARCSEC2_SR, "photometry.pixelarea_arcsecsq": pixar_a2}
    if spec.photom_model is not None:
        w.fits(_photom_model_class(spec.photom_model), "photom",
               w.base_meta("PHOTOM", "Photometric conversion DN/s -> MJy/sr", extra=phot_extra),
               phot_table=_photom_table(spec, filters))

    # AREA is always full frame (GENERIC), as in CRDS: jwst's photom cuts the science window out
    # of it by the exposure's SUBSTRT/SUBSIZE alone, without reading the reference's own window.
    area_extra = dict(phot_extra)
    w.fits(M.PixelAreaModel, "area",
           w.base_meta("AREA", "Relative pixel area from the distortion", extra=area_extra),
           data=pixel_area_map(spec))

    _write_distortion(w)
    if spec.filter_offsets:
        _write_filteroffset(w, filters)
    _write_step_pars(w)
    # -- image3: APCORR and ABVEGAOFFSET (source_catalog), when the plugin declares their layout
    write_photometry_references(w, filters)
    # what the plugin writers may need to know of this set (e.g. NIRSpec's IRS2 references)
    w.readpatt, w.ngroups, w.nints, w.subarrays, w.window = patt, ngroups, nints, subarrays, win
    for writer in spec.reference_writers:
        writer(w, filters)
    return list(w.paths)


def _photom_table(spec: DetectorSpec, filters) -> np.ndarray:
    """PHOTOM rows: the ``spec.photom_keys`` selector columns, PHOTMJSR and a 2% uncertainty;
    per filter (and per subarray of the detector when ``"subarray"`` selects), or without
    selectors a single row for the first filter."""
    keys = tuple(spec.photom_keys)
    rows = []
    for name in filters if keys else filters[:1]:
        f = spec.filter(name)
        for sub in (list(spec.subarrays) if "subarray" in keys else [None]):
            rows.append(tuple(_selector_value(k, spec, f, sub) for k in keys) + (f.photmjsr, 0.02 * f.photmjsr))
    return np.array(rows, dtype=[(k, _PHOTOM_DTYPES[k]) for k in keys] + [("photmjsr", ">f4"),
                                                                          ("uncertainty", ">f4")])


def _write_filteroffset(w: _Writer, filters):
    spec = w.spec
    rows = []
    for name in filters:
        f = spec.filter(name)
        dx, dy = filter_offset(spec, name)
        row = {"filter": f.filter, "column_offset": float(dx), "row_offset": float(dy)}
        for key in spec.filter_offset_keys:      # the other keys, when the filter sets them
            if key != "filter" and getattr(f, key):
                row[key] = getattr(f, key)
        rows.append(row)
    meta = _asdf_meta(w, "filteroffset", "Filter-dependent pixel offsets")
    w.asdf("filteroffset", {"meta": meta, "filters": rows})


def _asdf_meta(w: _Writer, reftype: str, description: str, model_type: str | None = None) -> dict:
    from astropy import units as u

    spec = w.spec
    meta = {
        "telescope": "JWST", "reftype": reftype, "useafter": w.useafter, "pedigree": PEDIGREE,
        "author": AUTHOR, "description": description, "date": w.date, "origin": "jwcal",
        "instrument": {"name": spec.instrument.upper(), "detector": spec.detector.upper()},
        "exposure": {"type": spec.exp_type, "p_exptype": f"{spec.exp_type}|"},
        "subarray": {"name": "GENERIC"},
        "filename": f"{w.stem}_{reftype}.asdf",
    }
    if model_type:
        meta["model_type"] = model_type
    if spec.module:
        meta["instrument"]["module"] = spec.module
    if spec.channel:
        meta["instrument"]["channel"] = spec.channel
    if reftype == "distortion":
        meta["input_units"] = u.pix
        meta["output_units"] = u.arcsec
        for path, value in spec.distortion_wildcards.items():
            _set_path(meta, path, value)
    elif reftype == "filteroffset":
        meta["model_type"] = "FilteroffsetModel"
    return meta


def _write_distortion(w: _Writer):
    meta = _asdf_meta(w, "distortion", "Distortion: science pixel -> V2V3 (arcsec), SIAF-style polynomial",
                      model_type="DistortionModel")
    w.asdf("distortion", {"meta": meta, "model": distortion_model(w.spec)})


def _write_step_pars(w: _Writer):
    spec = w.spec
    for reftype, cls, params in (
        ("pars-resamplestep", "jwst.resample.resample_step.ResampleStep",
         {"pixfrac": 1.0, "kernel": "square", "fillval": "NAN", "weight_type": "ivm", "pixel_scale_ratio": 1.0,
          "single": False, "blendheaders": True, "in_memory": True}),
        ("pars-outlierdetectionstep", "jwst.outlier_detection.outlier_detection_step.OutlierDetectionStep",
         {"weight_type": "ivm", "pixfrac": 1.0, "kernel": "square", "fillval": "INDEF", "maskpt": 0.7,
          "snr": "5.0 4.0", "scale": "1.2 0.7", "backg": 0.0, "good_bits": "~DO_NOT_USE", "in_memory": True}),
    ):
        meta = {"telescope": "JWST", "reftype": reftype, "useafter": w.useafter, "pedigree": PEDIGREE,
                "author": AUTHOR, "description": f"{cls.rsplit('.', 1)[-1]} parameters for simulated imaging",
                "date": w.date, "origin": "jwcal",
                "instrument": {"name": spec.instrument.upper(), "detector": spec.detector.upper()},
                "exposure": {"type": spec.exp_type}}
        w.asdf(reftype, {"meta": meta, "parameters": {"class": cls, "name": cls.rsplit(".", 1)[-1], **params}})


# -- the local store -------------------------------------------------------------------------------
PATTERN_KEYS = {
    "meta.subarray.name": "P_SUBARR",
    "meta.exposure.readpatt": "P_READPA",
    "meta.exposure.type": "P_EXP_TY",
    "meta.instrument.filter": "P_FILTER",
    "meta.instrument.pupil": "P_PUPIL",
}


def build_store(folder, paths, pm=None):
    """Add ``paths`` to the local reference store in ``folder`` (``store.json``), matching on
    each instrument plugin's selection keys; returns the :class:`LocalStore`.

    As CRDS does, a file's P_* pattern keyword (P_SUBARR, P_READPA, P_EXP_TY, P_FILTER,
    P_PUPIL) is the value matched for the corresponding selection keyword when present: a
    full-frame GENERIC reference then serves every subarray it lists.
    """
    from ..refs.store import LocalStore, _read_ref_header

    if pm is None:
        from ..plugins import get_plugin_manager

        pm = get_plugin_manager()

    def match_keys_for(instrument, reftype):
        return pm.hook.jwcal_reference_match_keys(instrument=instrument, reftype=reftype) or ()

    store = LocalStore(folder)
    for path in paths:
        path = Path(path)
        entry = store.add(path, match_keys_for)
        header = _read_ref_header(path)
        if path.suffix == ".asdf":
            header = dict(header)
            header.update(_asdf_patterns(path))
        for key in list(entry.match) + [k for k in match_keys_for(entry.instrument, entry.reftype)
                                         if k not in entry.match]:
            pat = PATTERN_KEYS.get(key)
            if pat and header.get(pat):
                entry.match[key] = str(header[pat])
    store.save_index()
    return store


def _asdf_patterns(path) -> dict:
    import asdf

    out = {}
    with asdf.open(path, lazy_load=True) as af:
        meta = af.tree.get("meta", {})
        inst = meta.get("instrument", {}) or {}
        exp = meta.get("exposure", {}) or {}
        sub = meta.get("subarray", {}) or {}
        for kw, value in (("P_FILTER", inst.get("p_filter")), ("P_PUPIL", inst.get("p_pupil")),
                          ("P_EXP_TY", exp.get("p_exptype")), ("P_READPA", exp.get("p_readpatt")),
                          ("P_SUBARR", sub.get("p_subarray"))):
            if value:
                out[kw] = value
    return out
