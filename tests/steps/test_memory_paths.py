"""The low-memory / fast paths of the ramp steps give the same results as the general ones.

* map_dq_def: an identity DQ_DEF table (one pass) equals the bit-by-bit definition;
* apply_ipc: row blocks (small blocks forced) equal a whole-plane convolution;
* detect_jumps(in_place=True) equals the copying call and flags the input itself;
* apply_dark with planes read on demand (LazyArray, cropped to a subarray, 4-D) equals the
  in-memory dark, and holds only a few planes at a time;
* prepare_coefficients uses the coefficients as they are when nothing needs replacing.
All comparisons are exact (bit-identical arrays, identical DQ).
"""

import tracemalloc

import numpy as np
import pytest

from jwcore import dq
from jwcore.datamodel import DarkModel, open_model
from jwcore.steps.dark_current import apply_dark
from jwcore.steps.dq_init import map_dq_def
from jwcore.steps.ipc import apply_ipc
from jwcore.steps.ipc import ipc as ipc_mod
from jwcore.steps.jump import detect_jumps
from jwcore.steps.linearity import prepare_coefficients


def _map_by_definition(ref, names, values):
    """A file-DQ -> standard mapping written out bit by bit (the definition)."""
    out = np.zeros(ref.shape, np.uint32)
    for name, value in zip(names, values):
        std = dq.PIXEL.get(name)
        if std is None:
            continue
        out |= np.where((ref & np.uint32(value)) != 0, np.uint32(std), np.uint32(0))
    return out


@pytest.mark.parametrize("table", ["identity", "shuffled", "multi_bit"])
def test_map_dq_def_fast_identity_path(table):
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 2**32, (40, 50), dtype=np.uint64).astype(np.uint32)
    names = ["DO_NOT_USE", "SATURATED", "DEAD", "HOT", "NO_GAIN_VALUE", "NOT_A_FLAG", "REFERENCE_PIXEL"]
    values = [dq.PIXEL.get(n, 1 << 12) for n in names]
    if table == "shuffled":
        values = values[1:] + values[:1]
    elif table == "multi_bit":
        values[2] = values[2] | 1 << 20
    got = map_dq_def(ref, names, values)
    assert got.dtype == np.uint32
    np.testing.assert_array_equal(got, _map_by_definition(ref, names, values))


def _convolve_whole(plane, kernel, nref):
    """Whole-plane reference convolution (kernel order, centre term last, float32 sums)."""
    bottom, top, left, right = nref
    sci = plane[bottom:plane.shape[0] - top, left:plane.shape[1] - right]
    ny, nx = sci.shape
    kny, knx = kernel.shape[:2]
    cj, ci = kny // 2, knx // 2
    padded = np.zeros((ny + kny - 1, nx + knx - 1), plane.dtype)
    padded[cj:cj + ny, ci:ci + nx] = sci
    out = np.zeros_like(sci)
    order = [(j, i) for j in range(kny) for i in range(knx) if (j, i) != (cj, ci)] + [(cj, ci)]
    for j, i in order:
        oj, oi = (cj, ci) if (j, i) == (cj, ci) else (kny - 1 - j, knx - 1 - i)
        k = kernel[j, i, bottom:plane.shape[0] - top, left:plane.shape[1] - right] if kernel.ndim == 4 else kernel[j, i]
        out += k * padded[oj:oj + ny, oi:oi + nx]
    res = plane.copy()
    res[bottom:plane.shape[0] - top, left:plane.shape[1] - right] = out
    return res


@pytest.mark.parametrize("kshape, per_pixel, nref", [((3, 3), False, (4, 4, 4, 4)), ((4, 4), False, (0, 2, 1, 0)),
                                                      ((5, 5), True, (1, 0, 0, 3))])
def test_ipc_row_blocks_equal_whole_plane(monkeypatch, kshape, per_pixel, nref):
    rng = np.random.default_rng(5)
    data = rng.normal(100, 20, (2, 3, 37, 23)).astype(np.float32)
    kernel = rng.normal(-0.01, 0.005, kshape + ((37, 23) if per_pixel else ())).astype(np.float32)
    kernel[kshape[0] // 2, kshape[1] // 2] = 1.04
    expected = np.stack([np.stack([_convolve_whole(p, kernel, nref) for p in ig]) for ig in data])
    for block in (1, 23 * 5, 23 * 7 + 3, 1 << 16):   # 1 row (raised to the kernel height) .. one block
        monkeypatch.setattr(ipc_mod, "_BLOCK_ELEMENTS", block)
        out = data.copy()
        apply_ipc(out, kernel, nref)
        np.testing.assert_array_equal(out, expected)


def test_jump_in_place_matches_copy():
    rng = np.random.default_rng(11)
    nints, ngroups, ny, nx = 2, 6, 30, 40
    ramp = np.cumsum(rng.normal(50, 8, (nints, ngroups, ny, nx)), axis=1).astype(np.float32)
    ramp[0, 3:, 10, 10] += 800
    ramp[1, 2:, 5:7, 20] += 1500
    gdq = np.zeros(ramp.shape, np.uint8)
    gdq[0, 4:, 3, 3] = dq.SATURATED
    pdq = np.zeros((ny, nx), np.uint32)
    gain = np.full((ny, nx), 2.0, np.float32)
    gain[0, 0] = 0
    rn = np.full((ny, nx), 5.0, np.float32)
    kw = dict(frame_time=10.0, group_time=10.0, nframes=1, return_info=True)
    copy = detect_jumps(ramp, gdq, pdq, rn, gain, **kw)
    assert not gdq[0, 3, 10, 10] & dq.JUMP_DET          # the copying call leaves the input alone
    inplace = detect_jumps(ramp, gdq, pdq, rn, gain, in_place=True, **kw)
    assert inplace.groupdq is gdq and inplace.pixeldq is pdq
    np.testing.assert_array_equal(gdq, copy.groupdq)
    np.testing.assert_array_equal(pdq, copy.pixeldq)
    assert gdq[0, 3, 10, 10] & dq.JUMP_DET and pdq[0, 0] & dq.NO_GAIN_VALUE
    assert inplace.n_primary == copy.n_primary > 0


@pytest.mark.parametrize("four_d", [False, True])
def test_dark_from_lazy_planes_matches_in_memory(tmp_path, four_d):
    rng = np.random.default_rng(2)
    # 4-D (MIRI-like): (dark integrations, frames, ny, nx)
    dark = rng.normal(3, 1, (2, 5, 24, 30) if four_d else (12, 24, 30)).astype(np.float32)
    dark[..., 3, 4] = np.nan
    path = DarkModel(data=dark).save(tmp_path / "dark.fits")
    ref = open_model(path, DarkModel)
    lazy = ref.lazy("data")[..., 2:20, 5:25]                # a subarray cut, still lazy
    memory = dark[..., 2:20, 5:25]
    nints = 2
    ngroups = 2 if four_d else 5
    data = rng.normal(1000, 10, (nints, ngroups, 18, 20)).astype(np.float32)
    kw = dict(nframes=2, groupgap=0, dark_nframes=1, dark_groupgap=0)
    a, b = data.copy(), data.copy()
    pa, pb = np.zeros((18, 20), np.uint32), np.zeros((18, 20), np.uint32)
    assert apply_dark(a, pa, memory, np.uint32(0), **kw)
    assert apply_dark(b, pb, lazy, np.uint32(0), **kw)
    np.testing.assert_array_equal(a, b)
    ref.close()


def test_lazy_dark_holds_few_planes(tmp_path):
    rng = np.random.default_rng(4)
    dark = rng.normal(3, 1, (40, 128, 128)).astype(np.float32)     # 2.6 MB
    path = DarkModel(data=dark).save(tmp_path / "dark.fits")
    ref = open_model(path, DarkModel)
    data = np.zeros((1, 40, 128, 128), np.float32)
    tracemalloc.start()
    try:
        apply_dark(data, np.zeros((128, 128), np.uint32), ref.lazy("data"), np.uint32(0),
                   nframes=1, groupgap=0, dark_nframes=1, dark_groupgap=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < dark.nbytes / 4, (peak, dark.nbytes)          # a few planes, never the dark
    np.testing.assert_array_equal(data[0], -np.nan_to_num(dark))
    ref.close()


def test_linearity_coefficients_not_copied_when_all_usable():
    rng = np.random.default_rng(8)
    coeffs = np.stack([rng.normal(0, 1, (6, 7)), np.ones((6, 7)), rng.normal(0, 1e-6, (6, 7))]).astype(np.float32)
    fixed, pdq = prepare_coefficients(coeffs, np.zeros((6, 7), np.uint32), np.zeros((6, 7), np.uint32))
    assert np.shares_memory(fixed, coeffs) and not pdq.any()
    coeffs[1, 2, 3] = 0
    coeffs[2, 0, 0] = np.nan
    before = coeffs.copy()
    fixed, pdq = prepare_coefficients(coeffs, np.zeros((6, 7), np.uint32), np.zeros((6, 7), np.uint32))
    assert not np.shares_memory(fixed, coeffs)
    np.testing.assert_array_equal(coeffs, before)                # input untouched
    np.testing.assert_array_equal(fixed[:, 2, 3], [0, 1, 0])
    np.testing.assert_array_equal(fixed[:, 0, 0], [0, 1, 0])
    assert pdq[2, 3] & dq.NO_LIN_CORR and pdq[0, 0] & dq.NO_LIN_CORR and pdq.sum() == 2 * dq.NO_LIN_CORR
