"""NIRSpec IRS2 readouts in the simulator (plugins/nirspec/jwcal_nirspec/sim_irs2.py).

Expected values from outside the code under test: the flight IRS2 frame time (TFRAME
14.58889 s, NRSIRS2 groups of 5 frames), the interleaved-row geometry and time order of
jwcal's bit-identical port of jwst's IRS2 correction (jwcore/steps/refpix/irs2.py, itself
checked against jwst), and that correction applied with the simulated REFPIX reference.
"""

import numpy as np
import pytest

from jwcore.errors import JwcalError
from jwcore.sim.exposure import ExposureConfig, timing
from jwcore.sim.ramp import RampResult
from jwcore.sim.state import detector_state
from jwcore.steps.refpix import irs2 as corr

from .conftest import detector

sim_irs2 = pytest.importorskip("jwcal_nirspec.sim_irs2")


def test_irs2_frame_times_and_patterns():
    spec = detector("NIRSPEC", "NRS1")
    assert spec.frame_time("FULL", "NRSIRS2RAPID") == pytest.approx(14.58889, abs=1e-5)
    assert spec.frame_time("FULL", "NRSRAPID") == pytest.approx(10.73677, abs=1e-5)   # unchanged
    assert spec.frame_time("FULL") == pytest.approx(10.73677, abs=1e-5)
    t = timing(spec, ExposureConfig("NIRSPEC", "NRS1", readpatt="NRSIRS2", ngroups=3))
    assert t["nframes"] == 5 and t["tgroup"] == pytest.approx(5 * 14.58889, abs=1e-4)
    with pytest.raises(JwcalError):
        spec.frame_time("SUB2048", "NRSIRS2RAPID")


@pytest.mark.parametrize("det", ["NRS1", "NRS2"])
def test_irs2_row_layout_is_the_corrections(det):
    """Normal rows, outputs and time slots are those jwcal's (jwst's) IRS2 correction assumes."""
    lay = sim_irs2.row_layout(det)
    np.testing.assert_array_equal(lay.normal, corr.irs2_dms_rows(2 if det == "NRS1" else -2))
    plan = corr._Plan(2048, 3200, 16, 4, 8, False)
    assert sim_irs2.line_samples() == plan.row == 712
    for k in range(5):
        rows = np.flatnonzero(lay.output == k)
        order = rows[np.argsort(lay.column[rows])]            # detector column order
        if k % 2 == 0:
            order = order[::-1]                                # read backwards
        ref = ~corr.irs2_normal_mask()[640:1280] if k == 0 else ~lay.normal[order]
        np.testing.assert_array_equal(lay.slot[order][~ref], plan.hnorm1)
        np.testing.assert_array_equal(lay.slot[order][ref], plan.href1)
    assert (lay.line == (np.arange(2048) if det == "NRS1" else np.arange(2047, -1, -1))).all()


def test_irs2_correction_removes_the_simulated_correlated_noise():
    """Two groups of a dark, noise-free NRS2 frame plus the readout's correlated noise: jwcal's
    IRS2 correction with the simulated REFPIX coefficients removes the per-output levels and
    drifts and the common and per-amplifier 1/f noise (what is left is the reference output's
    white read noise, which the correction adds)."""
    spec = detector("NIRSPEC", "NRS2")
    state = detector_state(spec, 3)
    sub = spec.subarray("FULL")
    patt = spec.readout("NRSIRS2RAPID")
    normal = np.broadcast_to(np.rint(state.superbias).astype(np.uint16), (1, 2, 2048, 2048))
    res = patt.raw_readout.raw_ramp(state, sub, patt, RampResult(np.ascontiguousarray(normal), None),
                                    frame_time=14.58889, seed=5)
    raw = res.data
    assert raw.shape == (1, 2, 3200, 2048) and raw.dtype == np.uint16
    lay = sim_irs2.row_layout("NRS2")
    bias = sim_irs2.irs2_superbias(state)
    np.testing.assert_array_equal(bias[lay.normal], state.superbias)
    ref_rows = ~lay.normal
    assert abs(np.median(raw[0, 0][ref_rows] - bias[ref_rows])) < 20      # bias + noise, no signal

    data = raw.astype(np.float32) - bias                                   # superbias step
    before = (data[0, 1] - data[0, 0])[lay.normal]
    alpha, beta = sim_irs2.refpix_coefficients()
    out = corr.correct_irs2(data, np.zeros((3200, 2048), np.uint32), alpha[None].repeat(4, 0).astype(np.complex64),
                            beta[None].repeat(4, 0).astype(np.complex64), fastaxis=-2, slowaxis=-1)
    after = out[0, 1] - out[0, 0]
    # correlated noise: per DMS column (detector row) and per amplifier means of the difference
    line_before, line_after = before.mean(axis=0), after.mean(axis=0)
    amp_before = before.reshape(4, 512, 2048).mean(axis=(1, 2))
    amp_after = after.reshape(4, 512, 2048).mean(axis=(1, 2))
    print(f"line rms {line_before.std():.3f} -> {line_after.std():.3f} DN; "
          f"amp means {np.abs(amp_before).max():.3f} -> {np.abs(amp_after).max():.3f} DN")
    assert line_before.std() > 1.0
    assert line_after.std() < 0.3 * line_before.std()
    assert np.abs(amp_after).max() < 0.1 * np.abs(amp_before).max() + 0.05
    # pixel noise after: the reference output's white noise (9 DN per read, twice for a difference)
    assert after.std() == pytest.approx(np.sqrt(2) * spec.read_noise, rel=0.15)
