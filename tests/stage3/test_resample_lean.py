"""Resample's fast and lean paths give exactly the numbers of the straightforward ones.

* ``calc_pixmap`` (row blocks on two threads, numpy's BLAS capped at one thread, the input
  bounding box skipped for blocks that lie inside it) against stcal's ``calc_pixmap`` (one
  full-frame gwcs evaluation), with the exposure's own bounding box (every block inside) and
  with one that cuts the frame (NaN outside, blocks partly outside);
* :class:`Coadd` (the three variance planes drizzled one after another into reused planes,
  each folded into its accumulator in row chunks with float32-stored weights; chunked
  finalize) against stcal's ``Resample`` on the same inputs: exposures of two shapes, ivm and
  exptime weighting;
* image2's single-model mode: the input's arrays are shared read-only and never changed,
  also when NaN / DO_NOT_USE matching has to change some of them (those are copied), and
  the ``_i2d`` equals the one made from an explicitly matched copy;
* ``jwcore.parallel.blas_threads`` caps OpenBLAS and restores it.

Tolerance everywhere: 0 (byte-identical arrays, NaN bit patterns included).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from . import _kit

pytest.importorskip("drizzle")


def same_bytes(a, b, what=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (what, a.shape, b.shape, a.dtype, b.dtype)
    assert a.tobytes() == b.tobytes(), f"{what}: {np.count_nonzero(a != b)} elements differ"


@pytest.fixture(scope="module")
def exposures(tmp_path_factory):
    """Three 64x64 exposures and two 40x56 ones (another window size), opened."""
    from jwcore.datamodel import open_model

    folder = tmp_path_factory.mktemp("lean")
    big = _kit.make_exposures(folder / "a", n=3, seed=5)
    small = _kit.make_exposures(folder / "b", n=2, seed=6, shape=(40, 56), name="jw01234001001_01102")
    return [open_model(e.path) for e in big + small]


def grid_for(models, pixel_scale_ratio=1.0):
    from jwcore.steps.resample.resample import output_grid

    summaries = [{"s_region": m.meta.wcsinfo.s_region} for m in models]
    return output_grid(models[0], summaries, pixel_scale_ratio=pixel_scale_ratio)


@pytest.mark.parity
@pytest.mark.parametrize("cut", [False, True])
def test_pixmap_in_threaded_blocks_equals_one_full_frame_call(exposures, cut, monkeypatch):
    pytest.importorskip("stcal")
    from stcal.resample.utils import calc_pixmap as stcal_pixmap

    from jwcore.steps.resample.resample_wcs import calc_pixmap

    monkeypatch.setenv("JWCAL_THREADS", "2")
    wcs_from = copy.deepcopy(exposures[0].meta.wcs)
    wcs_to = copy.deepcopy(exposures[1].meta.wcs)
    shape = exposures[0].data.shape
    if cut:     # a box that cuts rows and columns: blocks partly outside, NaN there
        wcs_from.bounding_box = ((3.5, 50.2), (-0.5, 41.7))
    ours = calc_pixmap(wcs_from, wcs_to, shape, block_rows=5)
    theirs = stcal_pixmap(copy.deepcopy(wcs_from), copy.deepcopy(wcs_to), shape)
    same_bytes(ours, theirs, "pixmap")
    assert np.isnan(ours).any() == cut
    # the threaded block path is also the same as the single-threaded one in one block
    monkeypatch.setenv("JWCAL_THREADS", "1")
    same_bytes(calc_pixmap(wcs_from, wcs_to, shape, block_rows=shape[0]), ours, "one block")


def _stcal_dict(model, name):
    meta = model.meta
    return {"data": model.data, "dq": model.dq, "var_rnoise": model.var_rnoise, "var_flat": model.var_flat,
            "var_poisson": model.var_poisson, "err": model.err, "wcs": meta.wcs, "filename": name, "group_id": name,
            "exposure_time": meta.exposure.exposure_time, "measurement_time": meta.exposure.measurement_time,
            "start_time": meta.exposure.start_time, "end_time": meta.exposure.end_time,
            "duration": meta.exposure.duration, "pixelarea_steradians": meta.photometry.pixelarea_steradians,
            "level": None, "subtracted": False}


@pytest.mark.parity
@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt")     # the negative variance, on both sides
@pytest.mark.parametrize("weight_type", ["ivm", "exptime"])
def test_coadd_variances_equal_stcal_resample(exposures, weight_type):
    pytest.importorskip("stcal")
    from stcal.resample import Resample

    from jwcore.steps.resample.coadd import Coadd, InputImage, interpret_good_bits
    from jwcore.steps.resample.libview import match_nans_and_flags
    from jwcore.steps.resample.resample import GOOD_BITS

    models = [copy.deepcopy(m) for m in exposures]
    for m in models:
        match_nans_and_flags(m)
    # a negative and an infinite variance, and a zero read noise, must be left out alike
    models[0].var_flat[10, 10] = -1.0
    models[1].var_poisson[20, 30] = np.inf
    models[3].var_rnoise[5, 5] = 0.0
    grid = grid_for(models, pixel_scale_ratio=0.9)
    good = interpret_good_bits(GOOD_BITS)
    coadd = Coadd(grid.wcs, pixel_scale=grid.pixel_scale, pixel_scale_ratio=grid.pixel_scale_ratio,
                  n_inputs=len(models), weight_type=weight_type, good_bits=good, compute_err="from_var")
    ref = Resample({"wcs": copy.deepcopy(grid.wcs), "pixel_scale": grid.pixel_scale,
                    "pixel_scale_ratio": grid.pixel_scale_ratio}, n_input_models=len(models), fillval="NAN",
                   weight_type=weight_type, good_bits=good, enable_var=True, compute_err="from_var")
    for k, m in enumerate(models):
        coadd.add(InputImage.from_model(m, variances=True, group_id=f"g{k}"))
        ref.add_model(_stcal_dict(m, f"g{k}"))
    ours = coadd.finalize()
    ref.finalize()
    theirs = ref.output_model
    for name in ("data", "wht", "con", "var_rnoise", "var_flat", "var_poisson", "err"):
        same_bytes(ours[name], theirs[name], name)
    assert np.isfinite(ours["var_rnoise"]).sum() > 0.5 * ours["var_rnoise"].size


def _model_copy(model):
    from jwcore.datamodel import ImageModel

    out = ImageModel(**{n: np.array(getattr(model, n), copy=True)
                        for n in ("data", "dq", "err", "var_rnoise", "var_poisson", "var_flat")})
    out.copy_meta_from(model)
    return out


def test_image2_mode_shares_input_arrays_and_leaves_them_unchanged(exposures, tmp_path):
    from jwcore import dq as dqflags
    from jwcore.steps.resample.libview import match_nans_and_flags
    from jwcore.steps.resample.resample_step import ResampleStep, _OneModel

    model = _model_copy(exposures[0])
    match_nans_and_flags(model)
    model.dq[7, 9] |= np.uint32(dqflags.DO_NOT_USE)     # flagged, finite everywhere: SCI etc. need NaN
    model.var_flat[30, 31] = np.nan                      # NaN in one array only: DQ and the others change
    before = {n: np.array(getattr(model, n), copy=True)
              for n in ("data", "dq", "err", "var_rnoise", "var_poisson", "var_flat")}

    lib = _OneModel(model)
    with lib.open(0) as member:
        assert np.isnan(member.data[7, 9]) and np.isnan(member.data[30, 31])
        assert member.dq[30, 31] & dqflags.DO_NOT_USE
        for name in before:       # changed arrays are copies; the rest are read-only views of the input
            arr = getattr(member, name)
            assert not np.shares_memory(arr, getattr(model, name)) or not arr.flags.writeable, name

    result = ResampleStep(extra_product=True).run(model, _kit.run_context(tmp_path / "a"))
    assert result.model is model
    for name, arr in before.items():
        same_bytes(getattr(model, name), arr, f"input {name}")

    matched = _model_copy(model)
    match_nans_and_flags(matched)
    expected = ResampleStep(extra_product=True).run(matched, _kit.run_context(tmp_path / "b")).extras["i2d"]
    got = result.extras["i2d"]
    for name in ("data", "wht", "con", "err", "var_rnoise", "var_poisson", "var_flat"):
        same_bytes(getattr(got, name), getattr(expected, name), name)


def test_blas_threads_caps_and_restores():
    from jwcore.parallel import _openblas_controls, blas_threads

    controls = _openblas_controls()
    if not controls:
        pytest.skip("no OpenBLAS library loaded")
    before = [get() for get, _ in controls]
    with blas_threads(1):
        assert [get() for get, _ in controls] == [1] * len(controls)
        with blas_threads(1):
            assert [get() for get, _ in controls] == [1] * len(controls)
        assert [get() for get, _ in controls] == [1] * len(controls)
    assert [get() for get, _ in controls] == before
