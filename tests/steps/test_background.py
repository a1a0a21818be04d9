"""bkg_subtract (non-WFSS background subtraction): parity with jwst 3.0's ``background_sub``.

Background exposures are written with stdatamodels and read by both.  Tolerance: target SCI
bit-identical float32, DQ identical, target ERR unchanged (as jwst); the combined background
(SCI, ERR float32, DQ) identical to jwst's ``average_background`` result.
"""

import warnings

import numpy as np
import pytest

from jwcore import dq
from jwcore.asn import from_list
from jwcore.datamodel import CubeModel, ImageModel, open_model
from jwcore.runner import RunContext
from jwcore.steps.background import Background, Window, average_background

SHAPE = (20, 24)


def test_clipped_mean_rejects_an_outlier():
    w = Window(0, 2, 0, 2)
    bkgs = [Background(np.full((2, 2), v, np.float32), np.ones((2, 2), np.float32),
                       np.full((2, 2), i, np.uint32), w) for i, v in enumerate([1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 50.0])]
    data, err, q = average_background(w, (2, 2), bkgs, sigma=2.0)
    assert data[0, 0] == pytest.approx(1.0, abs=1e-6)                     # 50 is clipped
    assert err[0, 0] == pytest.approx(np.sqrt(6.0) / 6.0, rel=1e-6)        # uncertainty of a mean of 6
    assert q[0, 0] == 7                                                   # OR of 0..6


def _write(path, cls, data, err, bdq, sub, instrument="NIRCAM"):
    m = cls(data=data, err=err, dq=bdq)
    m.meta.instrument.name = instrument
    m.meta.instrument.detector = "NRCA1"
    m.meta.exposure.type = "NRC_IMAGE"
    m.meta.subarray.xstart, m.meta.subarray.ystart = sub
    m.meta.subarray.xsize, m.meta.subarray.ysize = data.shape[-1], data.shape[-2]
    m.meta.observation.date, m.meta.observation.time = "2023-01-01", "00:00:00"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.save(path)
    return str(path)


def _inputs(tmp_path, cube, rng):
    from stdatamodels.jwst import datamodels

    cls = datamodels.CubeModel if cube else datamodels.ImageModel
    nint = (3,) if cube else ()
    paths = []
    corners = [(101, 201), (101, 201), (101, 201), (105, 198), (1500, 1500)]   # last: no overlap
    for i, sub in enumerate(corners):
        shape = ((2 + i % 2,) if cube else ()) + SHAPE
        data = rng.normal(5.0 + 0.1 * i, 0.2, shape).astype(np.float32)
        data[..., 4, 5] += 80.0 * (i == 1)                                   # a source in one background
        data[..., 7, 7] = np.nan if i == 2 else data[..., 7, 7]
        err = rng.uniform(0.05, 0.2, shape).astype(np.float32)
        bdq = (rng.random(shape) < 0.03).astype(np.uint32) * np.uint32(1 << (2 + i))
        paths.append(_write(tmp_path / f"bkg{i}_rate.fits", cls, data, err, bdq, sub))
    tshape = nint + SHAPE
    target = dict(data=rng.normal(20.0, 1.0, tshape).astype(np.float32),
                  err=rng.uniform(0.1, 0.3, tshape).astype(np.float32),
                  dq=(rng.random(tshape) < 0.02).astype(np.uint32) * np.uint32(dq.HOT))
    return paths, target


def _target_meta(m, std):
    vals = dict(instrument=dict(name="NIRCAM", detector="NRCA1"), exposure=dict(type="NRC_IMAGE"),
                observation=dict(date="2023-01-01", time="00:00:00"),
                subarray=dict(xstart=101, ystart=201, xsize=SHAPE[1], ysize=SHAPE[0], name="SUB"))
    for sec, d in vals.items():
        for k, v in d.items():
            if std:
                setattr(getattr(m.meta, sec), k, v)
            else:
                m.meta.set(f"{sec}.{k}", v)


@pytest.mark.parity
@pytest.mark.parametrize("cube", [False, True])
@pytest.mark.parametrize("maxiters", [None, 1])
def test_parity_with_jwst(cube, maxiters, tmp_path, jwcal_pm):
    pytest.importorskip("jwst")
    from jwst.background.background_sub import background_sub
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(3)
    paths, target = _inputs(tmp_path, cube, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        std = (datamodels.CubeModel if cube else datamodels.ImageModel)(**{k: v.copy() for k, v in target.items()})
        _target_meta(std, True)
        their_bkg, theirs = background_sub(std, paths, 3.0, maxiters)

    ours_in = (CubeModel if cube else ImageModel)(**{k: v.copy() for k, v in target.items()})
    _target_meta(ours_in, False)
    ours_in.meta.filename = "target_rate.fits"
    ctx = RunContext(pm=jwcal_pm, output_dir=tmp_path)
    step = jwcal_pm.registry.step("bkg_subtract")(bkg_list=paths, maxiters=maxiters, save_combined_background=True)
    ours = step.run(ours_in, ctx).model
    assert ours.meta.cal_step.bkg_subtract == "COMPLETE"
    # tolerance: bit-identical SCI, identical DQ, ERR untouched
    np.testing.assert_array_equal(ours.data, theirs.data)
    np.testing.assert_array_equal(ours.dq, theirs.dq)
    np.testing.assert_array_equal(ours.err, target["err"])
    combined = open_model(tmp_path / "target_combinedbackground.fits")
    np.testing.assert_array_equal(combined.data, their_bkg.data)
    np.testing.assert_array_equal(combined.err, their_bkg.err)
    np.testing.assert_array_equal(combined.dq, their_bkg.dq)
    assert np.nanmedian(np.abs(combined.data - 5.2)) < 0.5    # a mean of the ~5.0-5.4 backgrounds
    combined.close()


def test_association_members_and_skip(tmp_path, jwcal_pm):
    rng = np.random.default_rng(8)
    from stdatamodels.jwst import datamodels

    paths, target = _inputs(tmp_path, False, rng)
    m = ImageModel(**{k: v.copy() for k, v in target.items()})
    _target_meta(m, False)
    step = jwcal_pm.registry.step("bkg_subtract")()
    out = step.run(m, RunContext(pm=jwcal_pm)).model
    assert out.meta.cal_step.bkg_subtract == "SKIPPED" and (out.data == target["data"]).all()

    sci = _write(tmp_path / "sci_rate.fits", datamodels.ImageModel, target["data"], target["err"], target["dq"],
                 (101, 201))
    asn = from_list([sci], product_name="sci", rule="DMS_Level2b_Base")
    asn.products[0].members.extend(
        type(asn.products[0].members[0])(expname=p.split("/")[-1], exptype="background") for p in paths[:3])
    asn.path = tmp_path / "sci_asn.json"
    ctx = RunContext(pm=jwcal_pm)
    ctx.association, ctx.product = asn, asn.products[0]
    out = step.run(open_model(sci), ctx).model
    assert out.meta.cal_step.bkg_subtract == "COMPLETE"
    assert abs(float(np.nanmedian(out.data)) - 15.0) < 0.5          # 20 - ~5
