"""End to end, stage 2: jwcal's ``image2`` against jwst 3.0's own ``Image2Pipeline`` class on
exposures simulated by jwcal, one per imaging EXP_TYPE.

Per case: jwcal's simulator writes a small subarray exposure (few groups, no cosmic rays,
fixed seed) and its reference store; ``jwcal run`` takes it through stage 1 and ``image2``
(_rate -> _cal, plus the single-exposure _i2d).  jwst's ``Image2Pipeline.call`` (CRDS off:
every reference type of every sub-step is an ``override_<reftype>``) then runs on the SAME
stage-1 product with the files jwcal recorded in its _cal (``meta.ref_file.<type>.name``),
``N/A`` for the types jwcal recorded none of (what CRDS answers for them, e.g. FGS has no
FILTEROFFSET).

Tolerances (measured: every array bit-identical, WCS differences exactly 0):
* SCI, ERR, VAR_POISSON, VAR_RNOISE, VAR_FLAT, AREA: 0 float32 ulp (bit-identical), the same
  NaN pattern; DQ identical;
* WCS (gwcs from the ASDF extension, at a 9x9 grid over the array): forward pixel -> RA/Dec
  < 1 mas, backward RA/Dec -> pixel < 1e-3 pixel (jwcal's inverse vs jwst's, and jwcal's
  round trip); the same bounding box;
* the SCI extension header (photometry keywords, FITS SIP WCS, S_REGION) identical keyword by
  keyword, except EXTVER (jwst writes EXTVER = 1, jwcal none);
* _i2d (both write one exactly for the EXP_TYPEs jwst resamples: MIR_IMAGE, NRC_IMAGE,
  NIS_IMAGE, FGS_IMAGE, 2-D data only): SCI, ERR, WHT, VAR_* 0 ulp, CON identical, the SCI
  header identical except EXTVER and S_REGION; S_REGION is the same polygon (each of jwcal's
  vertices within 1 mas of one of jwst's, each of jwst's within 1 mas of jwcal's outline):
  jwcal's mosaic S_REGION is the convex hull of the input footprints listed counter-clockwise
  in the pixel frame (jwcore/steps/resample/resample.py, combined_sregion), jwst's the union
  polygon from spherical geometry, which lists the corners in the other sense and may add
  collinear points.

Documented jwst behaviour both reproduce (asserted as equal, not worked around):
* a subarray whose SUBSTRT1 = SUBSTRT2 = 1 (NIRISS SUB64, NIRCam SUB64P) is treated by jwst's
  assign_wcs as full frame (``subarray_transform`` returns None), so the WCS keeps the
  distortion reference's full-detector bounding box and the single-exposure _i2d of a 64x64
  NIS exposure covers the whole detector footprint (about 2059 x 2043 pixels);
* jwst's photom cuts the exposure's window out of the AREA reference by SUBSTRT/SUBSIZE alone,
  so the AREA reference must be full frame (the simulator now always writes it so).

Metadata jwcal records and jwst does not (reported, not asserted): S_BKDSUB = SKIPPED in a
_cal made without background members (jwst does not call the step), and S_RESAMP on the _cal
(jwst sets it only in the _i2d).

Cases: NRC_IMAGE, NIS_IMAGE, MIR_IMAGE, FGS_IMAGE, a TSO imaging cube (NRC_TSIMAGE, stage 2
from the _rateints to a _calints; jwst does not resample it), a coronagraphic exposure
(NRC_CORON, _rateints -> _calints; the simulator has no occulting masks, so this checks the
route), a target acquisition (NIS_TACQ: imaging WCS, flat and photom, no _i2d) and NIRSpec
imaging (NRS_IMAGE: the optical-model WCS; no PHOTOM/AREA, photom SKIPPED in both).  The TSO,
coronagraphic and TACQ exposures are simulated with the detector's EXP_TYPE replaced, so the
exposure and its reference set (P_EXPTYPE) carry it.
"""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import pytest

pytest.importorskip("jwst")

from astropy.io import fits  # noqa: E402

from . import kit  # noqa: E402
from .kit import Case  # noqa: E402

pytestmark = pytest.mark.parity

MAX_ULP = 0             # float32 arrays: bit-identical
MAX_FORWARD_MAS = 1.0   # pixel -> sky
MAX_BACKWARD_PIX = 1e-3  # sky -> pixel

CASES = [
    Case("NRC_IMAGE", "NIRCAM", "NRCA1", "SUB160", "F200W", ngroups=4, i2d=True),
    Case("NIS_IMAGE", "NIRISS", "NIS", "SUB64", "F150W", ngroups=5, i2d=True),
    Case("MIR_IMAGE", "MIRI", "MIRIMAGE", "SUB64", "F770W", ngroups=5, i2d=True),
    Case("FGS_IMAGE", "FGS", "GUIDER1", "SUB32CNTR", None, ngroups=5, i2d=True),
    Case("NRC_TSIMAGE", "NIRCAM", "NRCA1", "SUB64P", "F200W", ngroups=4, nints=3),
    Case("NIS_TACQ", "NIRISS", "NIS", "SUB64", "F480M", ngroups=5),
    # coronagraphic imaging (route only: the simulator has no occulting masks): _rateints -> _calints
    Case("NRC_CORON", "NIRCAM", "NRCA2", "SUB64P", "F210M", ngroups=4, nints=2),
    # NIRSpec imaging: the optical-model WCS; no PHOTOM/AREA (CRDS N/A: photom SKIPPED in both)
    Case("NRS_IMAGE", "NIRSPEC", "NRS2", "SUB512", "F110W", ngroups=4, photom=False,
         wcs_refs=("fpa", "camera", "disperser", "collimator", "wavelengthrange", "fore", "ote")),
]

# reference types Image2Pipeline asks for that the simulator writes (the store has them);
# any other Image2 type is N/A for these modes
IMAGE2_TYPES = {"distortion", "filteroffset", "flat", "photom", "area"}


@pytest.fixture(scope="module", params=CASES, ids=[c.id for c in CASES])
def run(request, tmp_path_factory):
    """Simulate, run jwcal and jwst once per case; the tests below compare the products."""
    case = request.param
    folder = tmp_path_factory.mktemp(case.id)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)        # nothing either pipeline writes lands in the repository
        t0 = time.perf_counter()
        products = kit.jwcal_products(case, folder)
        t1 = time.perf_counter()
        recorded = kit.recorded_references(products.cal)
        steps = kit.jwst_overrides(recorded, products.refs)
        kit.run_jwst(products.rate, steps, folder / "jwst")
        t2 = time.perf_counter()
    theirs = folder / "jwst" / products.cal.name
    assert theirs.exists(), sorted(p.name for p in (folder / "jwst").iterdir())
    ji2d = folder / "jwst" / products.cal.name.replace("_calints", "_i2d").replace("_cal", "_i2d")
    print(f"{case.id}: simulate + jwcal {t1 - t0:.1f} s, jwst Image2Pipeline {t2 - t1:.1f} s")
    return dict(case=case, ours=products, theirs=theirs, their_i2d=ji2d if ji2d.exists() else None,
                recorded=recorded, steps=steps)


def test_same_reference_files(run):
    """jwcal recorded a file for every image2 reference type the simulated store holds, and
    jwst ran with exactly those (its R_* keywords name the same files)."""
    case = run["case"]
    types = set(case.wcs_refs) | {"flat"} | ({"photom", "area"} if case.photom else set())
    store = json.loads((run["ours"].refs / "store.json").read_text())
    in_store = {e["reftype"] for e in store["files"]} & types
    expected = types - ({"filteroffset"} if case.instrument == "FGS" else set())
    assert in_store == expected
    assert {k for k in run["recorded"] if k in types | IMAGE2_TYPES} == expected
    h_ours, h_theirs = fits.getheader(run["ours"].cal), fits.getheader(run["theirs"])
    r_keys = {k for k in h_theirs if k.startswith("R_")}
    assert len(r_keys) >= len(expected)
    for key in r_keys:
        ours, theirs = h_ours.get(key, "N/A"), h_theirs.get(key, "N/A")
        assert ours.rsplit("/", 1)[-1] == theirs.rsplit("/", 1)[-1], key
    for key in ("S_WCS", "S_FLAT"):
        assert h_ours[key] == h_theirs[key] == "COMPLETE", key
    assert h_ours["S_PHOTOM"] == h_theirs["S_PHOTOM"] == ("COMPLETE" if case.photom else "SKIPPED")


def test_cal_arrays_bit_identical(run):
    ntimes = 0
    with fits.open(run["ours"].cal) as a, fits.open(run["theirs"]) as b:
        for name in kit.CAL_ARRAYS:
            if name == "AREA" and not run["case"].photom:      # no AREA reference, no extension
                assert "AREA" not in a and "AREA" not in b
                continue
            x, y = a[name].data, b[name].data
            assert x.shape == y.shape, name
            assert x.shape[-2:] == a["SCI"].data.shape[-2:] and x.size > 0, name
            assert np.array_equal(np.isnan(x), np.isnan(y)), name
            assert kit.ulp_distance(x, y) <= MAX_ULP, name
        np.testing.assert_array_equal(a["DQ"].data, b["DQ"].data)
        assert np.isfinite(a["SCI"].data).mean() > 0.8    # not all NaN (SUB64 at a corner: 12% reference pixels)
        if run["case"].per_integration:
            assert a["SCI"].data.ndim == 3 and a["SCI"].data.shape[0] == run["case"].nints
            ta, tb = a["INT_TIMES"].data, b["INT_TIMES"].data
            assert ta.dtype.names == tb.dtype.names
            for col in ta.dtype.names:
                np.testing.assert_array_equal(ta[col], tb[col], err_msg=col)
            ntimes = len(ta)
    assert ntimes == (run["case"].nints if run["case"].per_integration else 0)


def test_cal_sci_header_identical(run):
    _assert_same_header(fits.getheader(run["ours"].cal, "SCI"), fits.getheader(run["theirs"], "SCI"),
                        ignore={"EXTVER"})


def test_wcs_matches_jwst(run):
    ours, theirs = kit.open_wcs_model(run["ours"].cal), kit.open_wcs_model(run["theirs"])
    try:
        d = kit.wcs_differences(ours.meta.wcs, theirs.meta.wcs, ours.data.shape)
        assert d["forward_mas"] < MAX_FORWARD_MAS, d
        assert d["backward_pix"] < MAX_BACKWARD_PIX, d
        assert d["roundtrip_pix"] < MAX_BACKWARD_PIX, d
        assert ours.meta.wcs.bounding_box.bounding_box(order="F") == \
            theirs.meta.wcs.bounding_box.bounding_box(order="F")
        assert ours.meta.wcsinfo.s_region == theirs.meta.wcsinfo.s_region
    finally:
        ours.close()
        theirs.close()


def test_jwcal_cal_is_a_valid_jwst_product(run):
    """The _cal opens as stdatamodels' ImageModel (a _calints as CubeModel), validates
    against its schema, and its gwcs (from the ASDF extension) evaluates."""
    from stdatamodels.jwst import datamodels
    from stdatamodels.validate import ValidationWarning

    cls = datamodels.CubeModel if run["case"].per_integration else datamodels.ImageModel
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with cls(str(run["ours"].cal)) as m:
            m.validate()
            x, y = kit.pixel_grid(m.data.shape, 5)
            ra, dec = m.meta.wcs(x, y)
            assert np.all(np.isfinite(ra)) and np.all(np.isfinite(dec))
            xb, yb = m.meta.wcs.invert(ra, dec)
            assert np.max(np.hypot(xb - x, yb - y)) < MAX_BACKWARD_PIX
            assert m.meta.exposure.type == run["case"].exp_type
            assert m.meta.bunit_data == ("MJy/sr" if run["case"].photom else "DN/s")
    assert not [w for w in caught if issubclass(w.category, ValidationWarning)], [str(w.message) for w in caught]


def test_i2d_written_by_both_or_neither(run):
    ours, theirs = run["ours"].i2d, run["their_i2d"]
    assert (ours is not None) == (theirs is not None) == run["case"].i2d
    if ours is None:
        return
    with fits.open(ours) as a, fits.open(theirs) as b:
        for name in ("SCI", "ERR", "WHT", "VAR_POISSON", "VAR_RNOISE", "VAR_FLAT"):
            x, y = a[name].data, b[name].data
            assert x.shape == y.shape, name
            assert np.array_equal(np.isnan(x), np.isnan(y)), name
            assert kit.ulp_distance(x, y) <= MAX_ULP, name
        np.testing.assert_array_equal(a["CON"].data, b["CON"].data)
        assert np.isfinite(a["SCI"].data).sum() > 0.5 * np.prod(fits.getdata(run["ours"].cal).shape)
        assert a[0].header["S_RESAMP"] == b[0].header["S_RESAMP"] == "COMPLETE"
        _assert_same_header(a["SCI"].header, b["SCI"].header, ignore={"EXTVER", "S_REGION"})
        _assert_same_polygon(a["SCI"].header["S_REGION"], b["SCI"].header["S_REGION"])
    mo, mt = kit.open_wcs_model(ours), kit.open_wcs_model(theirs)
    try:
        d = kit.wcs_differences(mo.meta.wcs, mt.meta.wcs, mo.data.shape)
        assert d["forward_mas"] < MAX_FORWARD_MAS and d["backward_pix"] < MAX_BACKWARD_PIX, d
    finally:
        mo.close()
        mt.close()


# -- helpers ---------------------------------------------------------------------------------
def _assert_same_header(ours, theirs, ignore):
    keys = [k for k in dict.fromkeys(list(ours) + list(theirs))
            if k and k not in ("COMMENT", "HISTORY") and k not in ignore]
    differ = {k: (ours.get(k), theirs.get(k)) for k in keys if ours.get(k) != theirs.get(k)}
    assert not differ, differ


def _polygon(text):
    vals = np.array(text.split()[2:], float).reshape(-1, 2)
    return vals[:, 0], vals[:, 1]


def _assert_same_polygon(ours, theirs):
    """Same outline: every vertex of each within 1 mas of the other's outline (a flat
    tangent-plane approximation, fine for a field of a few arcminutes)."""
    (ra_o, dec_o), (ra_t, dec_t) = _polygon(ours), _polygon(theirs)
    dec0 = np.radians(np.mean(dec_t))

    def xy(ra, dec):
        return np.column_stack([ra * np.cos(dec0), dec]) / kit.MAS

    po, pt = xy(ra_o, dec_o), xy(ra_t, dec_t)

    def distance_to_outline(points, poly):
        a, b = poly, np.roll(poly, -1, axis=0)
        ab = b - a
        t = np.clip(np.einsum("pij,ij->pi", points[:, None, :] - a[None], ab) / np.einsum("ij,ij->i", ab, ab), 0, 1)
        nearest = a[None] + t[..., None] * ab[None]
        return np.min(np.hypot(*(points[:, None, :] - nearest).transpose(2, 0, 1)), axis=1)

    assert len(po) >= 3 and len(pt) >= 3
    # jwcal's vertices are jwst's corners
    assert np.all(np.min(np.hypot(*(po[:, None, :] - pt[None]).transpose(2, 0, 1)), axis=1) < 1.0), (ours, theirs)
    # and jwst's (possibly extra, collinear) vertices lie on jwcal's outline
    assert np.all(distance_to_outline(pt, po) < 1.0), (ours, theirs)
