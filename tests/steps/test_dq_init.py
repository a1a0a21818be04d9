"""dq_init: MASK DQ into PIXELDQ/GROUPDQ, subarray extraction, DQ_DEF mapping.

Parity with jwst 3.0.0 ``do_dqinit`` and stdatamodels ``dynamic_mask``: DQ identical.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from jwcore import dq
from jwcore.steps._subarray import extract
from jwcore.steps.dq_init import apply_dq_init, map_dq_def, unknown_dq_def_names


# ---------------------------------------------------------------- subarray helper
def test_extract_one_based_corner():
    ref = np.arange(10 * 12).reshape(10, 12)  # value = 12*row + col (0-based)
    sub = extract(ref, xstart=3, ystart=5, xsize=4, ysize=2)
    assert sub.shape == (2, 4)
    assert sub[0, 0] == 12 * 4 + 2  # 1-based (x=3, y=5) is 0-based (col 2, row 4)
    assert np.shares_memory(sub, ref)


def test_extract_keeps_leading_axes_and_ref_corner():
    ref = np.arange(3 * 6 * 8).reshape(3, 6, 8)
    sub = extract(ref, 5, 4, 2, 2, ref_xstart=3, ref_ystart=2)
    np.testing.assert_array_equal(sub, ref[:, 2:4, 2:4])


@pytest.mark.parametrize("args", [(0, 1, 2, 2), (1, 1, 13, 2), (12, 1, 2, 2), (1, 10, 2, 2)])
def test_extract_out_of_bounds(args):
    with pytest.raises(ValueError):
        extract(np.zeros((10, 12)), *args)


# ---------------------------------------------------------------- DQ_DEF mapping
DQ_DEF = [(0, 1, "DO_NOT_USE"), (1, 2, "DEAD"), (2, 4, "HOT"), (3, 8, "UNRELIABLE_ERROR"),
          (4, 16, "NO_SAT_CHECK"), (5, 32, "REFERENCE_PIXEL"), (6, 64, "BOGUS_NAME")]


def _dq_def_table():
    return np.array(
        [(b, v, n, "") for b, v, n in DQ_DEF],
        dtype=[("BIT", "<i4"), ("VALUE", "<u4"), ("NAME", "U40"), ("DESCRIPTION", "U80")],
    ).view(np.recarray)


def test_map_dq_def_values():
    raw = np.array([[0, 1, 2, 4], [8, 16, 32, 64 | 3]], dtype=np.uint8)
    names = [n for _, _, n in DQ_DEF]
    values = [v for _, v, _ in DQ_DEF]
    out = map_dq_def(raw, names, values)
    assert out.dtype == np.uint32
    expected = [[0, dq.DO_NOT_USE, dq.DEAD, dq.HOT], [0, dq.NO_SAT_CHECK, dq.REFERENCE_PIXEL, dq.DO_NOT_USE | dq.DEAD]]
    np.testing.assert_array_equal(out, expected)
    assert unknown_dq_def_names(names) == ["UNRELIABLE_ERROR", "BOGUS_NAME"]
    # the alias is honoured only on request
    assert map_dq_def(raw, names, values, aliases=True)[1, 0] == dq.RESERVED
    # round trip back to the file layout (unknown planes are lost)
    back = map_dq_def(out, names, values, inverse=True)
    np.testing.assert_array_equal(back, raw & ~np.uint8(8 | 64))


@pytest.mark.parity
def test_map_dq_def_parity_with_stdatamodels():
    pytest.importorskip("stdatamodels")
    from stdatamodels.dynamicdq import dynamic_mask
    from stdatamodels.jwst.datamodels.dqflags import pixel

    rng = np.random.default_rng(3)
    raw = rng.integers(0, 128, (32, 32)).astype(np.uint32)
    table = _dq_def_table()
    names = [n.decode() if isinstance(n, bytes) else n for n in table["NAME"]]
    ref = dynamic_mask(SimpleNamespace(dq=raw.copy(), dq_def=table), pixel)
    mine = map_dq_def(raw, names, table["VALUE"])
    np.testing.assert_array_equal(mine, ref)
    assert mine.dtype == ref.dtype
    # and the compressing direction
    ref_inv = dynamic_mask(SimpleNamespace(dq=ref.copy(), dq_def=table), pixel, inv=True)
    np.testing.assert_array_equal(map_dq_def(ref, names, table["VALUE"], inverse=True), ref_inv)


def test_empty_dq_def_is_identity():
    raw = np.arange(4, dtype=np.uint32)
    assert map_dq_def(raw, [], []) is raw


# ---------------------------------------------------------------- dq_init proper
def _ramp(datamodels, shape, xstart, ystart, exp_type="NRC_IMAGE"):
    m = datamodels.RampModel(shape)
    m.meta.instrument.name = "NIRCAM"
    m.meta.instrument.detector = "NRCA1"
    m.meta.exposure.type = exp_type
    m.meta.subarray.xstart = xstart
    m.meta.subarray.ystart = ystart
    m.meta.subarray.xsize = shape[-1]
    m.meta.subarray.ysize = shape[-2]
    return m


def _mask(datamodels, dqarr):
    m = datamodels.MaskModel(dq=dqarr)
    m.meta.instrument.name = "NIRCAM"
    m.meta.subarray.xstart = 1
    m.meta.subarray.ystart = 1
    m.meta.subarray.xsize = dqarr.shape[1]
    m.meta.subarray.ysize = dqarr.shape[0]
    return m


@pytest.mark.parity
@pytest.mark.parametrize("sub", [False, True])
@pytest.mark.parametrize("with_user", [False, True])
def test_parity_with_jwst(sub, with_user):
    pytest.importorskip("jwst")
    from jwst.dq_init.dq_initialization import do_dqinit
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(4)
    shape = (2, 5, 32, 32)
    full = (2048, 2048) if sub else (32, 32)
    xstart, ystart = (101, 1987) if sub else (1, 1)
    flags = np.array([0, dq.DO_NOT_USE, dq.DEAD | dq.DO_NOT_USE, dq.HOT, dq.NO_GAIN_VALUE, dq.REFERENCE_PIXEL], np.uint32)
    mask_full = flags[rng.integers(0, len(flags), full)]
    pix0 = flags[rng.integers(0, len(flags), shape[2:])] | dq.WARM
    gdq0 = rng.integers(0, 8, shape).astype(np.uint8) * dq.JUMP_DET
    user = rng.integers(0, 2, shape[2:]).astype(np.uint16) * dq.TELEGRAPH if with_user else None

    model = _ramp(datamodels, shape, xstart, ystart)
    model.pixeldq = pix0.copy()
    model.groupdq = gdq0.copy()
    do_dqinit(model, _mask(datamodels, mask_full.copy()), user_dq=None if user is None else user.copy())

    pix, gdq = pix0.copy(), gdq0.copy()
    mask = extract(mask_full, xstart, ystart, 32, 32)
    apply_dq_init(pix, gdq, mask, user_dq=user)
    # tolerance: DQ identical
    np.testing.assert_array_equal(pix, model.pixeldq)
    np.testing.assert_array_equal(gdq, model.groupdq)
    assert gdq.dtype == np.uint8 and pix.dtype == np.uint32
    assert (gdq & dq.DO_NOT_USE).any()


@pytest.mark.parity
def test_guider_parity():
    pytest.importorskip("jwst")
    from jwst.dq_init.dq_initialization import do_dqinit
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(5)
    model = datamodels.GuiderRawModel((2, 3, 16, 16))
    model.meta.instrument.name = "FGS"
    model.meta.exposure.type = "FGS_ID-IMAGE"
    for k, v in dict(xstart=1, ystart=1, xsize=16, ysize=16).items():
        setattr(model.meta.subarray, k, v)
    mask = (rng.integers(0, 2, (16, 16)) * (dq.DEAD | dq.DO_NOT_USE)).astype(np.uint32)
    mm = datamodels.MaskModel(dq=mask.copy())
    mm.meta.instrument.name = "FGS"
    for k, v in dict(xstart=1, ystart=1, xsize=16, ysize=16).items():
        setattr(mm.meta.subarray, k, v)
    do_dqinit(model, mm)
    mine = np.zeros((16, 16), np.uint32)
    apply_dq_init(mine, None, mask)
    np.testing.assert_array_equal(mine, model.dq)
    assert mine.any()


def test_user_dq_shape_mismatch():
    with pytest.raises(ValueError):
        apply_dq_init(np.zeros((4, 4), np.uint32), None, np.zeros((4, 4), np.uint32), user_dq=np.zeros((3, 4)))


def test_superstripe_uses_stripe_of_each_integration():
    mask = np.zeros((2, 3, 3), np.uint32)
    mask[0, 0, 0] = dq.DO_NOT_USE | dq.DEAD
    mask[1, 2, 2] = dq.DO_NOT_USE | dq.HOT
    pix = np.zeros((2, 3, 3), np.uint32)
    gdq = np.zeros((4, 2, 3, 3), np.uint8)
    apply_dq_init(pix, gdq, mask, num_superstripe=2)
    np.testing.assert_array_equal(pix, mask)
    for i in range(4):
        expected = np.zeros((3, 3), np.uint8)
        expected[(0, 0) if i % 2 == 0 else (2, 2)] = dq.DO_NOT_USE
        assert np.all(gdq[i] == expected)
