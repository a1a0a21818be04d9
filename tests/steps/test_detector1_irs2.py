"""NIRSpec IRS2 exposures (NRSIRS2RAPID: 3200-row raw frames with interleaved reference pixels)
through calwebb_detector1.

* The steps that see the 3200-row ramp before ``refpix`` strips the reference rows, against
  jwst 3.0.0 on small synthetic IRS2 ramps (3200 x 16, NRS1 and NRS2): ``dq_init`` (IRS2-layout
  MASK, 3200 rows with SUBSIZE2 = 2048, OR-ed whole), ``saturation`` (2048-row SATURATION mapped
  onto the normal rows, IRS2-layout SUPERBIAS for the group-2 test) and ``superbias``
  (IRS2-layout SUPERBIAS subtracted from every row).  PIXELDQ/GROUPDQ identical, SCI within
  1e-6 relative.
* A simulated NRS1 NRSIRS2RAPID full frame (jwcore.sim + jwcal_nirspec.sim_irs2: 3 groups,
  1 integration) through jwcal's detector1 with the simulator's IRS2 references: every step
  COMPLETE (group_scale, persistence SKIPPED), a 2048 x 2048 rate whose median over good
  pixels is the truth's within 2 %, per-pixel scatter near the read-noise expectation.
* (slow) The same exposure through jwst's Detector1Pipeline with every reference an override:
  rate and rateints SCI/ERR/VAR_POISSON/VAR_RNOISE within 1e-5 relative (elementwise, relative
  to max(|jwst|, median |jwst|)), DQ identical, S_* statuses equal.  Measured: SCI 8e-16,
  ERR/VAR 0 (bit-identical but for the last bit of a few slopes).
"""

import numpy as np
import pytest
from astropy.io import fits

pytest.importorskip("jwst")
from jwst.dq_init import DQInitStep  # noqa: E402
from jwst.saturation import SaturationStep  # noqa: E402
from jwst.superbias import SuperBiasStep  # noqa: E402

from jwcore import dq  # noqa: E402
from jwcore.datamodel import open_model  # noqa: E402
from jwcore.runner import Pipeline, RunContext  # noqa: E402
from jwcore.steps._irs2 import irs2_normal_rows  # noqa: E402

from .stepkit import (assert_ramp_parity, file_dq, max_rel, reference, run_jwcal, run_jwst, science,  # noqa: E402
                      typical)

nirspec_plugin = pytest.importorskip("jwcal_nirspec.plugin")

pytestmark = pytest.mark.parity
RTOL = 1e-5
STEP_KEYS = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity", "dark_sub",
             "jump", "persistence", "ramp_fit", "gain_scale")
NIRSPEC = dict(instrument="NIRSPEC", detector="NRS1", exp_type="NRS_IMAGE", readpatt="NRSIRS2RAPID",
               fastaxis=2, slowaxis=1, filter="F110W", pupil=None, frame_time=14.58889)
IRS2_KEYS = {"subarray.ysize": 2048, "exposure.nrs_normal": 16, "exposure.nrs_reference": 4}


# ------------------------------------------------------------------- steps before refpix
@pytest.fixture(params=["NRS1", "NRS2"])
def small_irs2(request, tmp_path):
    """A (1, 3, 3200, 16) IRS2 ramp and its MASK/SATURATION/SUPERBIAS references."""
    det = request.param
    inst = dict(NIRSPEC, detector=det, fastaxis=2 if det == "NRS1" else -2, slowaxis=1 if det == "NRS1" else -1)
    rng = np.random.default_rng(11 if det == "NRS1" else 12)
    shape = (3200, 16)
    normal = irs2_normal_rows(3200, 16, 4, fastaxis=inst["fastaxis"])
    bias = (12000 + rng.normal(0, 30, shape)).astype(np.float32)
    rate = rng.uniform(50, 900, shape)
    rate[~normal] = 0.0
    g = np.arange(1, 4)[None, :, None, None]
    data = bias + rate[None, None] * g * 14.58889 + rng.normal(0, 8, (1, 3) + shape)
    hot = np.flatnonzero(normal)[::97]
    data[0, 1:, hot[:5], 3] = 65000.0                       # saturating from group 2
    data[0, 2, hot[5:10], 7] += 30000.0                     # charge spill into group 3
    data[0, 0, hot[10:14], 9] = 0.0                         # A/D floor
    data[0, :, np.flatnonzero(~normal)[::50], 5] = 65535.0  # interleaved reference rows: never flagged
    sat = (bias[normal] + rng.uniform(30000, 36000, (2048, 16))).astype(np.float32)
    sat[::211, 2] = np.nan
    sat_dq = file_dq(rng, (2048, 16), ["NO_SAT_CHECK", "DO_NOT_USE"], p=0.02)
    mask_dq = file_dq(rng, shape, ["DO_NOT_USE", "DEAD", "HOT", "REFERENCE_PIXEL"], p=0.02)
    mask_dq[~normal, :] |= dq.REFERENCE_PIXEL
    bias_dq = file_dq(rng, shape, ["UNRELIABLE_BIAS"], p=0.02)
    path = science(tmp_path / f"irs2_{det}_ramp.fits", inst=inst, kind="ramp", ngroups=3, shape=shape,
                   subarray="FULL", data=data, noutputs=4, extra=IRS2_KEYS)
    meta = {"subarray.ysize": 2048}
    refs = {
        "mask": reference(tmp_path / "mask.fits", "MaskModel", inst=inst, dq=mask_dq, meta=meta),
        "saturation": reference(tmp_path / "sat.fits", "SaturationModel", inst=inst, data=sat, dq=sat_dq),
        "superbias": reference(tmp_path / "bias.fits", "SuperBiasModel", inst=inst, data=bias, dq=bias_dq,
                               meta=meta),
    }
    return det, path, refs, normal


def test_irs2_steps_before_refpix_match_jwst(jwcal_pm, small_irs2):
    det, path, refs, normal = small_irs2
    for step_cls, name, key, params in (
        (DQInitStep, "dq_init", "dq_init", {"override_mask": refs["mask"]}),
        (SaturationStep, "saturation", "saturation",
         {"override_saturation": refs["saturation"], "override_superbias": refs["superbias"]}),
        (SuperBiasStep, "superbias", "superbias", {"override_superbias": refs["superbias"]}),
    ):
        theirs = run_jwst(step_cls, path, **params)
        mine = run_jwcal(jwcal_pm, name, path, **params)
        assert mine.data.shape == theirs.data.shape == (1, 3, 3200, 16)
        assert_ramp_parity(mine, theirs, arrays=("data", "groupdq", "pixeldq"))
        assert getattr(mine.meta.cal_step, key) == getattr(theirs.meta.cal_step, key) == "COMPLETE"
        if name == "saturation":
            sat = (mine.groupdq & dq.GROUP["SATURATED"]) != 0
            assert sat[0, 2].sum() >= 5 and not sat[..., ~normal, :].any()
            assert ((mine.groupdq & dq.GROUP["AD_FLOOR"]) != 0).sum() >= 4
        if name == "dq_init":   # the mask's reference rows reach PIXELDQ
            assert ((mine.pixeldq[~normal] & dq.REFERENCE_PIXEL) != 0).all()


def test_irs2_rejects_a_normal_pixel_mask(jwcal_pm, tmp_path):
    """A 2048-row MASK on 3200-row data: a clear error (jwst fails to broadcast)."""
    path = science(tmp_path / "irs2_ramp.fits", inst=NIRSPEC, kind="ramp", ngroups=2, shape=(3200, 8),
                   subarray="FULL", noutputs=4, extra=IRS2_KEYS)
    mask = reference(tmp_path / "mask.fits", "MaskModel", inst=NIRSPEC, dq=np.zeros((2048, 8), np.uint32))
    from jwcore.errors import BadInputError

    with pytest.raises(BadInputError, match="IRS2"):
        run_jwcal(jwcal_pm, "dq_init", path, override_mask=mask)


# ------------------------------------------------------------------------- whole pipeline
@pytest.fixture(scope="module")
def irs2_exposure(tmp_path_factory):
    """A simulated NRS1 NRSIRS2RAPID exposure and the simulator's IRS2 reference set."""
    from jwcal_nirspec.detectors import DETECTORS

    from jwcore.sim.exposure import ExposureConfig, simulate_exposure
    from jwcore.sim.references import write_reference_set

    spec = next(s for s in DETECTORS if s.detector == "NRS1")
    folder = tmp_path_factory.mktemp("irs2_detector1")
    cfg = ExposureConfig(instrument="NIRSPEC", detector="NRS1", readpatt="NRSIRS2RAPID", ngroups=3, nints=1,
                         seed=7, detector_seed=3)
    prod = simulate_exposure(spec, cfg, folder / "raw")
    paths = write_reference_set(spec, folder / "refs", readpatt="NRSIRS2RAPID", ngroups=3, seed=3)
    refs = {}
    for p in paths:   # the IRS2 references are written after the traditional ones and replace them
        if str(p).endswith(".fits"):
            refs[str(fits.getheader(p).get("REFTYPE", "")).lower()] = str(p)
    return prod, refs, folder


def _run_jwcal(pm, raw, refs, out):
    pm.register_plugin(nirspec_plugin.plugin, name="nirspec", distribution="jwcal-nirspec")
    spec1 = pm.registry.pipeline("detector1", "NIRSPEC")
    config = {"steps": {use.key: {f"override_{r}": refs.get(r, "N/A")
                                  for r in pm.registry.step(use.step).reference_file_types}
                        for use in spec1.steps}}
    ctx = RunContext(pm=pm, input_path=raw, output_dir=out, protect=(raw,))
    Pipeline(spec1, pm.registry, config).run(open_model(raw), ctx)


def test_irs2_exposure_through_jwcal_detector1_matches_the_truth(jwcal_pm, irs2_exposure):
    prod, refs, folder = irs2_exposure
    raw = prod.uncal
    with fits.open(raw) as h:
        assert h["SCI"].data.shape == (1, 3, 3200, 2048)
        hdr = h[0].header
        assert (hdr["READPATT"], hdr["NRS_NORM"], hdr["NRS_REF"], hdr["SUBSIZE2"]) == ("NRSIRS2RAPID", 16, 4, 2048)
        assert hdr["TFRAME"] == pytest.approx(14.58889, abs=1e-5)
    for reftype, rows in (("mask", 3200), ("superbias", 3200), ("saturation", 2048), ("dark", 2048)):
        assert fits.getheader(refs[reftype], 1)["NAXIS2"] == rows, reftype
    assert fits.getheader(refs["refpix"], "IRS2")["NAXIS2"] == 2 * 712 * 2048

    out = folder / "jwcal"
    _run_jwcal(jwcal_pm, raw, refs, out)
    rate = open_model(out / raw.name.replace("_uncal.fits", "_rate.fits"))
    assert rate.data.shape == (2048, 2048)
    for key in STEP_KEYS:
        expect = "SKIPPED" if key in ("group_scale", "persistence") else "COMPLETE"
        assert getattr(rate.meta.cal_step, key) == expect, key
    truth = fits.getdata(prod.truth, "SCI")
    good = ((rate.dq & dq.DO_NOT_USE) == 0) & (fits.getdata(prod.truth, "DQ") == 0) & np.isfinite(rate.data)
    assert good.mean() > 0.95
    resid = (rate.data - truth)[good]
    ratio = np.median(rate.data[good]) / np.median(truth[good])
    # 3 groups 14.6 s apart, 9 DN read noise per read for the pixel and for the reference-output
    # sample the correction subtracts: sigma(slope) = sqrt(2) * 9 * sqrt(12 / 24) / 14.59 DN/s
    expect = np.sqrt(2) * 9.0 * np.sqrt(0.5) / 14.58889
    print(f"median rate / truth {ratio:.4f}; residual rms {resid.std():.3f} DN/s (white noise {expect:.3f})")
    assert abs(ratio - 1) < 0.02
    assert abs(np.median(resid)) < 0.02
    assert resid.std() < 1.15 * expect


@pytest.mark.slow
def test_irs2_exposure_detector1_matches_jwst(jwcal_pm, irs2_exposure, tmp_path):
    from jwst.pipeline import Detector1Pipeline

    prod, refs, folder = irs2_exposure
    raw = prod.uncal
    for needed in ("mask", "saturation", "superbias", "refpix", "linearity", "dark", "gain", "readnoise", "ipc"):
        assert needed in refs, needed
    steps = {name: {f"override_{r}": refs.get(r, "N/A") for r in cls.reference_file_types}
             for name, cls in Detector1Pipeline.step_defs.items()}
    steps["jump"]["maximum_cores"] = "1"
    steps["ramp_fit"]["maximum_cores"] = "1"
    jw_out = tmp_path / "jwst"
    jw_out.mkdir()
    Detector1Pipeline.call(str(raw), output_dir=str(jw_out), save_results=True, steps=steps)

    jc_out = tmp_path / "jwcal"
    _run_jwcal(jwcal_pm, raw, refs, jc_out)
    base = raw.name.replace("_uncal.fits", "")
    for suffix in ("rate", "rateints"):
        mine = open_model(jc_out / f"{base}_{suffix}.fits")
        theirs = open_model(jw_out / f"{base}_{suffix}.fits")
        assert mine.data.shape == theirs.data.shape
        for arr in ("data", "err", "var_poisson", "var_rnoise"):
            a, b = getattr(mine, arr), getattr(theirs, arr)
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{suffix} {arr}")
            d = max_rel(a, b, typical(b))
            print(f"{suffix} {arr}: max relative difference {d:.3g}")
            assert d <= RTOL, f"{suffix} {arr}: max relative difference {d:g}"
        np.testing.assert_array_equal(mine.dq, theirs.dq)
        assert ((mine.dq & dq.SATURATED) != 0).any() and ((mine.dq & dq.JUMP_DET) != 0).any()
        for key in STEP_KEYS:
            assert getattr(mine.meta.cal_step, key) == getattr(theirs.meta.cal_step, key), (suffix, key)
