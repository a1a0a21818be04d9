"""saturation: parity with jwst 3.0.0 ``flag_saturation`` (stcal 1.20 ``flag_saturated_pixels``).

Tolerance: GROUPDQ, PIXELDQ identical; ZEROFRAME bit-identical.
"""

import numpy as np
import pytest

from jwcore import dq
from jwcore.steps._ramp_util import frame_read_pattern
from jwcore.steps._subarray import extract
from jwcore.steps.saturation import dilate, flag_saturation


def test_dilate_box_clipped():
    m = np.zeros((6, 7), bool)
    m[0, 0] = m[3, 4] = True
    out = dilate(m, 1)
    expected = np.zeros_like(m)
    expected[0:2, 0:2] = True
    expected[2:5, 3:6] = True
    np.testing.assert_array_equal(out, expected)
    assert dilate(m, 2)[5, 6] and not dilate(m, 2)[5, 0]


def test_basic_rules():
    data = np.zeros((1, 4, 5, 5), np.float32) + 100
    data[0, 2:, 2, 2] = 60000  # saturates in group 3
    data[0, 1, 0, 4] = 0  # A/D floor in group 2 only
    data[0, :, 4, 0] = 65535  # NaN threshold: never flagged
    gdq = np.zeros(data.shape, np.uint8)
    pix = np.zeros((5, 5), np.uint32)
    thresh = np.full((5, 5), 50000, np.float32)
    thresh[4, 0] = np.nan
    flag_saturation(data, gdq, pix, thresh, np.zeros((5, 5), np.uint32), n_pix_grow_sat=1)
    sat = (gdq & dq.SATURATED) != 0
    assert not sat[0, :2].any()
    assert sat[0, 2:, 1:4, 1:4].all() and sat[0, 2:].sum() == 2 * 9
    assert gdq[0, 1, 0, 4] == dq.AD_FLOOR | dq.DO_NOT_USE and gdq[0, 2, 0, 4] == 0
    assert pix[4, 0] == dq.NO_SAT_CHECK and np.isnan(thresh[4, 0])


def _synthetic(rng, shape, nframes, full, xstart, ystart):
    nints, ngroups, ny, nx = shape
    fy, fx = full
    bias_full = rng.normal(10000, 60, full).astype(np.float32)
    thresh_full = rng.normal(52000, 1500, full).astype(np.float32)
    satdq_full = np.zeros(full, np.uint32)
    sl = (slice(ystart - 1, ystart - 1 + ny), slice(xstart - 1, xstart - 1 + nx))
    th = thresh_full[sl]
    th[rng.random((ny, nx)) < 0.03] = np.nan
    sd = satdq_full[sl]
    sd[rng.random((ny, nx)) < 0.03] = dq.NO_SAT_CHECK
    sd[rng.random((ny, nx)) < 0.05] |= dq.DO_NOT_USE
    bias = bias_full[sl]

    frames = (np.arange(ngroups)[:, None] * nframes + np.arange(1, nframes + 1)).mean(axis=1)
    rate = rng.lognormal(5.5, 1.6, (nints, 1, ny, nx)).astype(np.float32)  # DN / frame
    data = bias[None, None] + rate * frames[None, :, None, None].astype(np.float32)
    # charge spill in the last frame of group 2 for some pixels
    spill = rng.random((nints, ny, nx)) < 0.08
    data[:, 1][spill] += 30000
    data[:, 2:][np.broadcast_to(spill[:, None], data[:, 2:].shape)] += 30000
    data += rng.normal(0, 5, data.shape).astype(np.float32)
    data[rng.random(data.shape) < 0.01] = -3.0
    data[rng.random(data.shape) < 0.005] = 0.0
    np.minimum(data, 65535, out=data)
    # saturation on the edges/corners
    data[0, 3:, 0, 0] = 65535
    data[-1, 2:, ny - 1, nx // 2] = 65535
    data = data.astype(np.float32)

    gdq = np.zeros(shape, np.uint8)
    gdq[rng.random(shape) < 0.02] = dq.DO_NOT_USE
    gdq[rng.random(shape) < 0.01] |= dq.JUMP_DET
    pix = (rng.random((ny, nx)) < 0.05).astype(np.uint32) * dq.HOT
    zf = (bias[None] + rate[:, 0] * 0.5 + rng.normal(0, 5, (nints, ny, nx))).astype(np.float32)
    zf[rng.random(zf.shape) < 0.01] = -1.0
    zf[0, 5, 5] = 60000.0
    return data, gdq, pix, thresh_full, satdq_full, bias_full, zf


CASES = [
    # nframes, n_pix_grow_sat, use_readpatt, use_bias, subarray
    (1, 1, True, True, False),
    (4, 1, True, True, False),
    (4, 2, True, False, False),
    (4, 0, True, True, False),
    (2, 1, False, True, False),
    (5, 1, True, True, True),
]


@pytest.mark.parity
@pytest.mark.parametrize("nframes, ngrow, readpatt, use_bias, sub", CASES)
def test_parity_with_jwst(nframes, ngrow, readpatt, use_bias, sub):
    pytest.importorskip("jwst")
    from jwst.saturation.saturation import flag_saturation as jw_flag
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(100 + nframes * 10 + ngrow)
    shape = (2, 5, 32, 32)
    full = (2048, 2048) if sub else (32, 32)
    xstart, ystart = (2017, 33) if sub else (1, 1)
    data, gdq, pix, th_full, sd_full, b_full, zf = _synthetic(rng, shape, nframes, full, xstart, ystart)

    model = datamodels.RampModel(data=data.copy(), groupdq=gdq.copy(), pixeldq=pix.copy(), zeroframe=zf.copy())
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = "NRCA1"
    model.meta.exposure.ngroups = shape[1]
    model.meta.exposure.nframes = nframes
    model.meta.exposure.zero_frame = True
    for k, v in dict(xstart=xstart, ystart=ystart, xsize=32, ysize=32).items():
        setattr(model.meta.subarray, k, v)
    ref = datamodels.SaturationModel(data=th_full.copy(), dq=sd_full.copy())
    ref.meta.instrument.name = "NIRCAM"
    for k, v in dict(xstart=1, ystart=1, xsize=full[1], ysize=full[0]).items():
        setattr(ref.meta.subarray, k, v)
    bias_model = None
    if use_bias:
        bias_model = datamodels.SuperBiasModel(data=extract(b_full, xstart, ystart, 32, 32).copy())
    out = jw_flag(model, ref, ngrow, readpatt, bias_model=bias_model)

    g, p, z = gdq.copy(), pix.copy(), zf.copy()
    th = extract(th_full, xstart, ystart, 32, 32)
    th_before = th.copy()
    flag_saturation(
        data,
        g,
        p,
        th,
        extract(sd_full, xstart, ystart, 32, 32),
        n_pix_grow_sat=ngrow,
        read_pattern=frame_read_pattern(shape[1], nframes) if readpatt else None,
        bias=extract(b_full, xstart, ystart, 32, 32) if use_bias else None,
        zeroframe=z,
    )
    # tolerance: DQ identical, ZEROFRAME identical
    np.testing.assert_array_equal(g, out.groupdq)
    np.testing.assert_array_equal(p, out.pixeldq)
    np.testing.assert_array_equal(z, out.zeroframe)
    np.testing.assert_array_equal(th, th_before)  # reference not modified
    # the synthetic data do exercise the flags
    assert (g & dq.SATURATED).any() and (g & dq.AD_FLOOR).any()
    assert (p & dq.NO_SAT_CHECK).any()
    if readpatt and nframes > 1:
        new_dnu = (g & dq.DO_NOT_USE) & ~(gdq & dq.DO_NOT_USE) & ~(g & dq.AD_FLOOR)
        assert new_dnu.any()


def _spill_case():
    # nframes=4, bias 10000, threshold 50000; group 1 at 100 DN/frame, then a jump in
    # the last frame of group 2 that saturates group 3
    data = np.full((1, 4, 3, 3), 10250.0, np.float32)
    data[0, :, 1, 1] = [10250.0, 25000.0, 60000.0, 60000.0]
    gdq = np.zeros(data.shape, np.uint8)
    pix = np.zeros((3, 3), np.uint32)
    thresh = np.full((3, 3), 50000.0, np.float32)
    bias = np.full((3, 3), 10000.0, np.float32)
    return data, gdq, pix, thresh, np.zeros((3, 3), np.uint32), bias


def test_group2_charge_spill():
    data, gdq, pix, thresh, sdq, bias = _spill_case()
    flag_saturation(data, gdq, pix, thresh, sdq, n_pix_grow_sat=0, read_pattern=frame_read_pattern(4, 4), bias=bias)
    # group 2 (index 1) of the centre pixel: DO_NOT_USE but not SATURATED; groups 3+ SATURATED
    assert gdq[0, 1, 1, 1] == dq.DO_NOT_USE
    assert np.all(gdq[0, 2:, 1, 1] == dq.SATURATED)
    assert gdq[0, 0, 1, 1] == 0 and not gdq[0, :, 0, 0].any()
    # without read pattern the spill is not recognised
    data, gdq, pix, thresh, sdq, bias = _spill_case()
    flag_saturation(data, gdq, pix, thresh, sdq, n_pix_grow_sat=0, bias=bias)
    assert gdq[0, 1, 1, 1] == 0


@pytest.mark.parity
def test_group2_charge_spill_stcal():
    stcal_sat = pytest.importorskip("stcal.saturation.saturation")
    data, gdq, pix, thresh, sdq, bias = _spill_case()
    ref_g, ref_p, _ = stcal_sat.flag_saturated_pixels(
        data.copy(), gdq.copy(), pix.copy(), thresh.copy(), sdq.copy(), 65535.0, dq.PIXEL,
        n_pix_grow_sat=1, read_pattern=frame_read_pattern(4, 4), bias=bias.copy(),
    )
    flag_saturation(data, gdq, pix, thresh, sdq, n_pix_grow_sat=1, read_pattern=frame_read_pattern(4, 4), bias=bias)
    np.testing.assert_array_equal(gdq, ref_g)
    np.testing.assert_array_equal(pix, ref_p)
    assert gdq[0, 1, 1, 1] & dq.DO_NOT_USE


@pytest.mark.parity
def test_irs2_rows_match_jwst_mask():
    pytest.importorskip("jwst")
    from jwst.saturation import x_irs2

    from jwcore.steps._irs2 import irs2_normal_rows

    for n, r in [(16, 4), (32, 8), (12, 4)]:
        ref = x_irs2.make_mask(np.zeros((3200, 2048)), n=n, r=r)
        np.testing.assert_array_equal(irs2_normal_rows(3200, n, r), ref)
        np.testing.assert_array_equal(irs2_normal_rows(3200, n, r, fastaxis=-2), ref[::-1])
    assert irs2_normal_rows().sum() == 2048


@pytest.mark.parity
@pytest.mark.parametrize("detector, nframes, ngrow", [("NRS1", 5, 1), ("NRS2", 2, 2)])
def test_irs2_parity_with_jwst(detector, nframes, ngrow):
    pytest.importorskip("jwst")
    from jwst.saturation.saturation import irs2_flag_saturation
    from stdatamodels.jwst import datamodels

    from jwcore.steps._irs2 import irs2_normal_rows
    from jwcore.steps.saturation import flag_saturation_irs2

    rng = np.random.default_rng(11 if detector == "NRS1" else 12)
    shape = (1, 4, 3200, 2048)
    bias = rng.normal(15000, 50, shape[2:]).astype(np.float32)
    rate = rng.lognormal(6.0, 1.3, shape[2:]).astype(np.float32)
    data = bias + rate * (np.arange(4, dtype=np.float32)[:, None, None] * nframes + (nframes + 1) / 2)
    spill = rng.random(shape[2:]) < 0.01
    data[1:][:, spill] += 25000
    data[2:][:, spill] += 25000
    data[:, rng.random(shape[2:]) < 0.002] = 0.0
    data = np.minimum(data, 65535)[None].astype(np.float32)
    gdq = np.zeros(shape, np.uint8)
    pix = np.zeros(shape[2:], np.uint32)
    thresh = rng.normal(58000, 1000, (2048, 2048)).astype(np.float32)
    thresh[rng.random(thresh.shape) < 0.01] = np.nan
    sdq = ((rng.random(thresh.shape) < 0.01) * dq.NO_SAT_CHECK).astype(np.uint32)
    zf = (bias + rate)[None].astype(np.float32)
    zf[0, 1000:1010, 7] = 65000.0

    model = datamodels.RampModel(data=data.copy(), groupdq=gdq.copy(), pixeldq=pix.copy(), zeroframe=zf.copy())
    model.meta.instrument.name = "NIRSPEC"
    model.meta.instrument.detector = detector
    model.meta.exposure.type = "NRS_FIXEDSLIT"
    model.meta.exposure.readpatt = "NRSIRS2"
    model.meta.exposure.nrs_normal = 16
    model.meta.exposure.nrs_reference = 4
    model.meta.exposure.nframes = nframes
    model.meta.exposure.ngroups = shape[1]
    model.meta.exposure.zero_frame = True
    for k, v in dict(xstart=1, ystart=1, xsize=2048, ysize=2048).items():
        setattr(model.meta.subarray, k, v)
    ref = datamodels.SaturationModel(data=thresh.copy(), dq=sdq.copy())
    for k, v in dict(xstart=1, ystart=1, xsize=2048, ysize=2048).items():
        setattr(ref.meta.subarray, k, v)
    out = irs2_flag_saturation(model, ref, ngrow, True, bias_model=datamodels.SuperBiasModel(data=bias.copy()))

    rows = irs2_normal_rows(3200, 16, 4, fastaxis=2 if detector == "NRS1" else -2)
    flag_saturation_irs2(data, gdq, pix, thresh, sdq, rows, n_pix_grow_sat=ngrow,
                         read_pattern=frame_read_pattern(shape[1], nframes), bias=bias, zeroframe=zf)
    # tolerance: DQ identical, ZEROFRAME identical
    np.testing.assert_array_equal(gdq, out.groupdq)
    np.testing.assert_array_equal(pix, out.pixeldq)
    np.testing.assert_array_equal(zf, out.zeroframe)
    assert (gdq[0, 1] & dq.SATURATED).any() and (gdq & dq.AD_FLOOR).any()
    assert not gdq[:, :, ~rows].any()
