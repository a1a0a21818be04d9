"""DetectorSpec: registration, timing against flight headers, geometry against jwst's formulas.

Expected values come from outside the code under test: flight headers in
/work/shared/data/real (TFRAME, FASTAXIS/SLOWAXIS), the JWST documentation's subarray frame
times, and jwst's own v23tosky transform (parity tolerance 1e-9 deg).
"""

from pathlib import Path

import numpy as np
import pytest

from jwcore.sim.detector import DetectorSpec, Subarray, readout_frame_time, registered_detectors

from .conftest import detector

REAL = Path("/work/shared/data/real")
ALL = {"NIRCAM": ["NRCA1", "NRCA2", "NRCA3", "NRCA4", "NRCALONG", "NRCB1", "NRCB2", "NRCB3", "NRCB4", "NRCBLONG"],
       "NIRISS": ["NIS"], "MIRI": ["MIRIMAGE"], "FGS": ["GUIDER1", "GUIDER2"], "NIRSPEC": ["NRS1", "NRS2"]}


def test_every_detector_is_registered_through_the_hook():
    from jwcore.plugins import get_plugin_manager

    found = registered_detectors(get_plugin_manager())
    for inst, dets in ALL.items():
        for d in dets:
            assert (inst, d) in found, (inst, d)
            assert isinstance(found[(inst, d)], DetectorSpec)


def test_frame_times_match_flight_and_documented_values():
    nrc = detector("NIRCAM", "NRCA1")
    assert nrc.frame_time("FULL") == pytest.approx(10.73677, abs=1e-5)   # flight NRCA2 header TFRAME
    # JDox NIRCam subarray frame times (s)
    for sub, t in (("SUB64P", 0.05016), ("SUB160", 0.27864), ("SUB320", 1.06904), ("SUB640", 4.18584),
                   ("SUB400P", 1.65624), ("SUBGRISM256", 1.34669)):
        assert nrc.frame_time(sub) == pytest.approx(t, abs=1e-5), sub
    assert detector("NIRSPEC", "NRS1").frame_time("SUB2048") == pytest.approx(0.902, abs=1e-5)
    assert detector("MIRI", "MIRIMAGE").frame_time("FULL") == pytest.approx(2.77504, abs=1e-5)
    # the flight FGS ACQ1 header: 128x128, one output, TFRAME 0.182
    assert readout_frame_time("fast_y", 128, 128, 1) == pytest.approx(0.182, abs=1e-6)


@pytest.mark.parametrize("inst,det,path", [
    ("NIRCAM", "NRCA2", "nircam/header_only/jw01075001001_03105_00009_nrca2_uncal.fits"),
    ("FGS", "GUIDER1", "fgs/header_only/fgs_acq1_guider1.fits"),
    ("FGS", "GUIDER2", "fgs/header_only/fgs_acq1_guider2.fits"),
    ("MIRI", "MIRIMAGE", "miri/test_mirimage_i2d.fits"),
])
def test_axes_match_flight_headers(inst, det, path):
    from astropy.io import fits

    f = REAL / path
    if not f.exists():
        pytest.skip(f"{f} not available")
    h = fits.getheader(f, 0)
    spec = detector(inst, det)
    assert (spec.fastaxis, spec.slowaxis) == (h["FASTAXIS"], h["SLOWAXIS"])


def test_amplifier_and_reference_layout():
    nrc = detector("NIRCAM", "NRCA1")
    amp = nrc.amplifier_map()
    assert [int(amp[0, x]) for x in (0, 511, 512, 1024, 2047)] == [0, 0, 1, 2, 3]
    nis = detector("NIRISS", "NIS")       # fast axis along y: outputs split rows
    assert [int(nis.amplifier_map()[y, 0]) for y in (0, 600, 2047)] == [0, 1, 3]
    miri = detector("MIRI", "MIRIMAGE")
    assert list(miri.amplifier_map()[5, :6]) == [0, 1, 2, 3, 0, 1]
    ref = nrc.reference_pixel_mask()
    assert ref.sum() == 2048 * 2048 - 2040 * 2040
    mref = miri.reference_pixel_mask()
    assert mref.sum() == 8 * 1024 and mref[:, :4].all() and mref[:, -4:].all() and not mref[:, 4:-4].any()


def test_bad_options_are_one_line_errors():
    from jwcore.errors import JwcalError

    nrc = detector("NIRCAM", "NRCA1")
    for call in (lambda: nrc.subarray("NOPE"), lambda: nrc.readout("SLOW"), lambda: nrc.filter("F999W")):
        with pytest.raises(JwcalError) as err:
            call()
        assert "\n" not in str(err.value)


def test_subarray_slices():
    s = Subarray("X", 3, 5, 10, 4)
    full = np.arange(20 * 20).reshape(20, 20)
    assert full[s.slices].shape == (4, 10)
    assert full[s.slices][0, 0] == full[4, 2]


# -- geometry ---------------------------------------------------------------------------------
def test_pointing_matches_jwst_v23tosky():
    pytest.importorskip("jwst")
    from jwst.assign_wcs.pointing import _v23tosky

    from jwcore.sim.geometry import Pointing

    p = Pointing(120.576793, -527.501431, 53.16, -27.78, 33.0)
    ref = _v23tosky(p.v2_ref / 3600, p.v3_ref / 3600, p.roll_ref, p.ra_ref, p.dec_ref)
    v2 = np.array([120.5, 100.0, 150.0, 0.0])
    v3 = np.array([-527.5, -500.0, -560.0, 0.0])
    ra, dec = p.v2v3_to_sky(v2, v3)
    ra_j, dec_j = ref(v2, v3)
    np.testing.assert_allclose(ra, ra_j, atol=1e-9)
    np.testing.assert_allclose(dec, dec_j, atol=1e-9)
    back = p.sky_to_v2v3(ra, dec)
    np.testing.assert_allclose(back[0], v2, atol=1e-6)


def test_distortion_model_reference_point_scale_and_inverse():
    from jwcore.sim.geometry import distortion_model

    spec = detector("NIRCAM", "NRCB2")
    m = distortion_model(spec)
    x0, y0 = spec.sci_ref[0] - 1, spec.sci_ref[1] - 1
    v2, v3 = m(x0, y0)
    assert v2 == pytest.approx(spec.v2_ref, abs=1e-9) and v3 == pytest.approx(spec.v3_ref, abs=1e-9)
    v2b, v3b = m(x0 + 1, y0)
    assert np.hypot(v2b - v2, v3b - v3) == pytest.approx(spec.sci_scale[0], rel=1e-3)
    x = np.array([0.0, 100.0, 2047.0, 1500.0])
    y = np.array([0.0, 1900.0, 2047.0, 10.0])
    xi, yi = m.inverse(*m(x, y))
    np.testing.assert_allclose(xi, x, atol=1e-3)
    np.testing.assert_allclose(yi, y, atol=1e-3)
    # a mild distortion: the corner is displaced by 0.05-1% of its distance from the centre
    lin = np.hypot((2047 - x0) * spec.sci_scale[0], (2047 - y0) * spec.sci_scale[1])
    act = np.hypot(*(np.array(m(2047.0, 2047.0)) - np.array([spec.v2_ref, spec.v3_ref])))
    assert 0.0005 < abs(act / lin - 1) < 0.01
