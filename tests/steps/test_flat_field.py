"""flat_field (imaging): parity with jwst 3.0's FlatFieldStep arithmetic (``do_correction``).

Tolerance: SCI, ERR, VAR_POISSON, VAR_RNOISE, VAR_FLAT bit-identical float32 (NaNs in the
same places); DQ identical.  The step test writes the FLAT with stdatamodels (FlatModel, full
frame) and lets jwcal read it and cut the science subarray out of it.
"""

import warnings

import numpy as np
import pytest

from jwcore import dq
from jwcore.datamodel import CubeModel, ImageModel
from jwcore.runner import RunContext
from jwcore.steps.flat_field import apply_flat, prepare_flat


def test_bad_flat_pixels_are_flagged_and_not_applied():
    flat = np.array([[2.0, np.nan], [0.0, 4.0]], np.float32)
    fdq = np.array([[0, 0], [0, dq.NO_FLAT_FIELD]], np.uint32)
    f, q = prepare_flat(flat, fdq)
    assert f.tolist() == [[2.0, 1.0], [1.0, 1.0]]
    bad = dq.DO_NOT_USE | dq.NO_FLAT_FIELD
    assert q.tolist() == [[0, bad], [bad, bad]]
    assert np.isnan(flat[0, 1]) and fdq[1, 1] == dq.NO_FLAT_FIELD        # inputs untouched

    data = np.full((2, 2), 8.0, np.float32)
    sdq = np.zeros((2, 2), np.uint32)
    vp = np.full((2, 2), 4.0, np.float32)
    vr = np.ones((2, 2), np.float32)
    res = apply_flat(data, sdq, flat, fdq, np.full((2, 2), 0.5, np.float32), var_poisson=vp, var_rnoise=vr)
    assert res.data[0, 0] == 4.0 and np.isnan(res.data[0, 1])           # DO_NOT_USE -> NaN
    assert res.var_poisson[0, 0] == 1.0 and res.var_rnoise[0, 0] == 0.25
    assert res.var_flat[0, 0] == pytest.approx(16.0 / 4.0 * 0.25)
    assert res.err[0, 0] == pytest.approx(np.sqrt(1.0 + 0.25 + 1.0))
    assert (res.dq[1] & dq.DO_NOT_USE).all()


def _science(model_cls, shape, rng, sub=(1, 1)):
    data = rng.normal(50.0, 10.0, shape).astype(np.float32)
    data[..., 3, 4] = np.nan
    sdq = (rng.random(shape) < 0.05).astype(np.uint32) * np.uint32(dq.HOT)
    sdq[..., 6, 6] |= np.uint32(dq.DO_NOT_USE)
    vp = rng.uniform(0.5, 2.0, shape).astype(np.float32)
    vr = rng.uniform(0.1, 0.3, shape).astype(np.float32)
    err = np.sqrt(vp + vr).astype(np.float32)
    meta = dict(instrument=dict(name="NIRCAM", detector="NRCA1", filter="F200W", pupil="CLEAR"),
                exposure=dict(type="NRC_IMAGE"), observation=dict(date="2023-01-01", time="00:00:00"),
                subarray=dict(xstart=sub[0], ystart=sub[1], xsize=shape[-1], ysize=shape[-2], name="SUB"))
    return dict(data=data, dq=sdq, err=err, var_poisson=vp, var_rnoise=vr), meta


def _flat(full, rng):
    flat = rng.uniform(0.8, 1.2, full).astype(np.float32)
    ferr = rng.uniform(0.001, 0.02, full).astype(np.float32)
    fdq = np.zeros(full, np.uint32)
    flat[rng.random(full) < 0.02] = np.nan
    flat[rng.random(full) < 0.02] = 0.0
    fdq[rng.random(full) < 0.02] |= np.uint32(dq.NO_FLAT_FIELD)
    fdq[rng.random(full) < 0.02] |= np.uint32(dq.UNRELIABLE_FLAT)
    return flat, fdq, ferr


def _stdatamodel(cls, arrays, meta):
    m = cls(**{k: v.copy() for k, v in arrays.items()})
    for sec, d in meta.items():
        for k, v in d.items():
            setattr(getattr(m.meta, sec), k, v)
    return m


def _assert_same(ours, theirs):
    # tolerance: bit-identical float32 (NaN positions equal), DQ identical
    for name in ("data", "err", "var_poisson", "var_rnoise", "var_flat"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name), err_msg=name)
    np.testing.assert_array_equal(ours.dq, theirs.dq)


@pytest.mark.parity
@pytest.mark.parametrize("kind", ["image", "cube"])
@pytest.mark.parametrize("inverse", [False, True])
def test_parity_with_jwst(kind, inverse, tmp_path, jwcal_pm):
    pytest.importorskip("jwst")
    from jwst.flatfield.flat_field import do_correction
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(11)
    shape = (24, 20) if kind == "image" else (3, 24, 20)
    sub = (101, 205)
    arrays, meta = _science(ImageModel, shape, rng, sub)
    full = (2048, 2048)
    flat, fdq, ferr = _flat(full, rng)
    window = (slice(sub[1] - 1, sub[1] - 1 + shape[-2]), slice(sub[0] - 1, sub[0] - 1 + shape[-1]))
    assert np.isnan(flat[window]).any() and (flat[window] == 0).any()

    fm = datamodels.FlatModel(data=flat.copy(), dq=fdq.copy(), err=ferr.copy())
    fm.meta.instrument.name, fm.meta.instrument.detector = "NIRCAM", "NRCA1"
    fm.meta.subarray.xstart, fm.meta.subarray.ystart, fm.meta.subarray.xsize, fm.meta.subarray.ysize = 1, 1, 2048, 2048
    fm.meta.reftype, fm.meta.author, fm.meta.description = "FLAT", "jwcal test", "test flat"
    fm.meta.pedigree, fm.meta.useafter = "DUMMY", "2015-01-01T00:00:00"
    flat_path = tmp_path / "flat.fits"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fm.save(flat_path)
        scls = datamodels.ImageModel if kind == "image" else datamodels.CubeModel
        theirs, _ = do_correction(_stdatamodel(scls, arrays, meta), flat=datamodels.FlatModel(flat_path),
                                  inverse=inverse)

    ours_in = (ImageModel if kind == "image" else CubeModel)(**{k: v.copy() for k, v in arrays.items()})
    for sec, d in meta.items():
        for k, v in d.items():
            ours_in.meta.set(f"{sec}.{k}", v)
    step = jwcal_pm.registry.step("flat_field")(override_flat=str(flat_path), inverse=inverse)
    ours = step.run(ours_in, RunContext(pm=jwcal_pm)).model
    assert ours.meta.cal_step.flat_field == "COMPLETE"
    assert ours.meta.ref_file.flat.name.endswith("flat.fits")
    _assert_same(ours, theirs)
    assert np.isnan(ours.data).any() and (ours.dq & dq.NO_FLAT_FIELD).any()


def test_flat_smaller_than_science_skips(tmp_path, jwcal_pm):
    from jwcore.datamodel import FlatModel

    f = FlatModel(data=np.ones((8, 8), np.float32))
    f.meta.instrument.name = "NIRCAM"
    for k, v in dict(xstart=1, ystart=1, xsize=8, ysize=8).items():
        f.meta.set(f"subarray.{k}", v)
    f.meta.reftype, f.meta.useafter = "FLAT", "2015-01-01T00:00:00"
    path = f.save(tmp_path / "small_flat.fits")
    m = ImageModel(data=np.ones((16, 16), np.float32))
    m.meta.instrument.name = "NIRCAM"
    m.meta.exposure.type = "NRC_IMAGE"
    out = jwcal_pm.registry.step("flat_field")(override_flat=str(path)).run(m, RunContext(pm=jwcal_pm)).model
    assert out.meta.cal_step.flat_field == "SKIPPED"
    assert (out.data == 1).all()
