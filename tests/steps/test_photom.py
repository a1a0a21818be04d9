"""photom (imaging): parity with jwst 3.0's ``photom.DataSet.apply_photom``.

The PHOTOM files are written with stdatamodels in each instrument's real layout (DATAMODL
NrcImgPhotomModel, NisImgPhotomModel, MirImgPhotomModel, FgsImgPhotomModel, with time
coefficient tables where given), the AREA file as a PixelAreaModel.  jwcal picks the row with
the columns the instrument plugin declares.

Tolerance: SCI, ERR, VAR_* bit-identical float32, DQ identical, AREA identical, PHOTMJSR,
PHOTUJA2, PIXAR_SR, PIXAR_A2 equal as stored (float32 or float64 as jwst computes them).
"""

import warnings

import numpy as np
import pytest

from jwcore import dq
from jwcore.datamodel import ImageModel
from jwcore.refs.rows import RowKey, find_row, row_values, select_row
from jwcore.runner import RunContext
from jwcore.steps.photom import apply_conversion, conversion_factor, time_correction

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_find_and_select_row():
    table = np.array([("F200W", "CLEAR", "FULL", 1.0), ("f200w", "clear", "GENERIC", 2.0),
                      ("F150W", "CLEAR", "GENERIC", 3.0)],
                     dtype=[("filter", "U12"), ("pupil", "U12"), ("subarray", "U17"), ("photmjsr", "f4")])
    assert find_row(table, {"filter": "F150W", "pupil": "clear"}) == 2
    assert find_row(table, {"filter": "F444W"}) is None
    assert find_row(table, {}) == 0
    from jwcore.errors import ReferenceFileError

    with pytest.raises(ReferenceFileError):
        find_row(table, {"filter": "F200W", "pupil": "CLEAR"})          # two rows match
    meta = ImageModel(data=np.zeros((2, 2), np.float32)).meta
    meta.instrument.filter, meta.subarray.name = "F200W", "SUB64"
    keys = (RowKey("subarray", "meta.subarray.name", fallback="GENERIC"), RowKey("filter", "meta.instrument.filter"))
    row, match = select_row(table, keys, meta)
    assert row == 1 and match == {"subarray": "GENERIC", "filter": "F200W"}
    optional = (RowKey("filter", "meta.instrument.filter"), RowKey("order", "meta.wcsinfo.spectral_order", optional=True))
    assert row_values(optional, meta, table) == {"filter": "F200W"}     # no "order" column: dropped


def test_time_correction_laws():
    lin = np.array([(60000.0, 0.01)], dtype=[("t0", "f8"), ("lossperyear", "f8")])
    c = time_correction(1, {"timecoeff_linear": lin}, 60365.0)
    assert c[0] == pytest.approx(0.99)
    assert conversion_factor(np.float32(2.0), 1.0) == np.float32(2.0)
    assert conversion_factor(np.float32(2.0), c[0]) == pytest.approx(2.0 / 0.99)
    data = np.array([[1.0, np.nan]], np.float32)
    err = np.ones((1, 2), np.float32)
    q = np.zeros((1, 2), np.uint32)
    var = np.ones((1, 2), np.float32)
    apply_conversion(np.float32(3.0), data, err, q, var_poisson=var)
    assert data[0, 0] == 3.0 and err[0, 0] == 3.0 and var[0, 0] == 9.0
    assert np.isnan(err[0, 1]) and q[0, 1] == dq.DO_NOT_USE


# -- parity ------------------------------------------------------------------------------
def _ref_meta(m, instrument, detector, reftype):
    m.meta.instrument.name = instrument
    m.meta.instrument.detector = detector
    m.meta.reftype = reftype
    m.meta.author = "jwcal test"
    m.meta.description = "jwcal test reference"
    m.meta.pedigree = "DUMMY"
    m.meta.useafter = "2015-01-01T00:00:00"
    m.meta.telescope = "JWST"


def write_photom(path, instrument, detector, rows, dtype, time_tables=None, pixar=None):
    from stdatamodels.jwst import datamodels

    cls = {"NIRCAM": datamodels.NrcImgPhotomModel, "NIRISS": datamodels.NisImgPhotomModel,
           "MIRI": datamodels.MirImgPhotomModel, "FGS": datamodels.FgsImgPhotomModel}[instrument]
    m = cls(phot_table=np.array(rows, dtype=dtype))
    for name, table in (time_tables or {}).items():
        setattr(m, name, table)
    _ref_meta(m, instrument, detector, "PHOTOM")
    m.meta.exposure.p_exptype = "ANY|"
    if pixar:
        m.meta.photometry.pixelarea_steradians, m.meta.photometry.pixelarea_arcsecsq = pixar
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.save(path)
    return str(path)


def write_area(path, instrument, detector, full, rng):
    from stdatamodels.jwst import datamodels

    a = datamodels.PixelAreaModel(data=rng.uniform(0.95, 1.05, full).astype(np.float32))
    _ref_meta(a, instrument, detector, "AREA")
    a.meta.photometry.pixelarea_steradians = 2.31e-14
    a.meta.photometry.pixelarea_arcsecsq = 0.000982
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a.save(path)
    return str(path)


def science(rng, shape, meta):
    arrays = dict(data=rng.normal(10.0, 2.0, shape).astype(np.float32),
                  dq=(rng.random(shape) < 0.05).astype(np.uint32) * np.uint32(dq.HOT),
                  err=rng.uniform(0.1, 1.0, shape).astype(np.float32),
                  var_poisson=rng.uniform(0.01, 0.5, shape).astype(np.float32),
                  var_rnoise=rng.uniform(0.01, 0.5, shape).astype(np.float32),
                  var_flat=rng.uniform(0.0, 0.01, shape).astype(np.float32))
    arrays["data"][2, 3] = np.nan
    arrays["dq"][5, 5] |= np.uint32(dq.DO_NOT_USE)
    return arrays


def _set_meta(m, meta, std):
    for sec, d in meta.items():
        for k, v in d.items():
            if std:
                setattr(getattr(m.meta, sec), k, v)
            else:
                m.meta.set(f"{sec}.{k}", v)


def _plugin(instrument):
    if instrument == "NIRCAM":
        from jwcal_nircam.imaging import ROW_KEYS, NircamPlugin as cls
    elif instrument == "NIRISS":
        from jwcal_niriss.imaging import ROW_KEYS, NirissPlugin as cls
    elif instrument == "MIRI":
        from jwcal_miri.imaging import ROW_KEYS, MiriPlugin as cls
    else:
        from jwcal_fgs.imaging import ROW_KEYS, FgsPlugin as cls
    return cls(instrument=instrument, row_keys=ROW_KEYS)


_NRC = [("filter", "S12"), ("pupil", "S12"), ("subarray", "S17"), ("photmjsr", "<f4"), ("uncertainty", "<f4")]
_NIS = [("filter", "S12"), ("pupil", "S12"), ("photmjsr", "<f4"), ("uncertainty", "<f4")]
_MIR = [("filter", "S12"), ("subarray", "S17"), ("photmjsr", "<f4"), ("uncertainty", "<f4")]
_FGS = [("photmjsr", "<f4"), ("uncertainty", "<f4")]
_EXP = [("filter", "S12"), ("subarray", "S17"), ("t0", "<f4"), ("amplitude", "<f4"), ("tau", "<f4"), ("const", "<f4")]
_LIN = [("t0", "<f4"), ("lossperyear", "<f4")]

CASES = {
    "nircam-subarray-column": dict(
        inst="NIRCAM", det="NRCA1", exp="NRC_IMAGE", filt="F200W", pupil="CLEAR", sub=(1001, 33, "SUB64P"),
        full=(2048, 2048), dtype=_NRC,
        rows=[("F200W", "CLEAR", "FULL", 0.23, 0.01), ("F200W", "CLEAR", "SUB64P", 0.2417, 0.01),
              ("F150W", "CLEAR", "SUB64P", 0.31, 0.01)]),
    "niriss": dict(
        inst="NIRISS", det="NIS", exp="NIS_IMAGE", filt="F150W", pupil="CLEARP", sub=(1, 1985, "SUB64"),
        full=(2048, 2048), dtype=_NIS,
        rows=[("CLEAR", "F150W", 0.5, 0.01), ("F150W", "CLEARP", 0.3711, 0.01)],
        time={"timecoeff_linear": np.array([(59000.0, 0.004), (59000.0, 0.012)], dtype=_LIN)}),
    "miri-generic-fallback-time": dict(
        inst="MIRI", det="MIRIMAGE", exp="MIR_IMAGE", filt="F770W", sub=(413, 51, "SUB128"),
        full=(1024, 1032), dtype=_MIR,
        rows=[("F770W", "FULL", 0.41, 0.01), ("F770W", "GENERIC", 0.4373, 0.01), ("F560W", "GENERIC", 0.6, 0.01)],
        time={"timecoeff_exponential": np.array([("F770W", "FULL", 59720.0, 0.1, 300.0, 0.9),
                                                 ("F770W", "GENERIC", 59720.0, 0.12, 250.0, 0.88),
                                                 ("F560W", "GENERIC", 59720.0, 0.05, 200.0, 0.95)], dtype=_EXP)}),
    "fgs-first-row-no-area": dict(
        inst="FGS", det="GUIDER1", exp="FGS_IMAGE", sub=(901, 901, "SUB128CNTR"), full=(2048, 2048), dtype=_FGS,
        rows=[(1.7e-3, 1e-5)], area=False, pixar=(4.4e-14, 0.0046)),
}


@pytest.mark.parity
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("inverse", [False, True])
def test_parity_with_jwst(case, inverse, tmp_path, jwcal_pm):
    pytest.importorskip("jwst")
    from jwst.photom.photom import DataSet
    from stdatamodels.jwst import datamodels

    c = CASES[case]
    rng = np.random.default_rng(5)
    shape = (16, 24)
    xs, ys, subname = c["sub"]
    instrument = dict(name=c["inst"], detector=c["det"])
    if c.get("filt"):
        instrument["filter"] = c["filt"]
    if c.get("pupil"):
        instrument["pupil"] = c["pupil"]
    meta = dict(instrument=instrument, exposure=dict(type=c["exp"], mid_time=60300.25),
                observation=dict(date="2024-01-01", time="06:00:00"),
                subarray=dict(xstart=xs, ystart=ys, xsize=shape[1], ysize=shape[0], name=subname))
    photom = write_photom(tmp_path / "photom.fits", c["inst"], c["det"], c["rows"], c["dtype"], c.get("time"),
                          c.get("pixar"))
    area = write_area(tmp_path / "area.fits", c["inst"], c["det"], c["full"], rng) if c.get("area", True) else None
    arrays = science(rng, shape, meta)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        std = datamodels.ImageModel(**{k: v.copy() for k, v in arrays.items()})
        _set_meta(std, meta, True)
        theirs = DataSet(std, inverse=inverse).apply_photom(photom, area or "N/A")

    jwcal_pm.register_plugin(_plugin(c["inst"]), name="inst-rows")
    ours_in = ImageModel(**{k: v.copy() for k, v in arrays.items()})
    _set_meta(ours_in, meta, False)
    step = jwcal_pm.registry.step("photom")(override_photom=photom, override_area=area or "N/A", inverse=inverse)
    ours = step.run(ours_in, RunContext(pm=jwcal_pm)).model

    assert ours.meta.cal_step.photom == "COMPLETE"
    # tolerance: bit-identical float32 arrays, identical DQ and AREA, keywords equal
    for name in ("data", "err", "var_poisson", "var_rnoise", "var_flat"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name), err_msg=name)
    np.testing.assert_array_equal(ours.dq, theirs.dq)
    if area:
        np.testing.assert_array_equal(ours.area, theirs.area)
    else:
        assert not ours.has("area")
    p, q = ours.meta.photometry, theirs.meta.photometry
    assert p.conversion_megajanskys == float(q.conversion_megajanskys)
    assert p.conversion_microjanskys == float(q.conversion_microjanskys)
    assert p.pixelarea_steradians == q.pixelarea_steradians and p.pixelarea_arcsecsq == q.pixelarea_arcsecsq
    assert ours.meta.bunit_data == theirs.meta.bunit_data == ("DN/s" if inverse else "MJy/sr")
    if not inverse:
        assert not np.allclose(ours.data[np.isfinite(ours.data)], arrays["data"][np.isfinite(ours.data)])

    # The saved product carries the keywords in the SCI header.
    from astropy.io import fits

    hdr = fits.getheader(ours.save(tmp_path / "x_cal.fits"), "SCI")
    # (a FITS card keeps ~16 significant digits)
    assert hdr["PHOTMJSR"] == pytest.approx(float(q.conversion_megajanskys), rel=1e-15)
    assert hdr["BUNIT"] == ours.meta.bunit_data


def test_no_matching_row_or_no_row_keys_skips(tmp_path, jwcal_pm):
    photom = write_photom(tmp_path / "photom.fits", "NIRISS", "NIS", [("F150W", "CLEARP", 0.3, 0.01)], _NIS)
    m = ImageModel(data=np.ones((4, 4), np.float32))
    _set_meta(m, dict(instrument=dict(name="NIRISS", detector="NIS", filter="F444W", pupil="CLEARP"),
                      exposure=dict(type="NIS_IMAGE"),
                      subarray=dict(xstart=1, ystart=1, xsize=4, ysize=4, name="SUB4")), False)
    step = jwcal_pm.registry.step("photom")(override_photom=photom, override_area="N/A")
    out = step.run(m, RunContext(pm=jwcal_pm)).model
    assert out.meta.cal_step.photom == "SKIPPED"          # no plugin declares NIRISS row keys here
    jwcal_pm.register_plugin(_plugin("NIRISS"), name="niriss-rows")
    out = step.run(m, RunContext(pm=jwcal_pm)).model
    assert out.meta.cal_step.photom == "SKIPPED" and (out.data == 1).all()   # F444W has no row


@pytest.mark.parity
def test_cube_parity_with_jwst(tmp_path, jwcal_pm):
    """Per-integration products (CubeModel, NRC_TSIMAGE): one conversion for every plane."""
    pytest.importorskip("jwst")
    from jwst.photom.photom import DataSet
    from stdatamodels.jwst import datamodels

    from jwcore.datamodel import CubeModel

    rng = np.random.default_rng(9)
    shape = (3, 8, 10)
    meta = dict(instrument=dict(name="NIRCAM", detector="NRCA1", filter="F200W", pupil="CLEAR"),
                exposure=dict(type="NRC_TSIMAGE", mid_time=60300.25),
                subarray=dict(xstart=1, ystart=1, xsize=10, ysize=8, name="SUB64P"))
    photom = write_photom(tmp_path / "photom.fits", "NIRCAM", "NRCA1", [("F200W", "CLEAR", "SUB64P", 0.3, 0.01)], _NRC)
    area = write_area(tmp_path / "area.fits", "NIRCAM", "NRCA1", (2048, 2048), rng)
    arrays = {k: v for k, v in science(rng, shape[1:], meta).items()}
    arrays = {k: np.stack([v] * 3) for k, v in arrays.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        std = datamodels.CubeModel(**{k: v.copy() for k, v in arrays.items()})
        _set_meta(std, meta, True)
        theirs = DataSet(std).apply_photom(photom, area)
    jwcal_pm.register_plugin(_plugin("NIRCAM"), name="nircam-rows")
    ours_in = CubeModel(**{k: v.copy() for k, v in arrays.items()})
    _set_meta(ours_in, meta, False)
    ours = jwcal_pm.registry.step("photom")(override_photom=photom, override_area=area).run(
        ours_in, RunContext(pm=jwcal_pm)).model
    # tolerance: bit-identical float32, identical DQ and AREA
    for name in ("data", "err", "var_poisson", "var_rnoise", "var_flat", "area"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name), err_msg=name)
    np.testing.assert_array_equal(ours.dq, theirs.dq)
    assert ours.area.shape == (8, 10)
