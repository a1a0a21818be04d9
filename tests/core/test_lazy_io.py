"""The fast I/O paths of the data models: positional (non-memory-mapped) reads and
LazyArray, the YAML-only ASDF block, tables without astropy.table, the streamed
uint16 -> float32 ramp conversion.  Each is compared with the general path it replaces
(astropy memory-mapped data, asdf, astropy Table); values and dtypes must be identical.
"""

import io
import tracemalloc

import numpy as np
import pytest
from astropy.io import fits

from jwcore.datamodel import DarkModel, ImageModel, Level1bModel, RampModel, open_model
from jwcore.datamodel.convert import to_ramp
from jwcore.datamodel.fitsio import _bintable_hdu, _plain_yaml_bytes, _plain_yaml_tree
from jwcore.datamodel.lazy import LazyArray, image_source
from jwcore.datamodel.models import _native, _table_array

RNG = np.random.default_rng(7)
ARRAYS = {
    "f4": RNG.normal(size=(3, 5, 13, 17)).astype(np.float32),
    "u2": RNG.integers(0, 65536, (2, 3, 11, 9)).astype(np.uint16),
    "u4": RNG.integers(0, 2**32, (9, 7), dtype=np.uint64).astype(np.uint32),
    "u1": RNG.integers(0, 256, (4, 6, 5)).astype(np.uint8),
    "f8": RNG.normal(size=(5, 8)),
    "i4": RNG.integers(-2**31, 2**31, (6, 4, 3), dtype=np.int64).astype(np.int32),
}


@pytest.fixture(scope="module")
def fits_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lazy") / "arrays.fits"
    hdus = [fits.PrimaryHDU()] + [fits.ImageHDU(a, name=k.upper()) for k, a in ARRAYS.items()]
    fits.HDUList(hdus).writeto(path)
    return path


@pytest.mark.parametrize("name", list(ARRAYS))
def test_positional_reads_match_memory_mapped_data(fits_file, name):
    with fits.open(fits_file, memmap=True, do_not_scale_image_data=True) as hdul:
        i = hdul.index_of(name.upper())
        raw, header = hdul[i].data, hdul[i].header
        for want in (None, ARRAYS[name].dtype):
            expected = _native(raw, header, want)
            src = image_source(hdul, i, fits_file, want)
            got = src.read()
            assert got.dtype == expected.dtype and got.dtype.isnative
            np.testing.assert_array_equal(got, expected)
            np.testing.assert_array_equal(np.asarray(src), expected)
        np.testing.assert_array_equal(expected, ARRAYS[name])   # and the file holds the values


def test_lazy_indexing_crops_and_threads(fits_file):
    a = ARRAYS["f4"]
    with fits.open(fits_file) as hdul:
        src = image_source(hdul, hdul.index_of("F4"), fits_file, "float32")
    assert isinstance(src, LazyArray) and src.shape == a.shape and src.ndim == 4
    sub = src[1]                      # still 3-D: a lazy sub-array, nothing read yet
    assert isinstance(sub, LazyArray) and sub.shape == a.shape[1:]
    np.testing.assert_array_equal(sub[2], a[1, 2])
    np.testing.assert_array_equal(sub[-1], a[1, -1])
    np.testing.assert_array_equal(sub[1:4], a[1, 1:4])
    np.testing.assert_array_equal(sub[::2], a[1, ::2])
    crop = src[..., 2:9, 3:15]        # what jwcore.steps._subarray.extract asks for
    assert isinstance(crop, LazyArray) and crop.shape == a[..., 2:9, 3:15].shape
    np.testing.assert_array_equal(crop[2][4], a[2, 4, 2:9, 3:15])
    np.testing.assert_array_equal(crop[..., 1:3, 2:5].read(), a[..., 3:5, 5:8])
    out = np.empty(a.shape, np.float64)
    src.read_into(out, threads=3)
    np.testing.assert_array_equal(out, a.astype(np.float64))
    with pytest.raises(IndexError):
        src[3]


def test_models_load_arrays_without_memory_map(tmp_path):
    m = RampModel(data=ARRAYS["f4"])
    m.pixeldq = np.full((13, 17), 2**31 | 3, np.uint32)
    m.groupdq = (ARRAYS["f4"] > 0).astype(np.uint8) * 4
    m.save(tmp_path / "r.fits")
    with fits.open(tmp_path / "r.fits") as hdul:
        expected = {n: hdul[e].data for n, e in (("data", "SCI"), ("pixeldq", "PIXELDQ"), ("groupdq", "GROUPDQ"))}
        expected = {n: np.array(v, dtype=v.dtype.newbyteorder("=")) for n, v in expected.items()}
    back = open_model(tmp_path / "r.fits")
    for name, exp in expected.items():
        got = getattr(back, name)
        assert got.dtype == exp.dtype and got.dtype.isnative
        np.testing.assert_array_equal(got, exp)
    assert back.lazy("zeroframe") is None          # absent and without a default
    back.close()


def test_streamed_uint16_ramp_conversion(tmp_path):
    raw = RNG.integers(0, 65536, (2, 4, 33, 21)).astype(np.uint16)
    m = Level1bModel(data=raw)
    m.meta.instrument.name = "NIRCAM"
    m.save(tmp_path / "u.fits")
    lazy_model = open_model(tmp_path / "u.fits")
    ramp = to_ramp(lazy_model)
    assert ramp.data.dtype == np.float32
    np.testing.assert_array_equal(ramp.data, raw.astype(np.float32))
    loaded = open_model(tmp_path / "u.fits")
    loaded.data                          # already in memory: the plain conversion is used
    np.testing.assert_array_equal(to_ramp(loaded).data, ramp.data)


def test_streamed_conversion_allocates_only_the_float32_ramp(tmp_path):
    raw = RNG.integers(0, 65536, (1, 8, 1024, 1024)).astype(np.uint16)
    m = Level1bModel(data=raw)
    m.save(tmp_path / "big.fits")
    del m
    model = open_model(tmp_path / "big.fits")
    tracemalloc.start()
    try:
        ramp = to_ramp(model)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    f32 = raw.size * 4
    # the float32 ramp plus a few 1 MB chunk buffers; converting a loaded uint16 copy
    # would add 50 %
    assert peak < f32 * 1.2, (peak, f32)
    np.testing.assert_array_equal(ramp.data, raw.astype(np.float32))


def test_plain_asdf_tree_matches_asdf(tmp_path):
    asdf = pytest.importorskip("asdf")
    tree = {"meta": {"instrument": {"name": "NIRCAM", "detector": "NRCA1"}, "exposure": {
        "ngroups": 10, "frame_time": 10.73677, "zero_frame": False, "tiny": 1.0e-300, "neg": -0.0,
        "big": 2**62, "text": "'quoted' and: colon", "empty": "", "none": None, "yes": "yes",
        "date_like": "2024-03-01", "list": [1, 2.5, "x", [True, None]]}}, "extra": {"a": [1, 2]}}
    raw = _plain_yaml_bytes(tree)
    ours = _plain_yaml_tree(raw)
    af = asdf.open(io.BytesIO(raw))
    theirs = {k: v for k, v in af.tree.items() if k not in ("asdf_library", "history")}
    assert ours["asdf_library"]["name"] == "jwcal"
    ours = {k: v for k, v in ours.items() if k != "asdf_library"}
    assert ours == theirs == tree
    # asdf's own serialisation of the same tree reads back the same way through the fast path
    buf = io.BytesIO()
    asdf.AsdfFile(tree).write_to(buf)
    back = _plain_yaml_tree(buf.getvalue())
    assert {k: v for k, v in back.items() if k not in ("asdf_library", "history")} == tree


def test_non_plain_asdf_trees_fall_back_to_asdf():
    asdf = pytest.importorskip("asdf")
    buf = io.BytesIO()
    asdf.AsdfFile({"meta": {"c": 1 + 2j, "name": "x"}}).write_to(buf)
    assert _plain_yaml_tree(buf.getvalue()) is None       # a !core/complex value: asdf reads it
    buf = io.BytesIO()
    asdf.AsdfFile({"meta": {"arr": np.arange(3), "name": "x"}}).write_to(buf)
    tree = _plain_yaml_tree(buf.getvalue())               # arrays are dropped, as the asdf path does
    assert tree is not None and tree["meta"] == {"name": "x"}


def test_model_with_complex_metadata_round_trips_through_asdf(tmp_path):
    pytest.importorskip("asdf")
    m = ImageModel(data=np.zeros((3, 4), np.float32))
    m.meta.instrument.name = "NIRCAM"
    m.tree["special"] = {"value": 1 + 2j}
    path = m.save(tmp_path / "c.fits")
    back = open_model(path)
    assert back.tree["special"]["value"] == 1 + 2j
    assert back.meta.instrument.name == "NIRCAM"


def test_written_products_open_in_stdatamodels(tmp_path):
    pytest.importorskip("stdatamodels")
    from stdatamodels.jwst import datamodels

    m = ImageModel(data=np.arange(12, dtype=np.float32).reshape(3, 4))
    m.meta.instrument.name = "NIRCAM"
    m.meta.instrument.detector = "NRCA1"
    m.meta.exposure.type = "NRC_IMAGE"
    m.meta.exposure.frame_time = 10.73677
    path = m.save(tmp_path / "x_rate.fits")
    with datamodels.open(path) as dm:
        assert dm.meta.instrument.detector == "NRCA1"
        assert dm.meta.exposure.frame_time == 10.73677
        np.testing.assert_array_equal(dm.data, m.data)


def test_tables_without_astropy_table(tmp_path):
    from astropy.table import Table

    rec = np.zeros(4, dtype=[("integration_number", ">i4"), ("name", "S8"), ("t", ">f8"), ("v", ">f4", (3,))])
    rec["integration_number"] = [1, 2, 3, 4]
    rec["name"] = [b"a", b"bb", b"", b"dddd"]
    rec["t"] = [0.5, np.nan, 2, 3]
    cols = [fits.Column(name="integration_number", format="J", array=rec["integration_number"]),
            fits.Column(name="name", format="8A", array=rec["name"]),
            fits.Column(name="t", format="D", array=rec["t"]),
            fits.Column(name="v", format="3E", array=rec["v"]),
            fits.Column(name="flags", format="J", bzero=2**31, array=np.array([0, 1, 2**31, 2**32 - 1], np.uint32))]
    path = tmp_path / "t.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, name="T")]).writeto(path)
    with fits.open(path) as hdul:
        ours = _table_array(hdul["T"])
        theirs = Table(hdul["T"].data).as_array()
    assert ours.dtype == theirs.dtype
    assert ours["flags"].dtype == np.uint32 and ours["flags"][-1] == 2**32 - 1
    for name in theirs.dtype.names:
        np.testing.assert_array_equal(ours[name], theirs[name])
    # written back, byte for byte as astropy's own constructor writes it
    a, b = io.BytesIO(), io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), _bintable_hdu(ours, "T")]).writeto(a)
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(ours, name="T")]).writeto(b)
    assert a.getvalue() == b.getvalue()


def test_dark_model_lazy_plane_access(tmp_path):
    dark = RNG.normal(size=(6, 20, 24)).astype(np.float32)
    path = DarkModel(data=dark).save(tmp_path / "dark.fits")
    ref = open_model(path, DarkModel)
    lazy = ref.lazy("data")
    assert isinstance(lazy, LazyArray)
    np.testing.assert_array_equal(lazy[4], dark[4])
    np.testing.assert_array_equal(lazy[1:3], dark[1:3])
    assert not ref.has("err")
    ref.data                                  # once loaded, lazy() hands out the array itself
    assert isinstance(ref.lazy("data"), np.ndarray)
    ref.close()


def test_file_replaced_after_opening_is_read_as_opened(tmp_path):
    """Arrays are read through the descriptor opened with the file (as a memory map would
    be), not by path: a file replaced on disk since is not mixed in."""
    import os

    path = tmp_path / "x.fits"
    ImageModel(data=np.full((4, 5), 1.0, np.float32)).save(path)
    model = open_model(path)
    lazy = model.lazy("data")
    ImageModel(data=np.full((4, 5), 2.0, np.float32)).save(tmp_path / "y.fits")
    os.replace(tmp_path / "y.fits", path)
    np.testing.assert_array_equal(model.data, 1.0)
    np.testing.assert_array_equal(lazy.read(), 1.0)
    model.close()
    np.testing.assert_array_equal(lazy.read(), 1.0)   # a LazyArray keeps its descriptor
    assert open_model(path).data[0, 0] == 2.0


def test_reads_without_positional_reads(fits_file, monkeypatch):
    """Platforms without os.preadv (Windows) seek and read under a lock instead."""
    from jwcore.datamodel import lazy as lazy_mod

    monkeypatch.setattr(lazy_mod, "_HAS_PREADV", False)
    with fits.open(fits_file) as hdul:
        src = image_source(hdul, hdul.index_of("U2"), fits_file, "uint16")
    out = np.empty(src.shape, np.float32)
    src.read_into(out, threads=4)
    np.testing.assert_array_equal(out, ARRAYS["u2"].astype(np.float32))
