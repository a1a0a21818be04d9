"""ZEROFRAME in ramp fitting and saturation: parity with stcal 1.20 / jwst 3.0.0.

With a zero frame (the first frame read after the reset, kept for frame-averaging readouts)
and ``suppress_one_group=False``, stcal's OLS_C fits a ramp that has no clean group (e.g.
saturated from the first group on) from the zero frame over the frame time, unless the zero
frame is 0 there (unusable, set so by ``saturation``).  With one-group suppression (jwst's
default) the zero frame is not used.

* ``fit_ramps`` against stcal's ``ramp_fit_data`` (a ``RampData`` with ``zeroframe``):
  NIRCam BRIGHT2 and MEDIUM8 timings, 2 integrations x 4 groups x 16 x 16, with pixels
  saturated from group 1, zero-frame values of 0, all-DO_NOT_USE and all-PERSISTENCE ramps,
  a jump after a saturated first group, CHARGELOSS, bad gain, NaN data; also one-group
  data and suppression on; with the optional product.
* the ``ramp_fit`` step against jwst's RampFitStep on a RampModel file with ZEROFRAME.
* the ``saturation`` step against jwst's SaturationStep on an uncal with ZEROFRAME (the
  ZEROFRAME output compared too).
* whole ``detector1`` against Detector1Pipeline on a simulated NIRCam MEDIUM8 exposure
  with a ZEROFRAME (the simulator's ``zero_frame`` option, checked here too).

Tolerance: float outputs (SCI, ERR, VAR_POISSON, VAR_RNOISE of rate and rateints, and the
optional product) within 1e-5 relative with the same NaN pattern; DQ identical; the
saturated ZEROFRAME identical.  Measured: bit-identical everywhere.
"""

import numpy as np
import pytest

pytest.importorskip("stcal")

from jwcore import dq  # noqa: E402
from jwcore.steps.ramp_fitting import fit_ramps  # noqa: E402

pytestmark = pytest.mark.parity
RTOL = 1e-5
DNU, SAT, JUMP, PERS, CHG = dq.DO_NOT_USE, dq.SATURATED, dq.JUMP_DET, dq.PERSISTENCE, dq.CHARGELOSS
FLAGS = {
    "GOOD": 0, "DO_NOT_USE": DNU, "SATURATED": SAT, "JUMP_DET": JUMP, "DROPOUT": dq.DROPOUT,
    "PERSISTENCE": PERS, "AD_FLOOR": dq.AD_FLOOR, "CHARGELOSS": CHG, "NO_GAIN_VALUE": dq.NO_GAIN_VALUE,
    "UNRELIABLE_SLOPE": dq.UNRELIABLE_SLOPE,
}
FRAME_TIME = 10.73677  # NIRCam full frame (s)
READOUTS = {"BRIGHT2": (2, 0), "MEDIUM8": (8, 2)}  # NFRAMES, GROUPGAP


def make_exposure(seed, nints=2, ngroups=4, shape=(16, 16), nframes=2, groupgap=0, frame_time=FRAME_TIME):
    """Frame-averaged ramps (DN, bias removed) and their zero frame, with the saturation
    pattern of a bright source: a block saturated from the first group whose zero frame
    is usable in part (saturation step zeroes the rest)."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    gain = rng.uniform(1.6, 2.4, shape).astype(np.float32)
    rn = rng.uniform(7.0, 13.0, shape).astype(np.float32)
    rate = (10 ** rng.uniform(-1.0, 2.0, shape)).astype(np.float64)     # DN/s
    rate[4:10, 4:10] = rng.uniform(2000.0, 5000.0, (6, 6))               # bright source
    # frame k (1-based) is read k * frame_time after the reset; groups average nframes frames
    frames = np.array([[g * (nframes + groupgap) + j + 1 for j in range(nframes)] for g in range(ngroups)])
    tmean = frames.mean(axis=1) * frame_time
    noise = rng.normal(0.0, 1.0, (nints, ngroups) + shape) * rn / np.sqrt(2.0 * nframes)
    data = (rate[None, None] * tmean[None, :, None, None] + noise + 5.0).astype(np.float32)
    zero = (rate[None] * frame_time + rng.normal(0.0, 1.0, (nints,) + shape) * rn / np.sqrt(2.0) + 5.0)
    zero = zero.astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[:, :, 4:10, 4:10] = SAT                    # saturated from the first group ...
    zero[:, 4:6, 4:10] = 0.0                       # ... zero frame saturated too (zeroed)
    gdq[1, :, 9, 4:10] = 0                         # integration 1: not saturated there
    gdq[0, 2:, 10, :4] = SAT                       # partial saturation (no zero frame)
    gdq[:, :, 11, 0:3] = DNU                       # every group DO_NOT_USE (not saturated)
    gdq[:, :, 11, 3:6] = PERS                      # every group PERSISTENCE only
    gdq[:, 1:2, 11, 6:9] = JUMP                     # a jump right after a saturated first group
    gdq[:, 0, 11, 6:9] = SAT
    gdq[:, 2:, 11, 6:9] = SAT
    gdq[:, 1:, 12, 0:4] = CHG | DNU                # charge loss after a saturated first group
    gdq[:, 0, 12, 0:4] = SAT
    gdq[:, 1:, 12, 4:8] = CHG | DNU                # charge loss, first group clean
    gdq[:, :, 12, 8:12] = SAT                      # charge loss between saturated groups
    gdq[:, 1:2, 12, 8:12] = CHG | DNU
    gdq[:, :, 13, 0:4] = SAT | DNU
    gdq[:, 0, 13, 4:8] = JUMP                      # no clean group, only jumps / saturation
    gdq[:, 1:, 13, 4:8] = SAT
    data[0, -1, 14, 2] = np.nan
    zero[1, 14, 3] = np.nan                        # a NaN zero frame is "non-zero" (used)
    gdq[:, :, 14, 3] = SAT
    pixeldq = np.zeros(shape, np.uint32)
    pixeldq[7, 7] = DNU | dq.DEAD
    pixeldq[15, :3] = dq.HOT
    gain[8, 8] = 0.0
    dark = np.full(shape, 0.02, np.float32)
    meta = dict(frame_time=frame_time, group_time=frame_time * (nframes + groupgap), nframes=nframes,
                groupgap=groupgap)
    return data, gdq, pixeldq, rn, gain, zero, dark, meta


@pytest.fixture(scope="module")
def stcal_fit():
    from stcal.ramp_fitting.ramp_fit import ramp_fit_data
    from stcal.ramp_fitting.ramp_fit_class import RampData

    def run(data, gdq, pixeldq, readnoise, gain, zero, dark, *, frame_time, group_time, nframes, groupgap,
            suppress_one_group, save_opt=True):
        nints, ngroups, ny, nx = data.shape
        rd = RampData()
        orig = gdq.copy() if np.any(gdq & CHG) else None
        rd.set_arrays(data.copy(), gdq.copy(), pixeldq.copy(), dark.copy(), orig_gdq=orig,
                      zeroframe=None if zero is None else zero.copy())
        rd.set_meta("NIRCAM", frame_time, group_time, groupgap, nframes, 0)
        rd.algorithm = "OLS_C"
        rd.set_dqflags(FLAGS)
        rd.start_row, rd.num_rows = 0, ny
        rd.suppress_one_group_ramps = bool(suppress_one_group) and ngroups > 1  # as stcal's ramp_fit()
        return ramp_fit_data(rd, save_opt, readnoise.copy(), gain.copy(), "OLS_C", "optimal", "none")

    return run


def _same(name, ours, ref):
    ref = np.asarray(ref)
    assert ours.shape == ref.shape, f"{name}: shape {ours.shape} != {ref.shape}"
    if ref.dtype.kind in "ui":
        np.testing.assert_array_equal(ours, ref, err_msg=name)
    else:
        np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=0, equal_nan=True, err_msg=name)


def _compare(ours, ref, opt=True):
    image, integ, opt_ref = ref
    for f in ("slope", "dq", "var_poisson", "var_rnoise", "err"):
        _same("rate." + f, getattr(ours.image, f), image[f])
        _same("rateints." + f, getattr(ours.integ, f), integ[f])
    if opt:
        for f in ("slope", "sigslope", "var_poisson", "var_rnoise", "yint", "sigyint", "pedestal", "weights",
                  "crmag"):
            _same("opt." + f, getattr(ours.opt, f), opt_ref[f])


@pytest.mark.parametrize("readpatt", list(READOUTS))
def test_fit_ramps_uses_zero_frame_like_stcal(stcal_fit, readpatt):
    nframes, groupgap = READOUTS[readpatt]
    data, gdq, pdq, rn, gain, zero, dark, meta = make_exposure(3 + nframes, nframes=nframes, groupgap=groupgap)
    ours = fit_ramps(data, gdq, pdq, rn, gain, **meta, suppress_one_group=False, save_opt=True,
                     average_dark_current=dark, zeroframe=zero, block_rows=5)
    _compare(ours, stcal_fit(data, gdq, pdq, rn, gain, zero, dark, **meta, suppress_one_group=False))

    # The zero frame really rescued the saturated source where it is usable ...
    rescued = ours.integ.slope[:, 6:9, 4:10]
    good = (pdq[6:9, 4:10] == 0) & (gain[6:9, 4:10] > 0)
    assert np.isfinite(rescued[:, good]).all() and np.isnan(rescued[:, ~good]).all()
    assert np.all(ours.integ.dq[:, 6:9, 4:10] & SAT)
    assert not np.any(ours.integ.dq[:, 6:9, 4:10][:, good] & DNU)
    truth = zero[:, 6:9, 4:10] / meta["frame_time"]
    ok = np.isfinite(rescued)
    np.testing.assert_allclose(rescued[ok], truth[ok], rtol=1e-6)
    # ... and not where it is zero: no valid data there.
    assert np.all(ours.integ.dq[:, 4:6, 4:10] & DNU) and np.isnan(ours.integ.slope[:, 4:6, 4:10]).all()
    # Without the zero frame those pixels have no rate at all.
    without = fit_ramps(data, gdq, pdq, rn, gain, **meta, suppress_one_group=False, average_dark_current=dark)
    assert np.isnan(without.integ.slope[:, 6:9, 4:10]).all()


@pytest.mark.parametrize("suppress,ngroups", [(True, 4), (False, 1), (True, 1)])
def test_suppression_and_one_group_data(stcal_fit, suppress, ngroups):
    """Suppression on: the zero frame is ignored.  One-group data: suppression is off, the
    zero frame is used (median rate over the first-group time, no partial SATURATED)."""
    data, gdq, pdq, rn, gain, zero, dark, meta = make_exposure(7, ngroups=ngroups, nframes=8, groupgap=2)
    ours = fit_ramps(data, gdq, pdq, rn, gain, **meta, suppress_one_group=suppress, save_opt=True,
                     average_dark_current=dark, zeroframe=zero)
    _compare(ours, stcal_fit(data, gdq, pdq, rn, gain, zero, dark, **meta, suppress_one_group=suppress))
    plain = fit_ramps(data, gdq, pdq, rn, gain, **meta, suppress_one_group=suppress, average_dark_current=dark)
    used = ngroups == 1
    assert np.isfinite(ours.integ.slope[:, 6:9, 4:10]).any() == used
    assert np.array_equal(np.isnan(ours.image.slope), np.isnan(plain.image.slope)) != used


def test_all_first_groups_saturated_gives_nothing(stcal_fit):
    """As stcal: nothing is fitted when every first group is saturated, zero frame or not."""
    data, gdq, pdq, rn, gain, zero, dark, meta = make_exposure(9)
    gdq[:] = SAT
    ours = fit_ramps(data, gdq, pdq, rn, gain, **meta, suppress_one_group=False, zeroframe=zero)
    ref = stcal_fit(data, gdq, pdq, rn, gain, zero, dark, **meta, suppress_one_group=False, save_opt=False)
    assert ours.image is None and ref[0] is None


# --------------------------------------------------------------------------------------
# Steps against jwst


@pytest.fixture
def jwst_kit():
    pytest.importorskip("jwst")
    from . import stepkit

    return stepkit


def _ramp_file(kit, tmp_path, readpatt, nframes, groupgap):
    data, gdq, pdq, rn, gain, zero, _, meta = make_exposure(21, nframes=nframes, groupgap=groupgap)
    path = kit.science(tmp_path / "x_ramp.fits", kind="ramp", inst=kit.NIRCAM, nints=2, ngroups=4, shape=(16, 16),
                       xstart=1, ystart=1, nframes=nframes, groupgap=groupgap, readpatt=readpatt,
                       data=data, groupdq=gdq, pixeldq=pdq, zeroframe=zero)
    big_gain = np.full((32, 32), 2.0, np.float32)
    big_gain[:16, :16] = gain
    big_rn = np.full((32, 32), 10.0, np.float32)
    big_rn[:16, :16] = rn
    g = kit.reference(tmp_path / "gain.fits", "GainModel", data=big_gain)
    r = kit.reference(tmp_path / "rn.fits", "ReadnoiseModel", data=big_rn)
    return path, g, r


@pytest.mark.parametrize("readpatt,suppress", [("MEDIUM8", False), ("BRIGHT2", False), ("BRIGHT2", True)])
def test_ramp_fit_step_like_jwst(jwcal_pm, jwst_kit, tmp_path, readpatt, suppress):
    from jwst.ramp_fitting import RampFitStep

    nframes, groupgap = READOUTS[readpatt]
    path, gain, rn = _ramp_file(jwst_kit, tmp_path, readpatt, nframes, groupgap)
    params = dict(override_gain=gain, override_readnoise=rn, maximum_cores="1", suppress_one_group=suppress)
    # jwst gets the ramp with a native-order ZEROFRAME, as in its detector1 pipeline (where it
    # comes from the uint16 uncal): stcal byte-swaps SCI/DQ for its C code but not ZEROFRAME,
    # so a big-endian float32 ZEROFRAME (read from a saved _ramp.fits) would be misread.
    from stdatamodels.jwst import datamodels as dm

    ramp = dm.RampModel(str(path))
    ramp.zeroframe = ramp.zeroframe.astype(np.float32)
    theirs = RampFitStep.call(ramp, **params)
    result = jwcal_pm.registry.step("ramp_fit")(**params).run(
        jwst_kit.open_model(path), jwst_kit.RunContext(pm=jwcal_pm))
    mine = (result.model, result.extras["rateints"])
    worst = 0.0
    for m, t in zip(mine, theirs):
        for name in ("data", "err", "var_poisson", "var_rnoise"):
            d = jwst_kit.max_rel(getattr(m, name), getattr(t, name))
            assert d <= RTOL, f"{type(m).__name__}.{name}: {d:g}"
            worst = max(worst, d)
        np.testing.assert_array_equal(m.dq, t.dq)
    # the zero frame decides whether the saturated source has a rate
    assert np.isfinite(mine[1].data[:, 6:9, 4:10]).any() != suppress


def test_saturation_step_zeroes_zero_frame_like_jwst(jwcal_pm, jwst_kit, tmp_path):
    from jwst.saturation import SaturationStep

    rng = np.random.default_rng(4)
    kit = jwst_kit
    shape, nints, ngroups = (16, 16), 2, 4
    thresh = rng.uniform(30000, 40000, (32, 32)).astype(np.float32)
    thresh[3, 3] = np.nan
    sat = kit.reference(tmp_path / "sat.fits", "SaturationModel", data=thresh,
                        dq=kit.file_dq(rng, (32, 32), ["NO_SAT_CHECK"], 0.05))
    rate = rng.uniform(5, 300, shape)
    rate[5:9, 5:9] = 1500.0                             # saturates in the first group, not the zero frame
    g = np.arange(1, ngroups + 1)[None, :, None, None]
    data = np.clip(np.round(10000 + rate[None, None] * g * 2 * FRAME_TIME + rng.normal(0, 5, (nints, ngroups) + shape)),
                   0, 65535)
    zero = 10000 + rate[None] * FRAME_TIME + rng.normal(0, 5, (nints,) + shape)
    zero[:, 12, 12] = 60000                             # saturated zero frame (grown to neighbours)
    zero[1, 12, 2] = 0                                  # A/D floor
    zero[0, 3, 3] = 65535                               # NaN threshold: never saturated
    zero = np.clip(np.round(zero), 0, 65535)
    path = kit.science(tmp_path / "x_uncal.fits", nints=nints, ngroups=ngroups, nframes=2, shape=shape,
                       readpatt="BRIGHT2", data=data, zeroframe=zero)
    params = dict(override_saturation=sat, override_superbias="N/A", n_pix_grow_sat=1)
    theirs = kit.run_jwst(SaturationStep, path, **params)
    mine = kit.run_jwcal(jwcal_pm, "saturation", path, **params)
    kit.assert_ramp_parity(mine, theirs, rtol=0, arrays=("data", "groupdq", "pixeldq", "zeroframe"))
    assert (mine.zeroframe[:, 11:14, 11:14] == 0).all() and (mine.zeroframe[1, 12, 2] == 0)
    assert np.all(mine.groupdq[:, 0, 5:9, 5:9] & SAT) and (mine.zeroframe[:, 5:9, 5:9] > 0).all()
    assert mine.zeroframe[0, 3, 3] == 65535 and (mine.zeroframe != 0).mean() > 0.9


# --------------------------------------------------------------------------------------
# Whole detector1


def test_detector1_with_zero_frame_like_jwst(jwcal_pm, jwst_kit, tmp_path):
    """calwebb_detector1 on a simulated NIRCam MEDIUM8 exposure with a ZEROFRAME and a bright
    galaxy (pixels saturated in the first group, many with a usable zero frame), ramp_fit with
    ``suppress_one_group=False``: the ZEROFRAME goes through saturation, superbias, refpix
    and linearity and rescues those pixels, as in jwst.  Rate and rateints: SCI, ERR,
    VAR_POISSON, VAR_RNOISE within 1e-5 relative (relative to max(|jwst|, median |jwst|)),
    DQ identical."""
    from jwst.pipeline import Detector1Pipeline

    from jwcal_nircam import plugin as nircam_plugin
    from jwcore.runner import Pipeline
    from jwcore.sim.detector import get_detector
    from jwcore.sim.exposure import ExposureConfig, _window_centre, simulate_exposure
    from jwcore.sim.scene import Source, random_scene

    from .test_detector1_pipeline import _jwst_steps, _references

    jwcal_pm.register_plugin(nircam_plugin.plugin, name="nircam", distribution="jwcal-nircam")
    spec = get_detector("NIRCAM", "NRCB1", pm=jwcal_pm)
    ngroups, readpatt, subarray = 4, "MEDIUM8", "SUB64P"
    cfg = ExposureConfig(instrument="NIRCAM", detector="NRCB1", readpatt=readpatt, ngroups=ngroups, nints=2,
                         subarray=subarray, seed=5, detector_seed=3, zero_frame=True)
    ra0, dec0 = _window_centre(spec, cfg)
    scene = random_scene(ra0, dec0, 0.75 * 64 * max(spec.sci_scale), cfg.seed)
    # a compact bright galaxy: saturated from the first group over a patch, its zero frame
    # saturated only in the middle
    scene.sources.append(Source(999, "galaxy", ra0, dec0, 1.0, beta=1.0, sersic_n=1.0, r_eff=0.15,
                                axis_ratio=0.7, pa=30.0))
    raw = simulate_exposure(spec, cfg, tmp_path / "raw", scene=scene).uncal
    refs = _references(tmp_path / "refs", spec, subarray, readpatt, ngroups)

    jw_out = tmp_path / "jwst"
    jw_out.mkdir()
    steps = _jwst_steps(refs)
    steps["ramp_fit"]["suppress_one_group"] = False
    steps["ramp_fit"]["save_results"] = False
    Detector1Pipeline.call(str(raw), output_dir=str(jw_out), save_results=True, steps=steps)

    jc_out = tmp_path / "jwcal"
    spec1 = jwcal_pm.registry.pipeline("detector1", "NIRCAM")
    config = {"steps": {use.key: {f"override_{r}": refs.get(r, "N/A")
                                  for r in jwcal_pm.registry.step(use.step).reference_file_types}
                        for use in spec1.steps}}
    config["steps"]["ramp_fit"]["suppress_one_group"] = False
    ctx = jwst_kit.RunContext(pm=jwcal_pm, input_path=raw, output_dir=jc_out, protect=(raw,))
    Pipeline(spec1, jwcal_pm.registry, config).run(jwst_kit.open_model(raw), ctx)

    base = raw.name.replace("_uncal.fits", "")
    for suffix in ("rate", "rateints"):
        mine = jwst_kit.open_model(jc_out / f"{base}_{suffix}.fits")
        theirs = jwst_kit.open_model(jw_out / f"{base}_{suffix}.fits")
        for name in ("data", "err", "var_poisson", "var_rnoise"):
            b = getattr(theirs, name)
            d = jwst_kit.max_rel(getattr(mine, name), b, jwst_kit.typical(b))
            assert d <= RTOL, f"{suffix} {name}: max relative difference {d:g}"
        np.testing.assert_array_equal(mine.dq, theirs.dq)

    # Some ramps saturated from the first group got a rate (from the zero frame).
    ints = jwst_kit.open_model(jc_out / f"{base}_rateints.fits")
    rescued = ((ints.dq & SAT) != 0) & ((ints.dq & DNU) == 0) & np.isfinite(ints.data)
    raw_model = jwst_kit.open_model(raw)
    sat_ref = jwst_kit.open_model(refs["saturation"])
    from jwcore.steps.saturation import dilate

    first_sat = dilate(raw_model.data[:, 0] >= sat_ref.data[None], 1)   # flagged with its grown ring
    assert (rescued & first_sat).sum() >= 50


def test_simulator_zero_frame_option(jwcal_pm, tmp_path):
    """The simulator's ZEROFRAME (``ExposureConfig.zero_frame``) is the first frame: for
    bright unsaturated pixels (group 1 - bias) / (zero frame - bias) is the mean frame number
    of group 1 (4.5 for MEDIUM8, up to the non-linearity); the ramp is the same without it."""
    from jwcal_nircam import plugin as nircam_plugin
    from jwcore.datamodel import open_model
    from jwcore.sim.detector import get_detector
    from jwcore.sim.exposure import ExposureConfig, simulate_exposure
    from jwcore.sim.state import detector_state

    from jwcore.sim.exposure import _window_centre
    from jwcore.sim.scene import Scene, Source

    jwcal_pm.register_plugin(nircam_plugin.plugin, name="nircam", distribution="jwcal-nircam")
    spec = get_detector("NIRCAM", "NRCB1", pm=jwcal_pm)
    models = {}
    for zf in (False, True):
        cfg = ExposureConfig(instrument="NIRCAM", detector="NRCB1", readpatt="MEDIUM8", ngroups=2, nints=2,
                             subarray="SUB64P", seed=8, detector_seed=3, zero_frame=zf)
        ra0, dec0 = _window_centre(spec, cfg)
        scene = Scene([Source(1, "galaxy", ra0, dec0, 0.1, sersic_n=1.0, r_eff=0.2, axis_ratio=0.8)])
        models[zf] = open_model(simulate_exposure(spec, cfg, tmp_path / str(zf), scene=scene).uncal)
    plain, with_zf = models[False], models[True]
    np.testing.assert_array_equal(plain.data, with_zf.data)
    assert not plain.has("zeroframe") and plain.meta.exposure.zero_frame is False
    assert with_zf.meta.exposure.zero_frame is True
    assert with_zf.zeroframe.shape == (2, 64, 64) and with_zf.zeroframe.dtype == np.uint16
    state = detector_state(spec, 3, window=spec.subarray("SUB64P"))
    bias = state.superbias[state.view(spec.subarray("SUB64P"))]
    s0 = with_zf.data[:, 0] - bias
    z = with_zf.zeroframe - bias.astype(np.float64)
    bright = (s0 > 3000) & (with_zf.data[:, 0] < 0.8 * state.saturation[state.view(spec.subarray("SUB64P"))])
    assert bright.sum() > 20
    assert 4.0 < np.median(s0[bright] / z[bright]) < 4.6
