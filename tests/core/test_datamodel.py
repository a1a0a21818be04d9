import numpy as np
import pytest
from astropy.io import fits

from jwcore.datamodel import (CubeModel, ImageModel, Level1bModel, RampModel, SuperBiasModel,
                              open_model)
from jwcore.errors import BadInputError


def _image():
    m = ImageModel(data=np.random.default_rng(1).normal(size=(6, 7)).astype(np.float32))
    m.meta.instrument.name = "NIRCAM"
    m.meta.instrument.detector = "NRCA1"
    m.meta.instrument.filter = "F200W"
    m.meta.exposure.type = "NRC_IMAGE"
    m.meta.observation.date = "2023-01-02"
    m.meta.cal_step.flat_field = "COMPLETE"
    m.meta.ref_file.flat.name = "crds://jwst_nircam_flat_0001.fits"
    m.meta.photometry.conversion_megajanskys = 1.25
    m.var_poisson = np.full((6, 7), 0.5, np.float32)
    return m


def test_metadata_paths_map_to_jwst_keywords(tmp_path):
    path = _image().save(tmp_path / "x_cal.fits")
    with fits.open(path) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "SCI", "DQ", "ERR", "VAR_POISSON", "ASDF"] or \
            {"PRIMARY", "SCI", "VAR_POISSON", "ASDF"} <= {h.name for h in hdul}
        h0 = hdul[0].header
        assert h0["INSTRUME"] == "NIRCAM" and h0["DETECTOR"] == "NRCA1" and h0["FILTER"] == "F200W"
        assert h0["EXP_TYPE"] == "NRC_IMAGE" and h0["DATE-OBS"] == "2023-01-02"
        assert h0["S_FLAT"] == "COMPLETE"
        assert h0["R_FLAT"] == "crds://jwst_nircam_flat_0001.fits"
        assert h0["DATAMODL"] == "ImageModel"
        assert hdul["SCI"].header["PHOTMJSR"] == 1.25   # SCI-header keyword, as jwst places it


def test_round_trip_all_product_types(tmp_path):
    rng = np.random.default_rng(0)
    cases = [
        Level1bModel(data=rng.integers(0, 65535, (2, 3, 4, 5)).astype(np.uint16)),
        RampModel(data=rng.normal(size=(2, 3, 4, 5)).astype(np.float32)),
        _image(),
        CubeModel(data=rng.normal(size=(3, 4, 5)).astype(np.float32)),
    ]
    for i, m in enumerate(cases):
        m.meta.instrument.name = "MIRI"
        path = m.save(tmp_path / f"m{i}.fits")
        back = open_model(path)
        assert type(back) is type(m)
        np.testing.assert_array_equal(back.data, m.data)
        assert back.data.dtype == m.data.dtype and back.data.dtype.isnative
        assert back.meta.instrument.name == "MIRI"
        back.close()


def test_unsigned_and_dq_values_survive(tmp_path):
    m = RampModel(data=np.zeros((1, 2, 3, 3), np.float32))
    m.pixeldq[0, 0] = 2**31 | 5
    m.groupdq[0, 1, 2, 2] = 4
    back = open_model(m.save(tmp_path / "r_ramp.fits"))
    assert back.pixeldq.dtype == np.uint32 and back.pixeldq[0, 0] == 2**31 | 5
    assert back.groupdq.dtype == np.uint8 and back.groupdq[0, 1, 2, 2] == 4


def test_defaults_created_with_jwst_shapes():
    m = RampModel(data=np.zeros((2, 3, 4, 5), np.float32))
    assert m.pixeldq.shape == (4, 5) and m.pixeldq.dtype == np.uint32
    assert m.groupdq.shape == (2, 3, 4, 5) and m.err.shape == (2, 3, 4, 5)
    assert m.zeroframe is None  # no default for optional arrays
    assert not m.has("zeroframe")


def test_metadata_unknown_attribute_raises():
    m = ImageModel(data=np.zeros((2, 2), np.float32))
    assert m.meta.instrument.pupil is None          # known, unset
    assert m.meta.subarray.name is None
    with pytest.raises(AttributeError):
        m.meta.instrument.fliter                     # typo
    m.meta.cal_step.my_plugin_step = "COMPLETE"      # open branch for plugins
    assert m.meta.cal_step.my_plugin_step == "COMPLETE"


def test_lazy_read_does_not_load_arrays(tmp_path):
    path = _image().save(tmp_path / "x_cal.fits")
    m = open_model(path)
    assert m._arrays == {}                  # nothing read yet
    assert m.meta.instrument.filter == "F200W"
    assert m.var_poisson[0, 0] == np.float32(0.5)
    assert set(m._arrays) == {"var_poisson"}
    m.close()


def test_reference_model_keywords(tmp_path):
    ref = SuperBiasModel(data=np.ones((4, 4), np.float32))
    ref.meta.reftype = "SUPERBIAS"
    ref.meta.instrument.name = "NIRCAM"
    ref.meta.useafter = "2022-01-01T00:00:00"
    ref.meta.pedigree = "DUMMY"
    path = ref.save(tmp_path / "bias.fits")
    h = fits.getheader(path)
    assert h["REFTYPE"] == "SUPERBIAS" and h["USEAFTER"].startswith("2022") and h["PEDIGREE"] == "DUMMY"
    assert type(open_model(path)) is SuperBiasModel


@pytest.mark.parametrize("content", [b"", b"not a fits file at all" * 100, b"SIMPLE  =                    T" + b" " * 50])
def test_bad_files_give_one_line_errors(tmp_path, content):
    bad = tmp_path / "bad.fits"
    bad.write_bytes(content)
    with pytest.raises(BadInputError) as err:
        open_model(bad)
    assert "\n" not in str(err.value) and "bad.fits" in str(err.value)


def test_truncated_file(tmp_path):
    path = _image().save(tmp_path / "x_cal.fits")
    raw = path.read_bytes()
    cut = tmp_path / "cut.fits"
    cut.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(BadInputError):
        m = open_model(cut)
        m.load_all()


def test_save_is_atomic_and_leaves_no_partial(tmp_path, monkeypatch):
    m = _image()
    target = tmp_path / "out_cal.fits"
    from astropy.io.fits import HDUList

    def boom(self, *a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(HDUList, "writeto", boom)
    with pytest.raises(OSError):
        m.save(target)
    assert list(tmp_path.iterdir()) == []


def test_real_fgs_uncal_reads(real_data):
    m = open_model(real_data / "fgs" / "jw01019001001_gs-acq1_2022117003102_uncal.fits")
    assert m.meta.exposure.type == "FGS_ACQ1"
    assert m.data.shape == (6, 2, 128, 128) and m.data.dtype == np.uint16
    raw = fits.getdata(real_data / "fgs" / "jw01019001001_gs-acq1_2022117003102_uncal.fits")
    np.testing.assert_array_equal(m.data, raw)


def test_table_unsigned_columns_survive(tmp_path):
    from jwcore.datamodel import MaskModel

    m = MaskModel(dq=np.zeros((4, 4), np.uint32))
    m.dq_def = np.array([(31, 2**31, "REFERENCE_PIXEL", "ref"), (0, 1, "DO_NOT_USE", "bad")],
                        dtype=[("BIT", "i4"), ("VALUE", "u4"), ("NAME", "S40"), ("DESCRIPTION", "S40")])
    m.meta.reftype = "MASK"
    back = open_model(m.save(tmp_path / "mask.fits"))
    assert list(back.dq_def["VALUE"]) == [2**31, 1]
    assert list(back.dq_def["NAME"]) == ["REFERENCE_PIXEL", "DO_NOT_USE"]
