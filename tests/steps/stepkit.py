"""Shared set-up of the step-level parity tests (tests/steps/test_*_step.py).

Both jwcal and jwst 3.0.0 read the same files: science exposures and small reference files
are written with stdatamodels (so they are what jwst expects), then

* jwst:  ``<Name>Step.call(path, override_<reftype>=ref, ...)``,
* jwcal: the registered step run on ``open_model(path)`` with the same overrides,

and the arrays and S_/R_ keywords are compared.  Import this module only after
``pytest.importorskip("jwst")``.
"""

from __future__ import annotations

import os

import numpy as np
from stdatamodels.jwst import datamodels as dm

from jwcore import dq
from jwcore.datamodel import open_model
from jwcore.runner import RunContext

# A reference file's own DQ bit layout (decoded with its DQ_DEF table by both sides).
FILE_BITS = {
    "DO_NOT_USE": 1, "DEAD": 2, "HOT": 4, "NO_SAT_CHECK": 8, "REFERENCE_PIXEL": 16,
    "UNRELIABLE_BIAS": 32, "NO_LIN_CORR": 64, "UNRELIABLE_DARK": 128,
    "OTHER_BAD_PIXEL": 1 << 31,  # VALUE needs the uint32 (TZERO) column encoding
}

NIRCAM = dict(instrument="NIRCAM", detector="NRCA1", exp_type="NRC_IMAGE", readpatt="RAPID",
              fastaxis=-1, slowaxis=2, filter="F200W", pupil="CLEAR", frame_time=10.73677)
MIRI = dict(instrument="MIRI", detector="MIRIMAGE", exp_type="MIR_IMAGE", readpatt="FASTR1",
            fastaxis=1, slowaxis=2, filter="F770W", pupil=None, frame_time=2.77504)


def dq_def_table():
    rows = [(i, v, n, f"{n} flag") for i, (n, v) in enumerate(FILE_BITS.items())]
    return np.array(rows, dtype=[("BIT", "<i4"), ("VALUE", "<u4"), ("NAME", "S40"), ("DESCRIPTION", "S80")])


def file_dq(rng, shape, names, p=0.05):
    """A random DQ array in standard flags using the given flag names.

    stdatamodels writes it in the :data:`FILE_BITS` layout (with the DQ_DEF table) when the
    reference is saved; both readers decode it back."""
    out = np.zeros(shape, np.uint32)
    for n in names:
        out[rng.random(shape) < p] |= np.uint32(dq.PIXEL[n])
    return out


def _common_meta(m, inst, *, subarray, xstart, ystart, shape):
    m.meta.instrument.name = inst["instrument"]
    m.meta.instrument.detector = inst["detector"]
    m.meta.subarray.name = subarray
    m.meta.subarray.xstart = xstart
    m.meta.subarray.ystart = ystart
    m.meta.subarray.xsize = shape[-1]
    m.meta.subarray.ysize = shape[-2]
    m.meta.subarray.fastaxis = inst["fastaxis"]
    m.meta.subarray.slowaxis = inst["slowaxis"]


def science(path, *, inst=NIRCAM, kind="uncal", nints=1, ngroups=4, shape=(32, 32), xstart=1, ystart=1,
            subarray="SUB64P", nframes=1, groupgap=0, frame_divisor=None, noutputs=1, data=None,
            pixeldq=None, groupdq=None, readpatt=None, start_time=60000.5, extra=None, seed=0,
            zeroframe=None):
    """Write a science exposure with stdatamodels: ``kind`` "uncal" (Level1bModel, uint16)
    or "ramp" (RampModel, float32).  Default data: a bias + ramp with noise."""
    rng = np.random.default_rng(seed)
    full = (nints, ngroups) + tuple(shape)
    if data is None:
        rate = rng.uniform(5, 200, shape)
        g = np.arange(1, ngroups + 1)[None, :, None, None]
        data = 1000 + rate[None, None] * g * nframes + rng.normal(0, 5, full)
        if kind == "uncal":
            data = np.clip(np.round(data), 0, 65535)
    if kind == "uncal":
        m = dm.Level1bModel(data=np.asarray(data).astype(np.uint16))
    else:
        m = dm.RampModel(data=np.asarray(data, np.float32))
        m.pixeldq = np.zeros(shape, np.uint32) if pixeldq is None else pixeldq
        m.groupdq = np.zeros(full, np.uint8) if groupdq is None else groupdq
        m.err = np.zeros(full, np.float32)
    _common_meta(m, inst, subarray=subarray, xstart=xstart, ystart=ystart, shape=shape)
    m.meta.instrument.filter = inst["filter"]
    if inst["pupil"]:
        m.meta.instrument.pupil = inst["pupil"]
    e = m.meta.exposure
    e.type = inst["exp_type"]
    e.readpatt = readpatt or inst["readpatt"]
    e.nints = nints
    e.ngroups = ngroups
    e.nframes = nframes
    e.groupgap = groupgap
    e.noutputs = noutputs
    if frame_divisor is not None:
        e.frame_divisor = frame_divisor
    e.frame_time = inst["frame_time"]
    e.group_time = inst["frame_time"] * (nframes + groupgap)
    e.integration_time = e.group_time * ngroups
    e.start_time = start_time
    e.end_time = start_time + 0.01
    e.mid_time = start_time + 0.005
    e.zero_frame = zeroframe is not None
    if zeroframe is not None:
        m.zeroframe = np.asarray(zeroframe, np.uint16 if kind == "uncal" else np.float32)
    e.drop_frames1 = 0
    m.meta.observation.date = "2024-01-01"
    m.meta.observation.time = "12:00:00"
    m.meta.filename = os.path.basename(str(path))
    for key, value in (extra or {}).items():
        obj = m.meta
        *parts, leaf = key.split(".")
        for p in parts:
            obj = getattr(obj, p)
        setattr(obj, leaf, value)
    m.save(str(path))
    m.close()
    return path


def reference(path, cls, *, inst=NIRCAM, xstart=1, ystart=1, shape=None, subarray="GENERIC", dq_def=True,
              meta=None, **arrays):
    """Write a reference file (stdatamodels model class name ``cls``) with ``arrays``."""
    m = getattr(dm, cls)(**arrays)
    primary = m.get_primary_array_name()
    shp = np.shape(getattr(m, primary)) if shape is None else shape
    m.meta.instrument.name = inst["instrument"]
    m.meta.instrument.detector = inst["detector"]
    m.meta.reftype = {"DarkMIRIModel": "DARK"}.get(cls, cls.replace("Model", "").upper())
    m.meta.useafter = "2020-01-01T00:00:00"
    m.meta.pedigree = "DUMMY"
    m.meta.author = "jwcal tests"
    m.meta.description = "synthetic reference for parity tests"
    m.meta.telescope = "JWST"
    try:
        m.meta.subarray.name = subarray
        m.meta.subarray.xstart = xstart
        m.meta.subarray.ystart = ystart
        m.meta.subarray.xsize = shp[-1]
        m.meta.subarray.ysize = shp[-2]
    except AttributeError:  # e.g. IPC references have no subarray keywords
        pass
    if dq_def and "dq_def" in m._schema["properties"]:
        m.dq_def = dq_def_table()
    for key, value in (meta or {}).items():
        obj = m.meta
        *parts, leaf = key.split(".")
        for p in parts:
            obj = getattr(obj, p)
        setattr(obj, leaf, value)
    m.save(str(path))
    m.close()
    return str(path)


def run_jwst(step_cls, path, **params):
    """jwst's step on the file (standalone, so ``skip`` defaults are ignored as in jwst)."""
    return step_cls.call(str(path), **params)


def run_jwcal(pm, name, path, **params):
    """jwcal's registered step ``name`` on the file (no output written)."""
    model = open_model(path)
    cls = pm.registry.step(name)
    return cls(**params).run(model, RunContext(pm=pm)).model


def max_rel(a, b, floor: float = 0.0) -> float:
    """Largest |a - b| / max(|b|, floor, 1e-30) over finite elements (NaNs and infinities must
    coincide).  ``floor`` keeps values that are zero up to rounding (e.g. -1e-13 vs 0) from
    counting as 100 % differences; pass a scale of the array (see :func:`typical`)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
    np.testing.assert_array_equal(a[np.isinf(b)], b[np.isinf(b)])
    ok = np.isfinite(b)
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.maximum(np.abs(b[ok]), floor), 1e-30)))


def typical(b) -> float:
    """Median of |b| over finite non-zero elements (0 if none): a scale for :func:`max_rel`."""
    b = np.abs(np.asarray(b, np.float64))
    b = b[np.isfinite(b) & (b > 0)]
    return float(np.median(b)) if b.size else 0.0


def assert_ramp_parity(mine, theirs, rtol=1e-6, arrays=("data", "err", "groupdq", "pixeldq")):
    """SCI/ERR within ``rtol`` (relative, elementwise), GROUPDQ/PIXELDQ identical.
    Returns the largest relative difference of the float arrays."""
    worst = 0.0
    for name in arrays:
        a = np.asarray(getattr(mine, name))
        b = np.asarray(getattr(theirs, name))
        if name.endswith("dq"):
            assert a.shape == b.shape, name
            np.testing.assert_array_equal(a.astype(np.uint64), b.astype(np.uint64), err_msg=name)
        else:
            diff = max_rel(a, b)
            assert diff <= rtol, f"{name}: max relative difference {diff:g} > {rtol:g}"
            worst = max(worst, diff)
    return worst


def status(model, key):
    return getattr(model.meta.cal_step, key)


def ref_name(model, reftype):
    value = getattr(getattr(model.meta.ref_file, reftype), "name", None)
    if value and value != "N/A" and os.path.exists(value):
        return os.path.realpath(value)
    return value


def assert_keywords(mine, theirs, cal_step, reftypes=()):
    """S_<STEP> equal and R_<REFTYPE> naming the same file."""
    assert status(mine, cal_step) == status(theirs, cal_step)
    for r in reftypes:
        assert ref_name(mine, r) == ref_name(theirs, r), r
