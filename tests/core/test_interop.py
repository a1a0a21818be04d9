"""Files jwcal writes open in stdatamodels with the same arrays and metadata, and back."""

import numpy as np
import pytest

dm = pytest.importorskip("stdatamodels.jwst.datamodels")

from jwcore.datamodel import CubeModel, ImageModel, Level1bModel, RampModel, open_model  # noqa: E402

pytestmark = pytest.mark.parity


def _fill_meta(m):
    m.meta.instrument.name = "NIRCAM"
    m.meta.instrument.detector = "NRCB2"
    m.meta.instrument.filter = "F150W"
    m.meta.instrument.pupil = "CLEAR"
    m.meta.exposure.type = "NRC_IMAGE"
    m.meta.exposure.readpatt = "RAPID"
    m.meta.exposure.ngroups = 3
    m.meta.exposure.nints = 2
    m.meta.exposure.group_time = 10.737
    m.meta.subarray.name = "FULL"
    m.meta.observation.date = "2023-05-06"
    m.meta.cal_step.jump = "COMPLETE"
    m.meta.ref_file.gain.name = "crds://jwst_nircam_gain_0097.fits"


@pytest.mark.parametrize("cls,shape,dtype,jwst_cls", [
    (Level1bModel, (2, 3, 5, 6), np.uint16, "Level1bModel"),
    (RampModel, (2, 3, 5, 6), np.float32, "RampModel"),
    (ImageModel, (5, 6), np.float32, "ImageModel"),
    (CubeModel, (2, 5, 6), np.float32, "CubeModel"),
])
def test_jwcal_file_opens_in_stdatamodels(tmp_path, cls, shape, dtype, jwst_cls):
    rng = np.random.default_rng(3)
    data = (rng.random(shape) * 1000).astype(dtype)
    m = cls(data=data)
    _fill_meta(m)
    if cls is RampModel:
        m.groupdq[0, 1, 2, 3] = 4
        m.pixeldq[1, 1] = 1 | 2**31
    if cls is ImageModel:
        m.dq[0, 0] = 2**20
        m.var_rnoise = np.full(shape, 2.5, np.float32)
    path = m.save(tmp_path / "x.fits")
    with dm.open(str(path)) as s:
        assert type(s).__name__ == jwst_cls
        np.testing.assert_array_equal(s.data, data)
        assert s.meta.instrument.detector == "NRCB2"
        assert s.meta.instrument.filter == "F150W"
        assert s.meta.exposure.ngroups == 3
        assert s.meta.exposure.group_time == pytest.approx(10.737)
        assert s.meta.observation.date == "2023-05-06"
        assert s.meta.cal_step.jump == "COMPLETE"
        assert s.meta.ref_file.gain.name == "crds://jwst_nircam_gain_0097.fits"
        if cls is RampModel:
            assert s.groupdq[0, 1, 2, 3] == 4 and s.pixeldq[1, 1] == 1 | 2**31
        if cls is ImageModel:
            assert s.dq[0, 0] == 2**20
            np.testing.assert_array_equal(s.var_rnoise, 2.5)


def test_stdatamodels_file_opens_in_jwcal(tmp_path):
    s = dm.RampModel((2, 3, 5, 6))
    s.data[...] = np.arange(s.data.size, dtype=np.float32).reshape(s.data.shape)
    s.groupdq[1, 2, 4, 5] = 2
    s.pixeldq[0, 0] = 2**31
    s.meta.instrument.name = "MIRI"
    s.meta.instrument.detector = "MIRIMAGE"
    s.meta.exposure.type = "MIR_IMAGE"
    s.meta.exposure.nframes = 1
    s.meta.subarray.xstart = 1
    s.save(str(tmp_path / "j_ramp.fits"))
    m = open_model(tmp_path / "j_ramp.fits")
    assert isinstance(m, RampModel)
    np.testing.assert_array_equal(m.data, s.data)
    assert m.groupdq[1, 2, 4, 5] == 2 and m.pixeldq[0, 0] == 2**31
    assert m.meta.instrument.detector == "MIRIMAGE" and m.meta.exposure.type == "MIR_IMAGE"
    assert m.meta.exposure.nframes == 1 and m.meta.subarray.xstart == 1


def test_gwcs_in_asdf_extension_round_trips(tmp_path):
    gwcs = pytest.importorskip("gwcs")
    from astropy import coordinates as coord, units as u
    from astropy.modeling import models
    from gwcs import coordinate_frames as cf

    transform = models.Shift(-3) & models.Shift(-3) | models.Scale(0.03 / 3600) & models.Scale(0.03 / 3600) | \
        models.Pix2Sky_TAN() | models.RotateNative2Celestial(10.0, 20.0, 180.0)
    det = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    sky = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world", unit=(u.deg, u.deg))
    w = gwcs.WCS([(det, transform), (sky, None)])
    m = ImageModel(data=np.zeros((7, 7), np.float32))
    _fill_meta(m)
    m.meta.wcs = w
    m.save(tmp_path / "w_cal.fits")
    with dm.open(str(tmp_path / "w_cal.fits")) as s:
        assert s.meta.wcs is not None
        np.testing.assert_allclose(s.meta.wcs(3, 3), (10.0, 20.0), atol=1e-9)
    back = open_model(tmp_path / "w_cal.fits")
    np.testing.assert_allclose(back.meta.wcs(3, 3), (10.0, 20.0), atol=1e-9)
