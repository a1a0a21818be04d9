"""The ``resample`` step (drizzle to an ``_i2d``) against jwst 3.0's ResampleStep, plus flux
conservation, the image2 single-exposure mode, the mosaic WCS, and bounded memory.

Parity inputs: 4 dithered 64x64 NIRCam exposures written by jwcal (tests/stage3/_kit.py),
read by jwst through its own ModelLibrary from the same association file.

Tolerances (measured, then asserted):
* grid from ``pixel_scale_ratio`` (the default path), any kernel, weighting, rotation, shape,
  crpix/crval, fillval, pixmap interpolation, propagate_dq: SCI/WHT/CON/ERR/VAR_* and DQ
  bit-identical, same NaN pattern, FITS WCS keywords equal (measured: identical);
* grid from an absolute ``pixel_scale``: jwst derives the pixel-scale ratio from the input's
  mean pixel area, which spherical_geometry computes with Girard's theorem (the angle sum
  loses ~3e-5 of the area of a 64x64-pixel polygon; ours is exact to 1e-9, checked against a
  tangent-plane shoelace).  The ratio then differs by 1.5e-5, which scales ERR (1.5e-5) and
  VAR_* (3e-5) and, for kernels whose size follows the ratio, the footprints.  Asserted:
  square kernel SCI/WHT identical, ERR/VAR within 5e-5 relative; turbo SCI within 1e-5 of the
  peak (measured 4e-6), VAR within 5e-4 relative (measured 2.7e-4); the grid identical.
"""

from __future__ import annotations

import numpy as np
import pytest

from . import _kit

pytest.importorskip("drizzle")

ARRAYS = ("data", "wht", "con", "err", "var_rnoise", "var_poisson", "var_flat", "dq")


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resample")
    ex = _kit.make_exposures(folder, n=4, seed=3)
    return folder, ex, _kit.write_asn(folder, ex)


def run_ours(asn, folder, **kw):
    from jwcore.steps.resample.resample_step import ResampleStep

    return ResampleStep(**kw).run(_kit.jwcal_library(asn), _kit.run_context(folder / "out")).model


def run_jwst(asn, **kw):
    import warnings

    from jwst.resample import ResampleStep

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ResampleStep(**kw).run(str(asn))


def present(model, name, jwst=False):
    if jwst:
        return name in model.instance and np.asarray(getattr(model, name)).size > 0
    return model.has(name)


def compare(ours, theirs, exact=True, data_tol=0.0, var_tol=0.0):
    measured = {}
    for name in ARRAYS:
        assert present(ours, name) == present(theirs, name, jwst=True), name
        if not present(ours, name):
            continue
        a = np.asarray(getattr(ours, name), float)
        b = np.asarray(getattr(theirs, name), float)
        assert a.shape == b.shape, name
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        ok = np.isfinite(a) & np.isfinite(b)
        diff = np.abs(a[ok] - b[ok])
        if exact or name in ("con", "dq"):
            np.testing.assert_array_equal(a[ok], b[ok], err_msg=name)
        elif name == "data":
            assert diff.max() <= data_tol * np.nanmax(np.abs(b)), name
        elif name != "wht":
            rel = diff / np.maximum(np.abs(b[ok]), 1e-30)
            assert rel.max() <= var_tol, (name, rel.max())
        measured[name] = float(diff.max()) if diff.size else 0.0
    return measured


def compare_wcs(ours, theirs):
    assert ours.meta.wcs.pixel_shape == theirs.meta.wcs.pixel_shape
    ny, nx = ours.data.shape
    x, y = np.meshgrid(np.linspace(0, nx - 1, 7), np.linspace(0, ny - 1, 7))
    ra, dec = ours.meta.wcs(x, y)
    ra_j, dec_j = theirs.meta.wcs(x, y)
    assert np.max(np.hypot((ra - ra_j) * np.cos(np.radians(dec_j)), dec - dec_j)) < 1e-12
    info = ours.meta.wcsinfo.to_dict()
    for key in ("crpix1", "crpix2", "crval1", "crval2", "cdelt1", "cdelt2", "pc1_1", "pc1_2", "pc2_1", "pc2_2",
                "ctype1", "ctype2"):
        assert info[key] == getattr(theirs.meta.wcsinfo, key), key


CASES = {
    "default": {},
    "turbo-rotation-ratio": dict(kernel="turbo", pixfrac=0.7, pixel_scale_ratio=0.8, rotation=30.0, fillval="0"),
    "lanczos3-exptime-shape": dict(kernel="lanczos3", weight_type="exptime", output_shape=[90, 80],
                                   crpix=[45.0, 40.0], crval=[53.16, -27.78]),
    "point-noerr-dq": dict(kernel="point", pixfrac=0.5, enable_err=False, propagate_dq=True),
    "square-pixmap-spline": dict(pixmap_stepsize=8, pixmap_order=3, report_var=False),
}
SLOW_CASES = {"turbo-rotation-ratio", "point-noerr-dq"}


@pytest.mark.parity
@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW_CASES else c for c in CASES])
def test_resample_matches_jwst(field, case):
    pytest.importorskip("jwst")
    folder, _, asn = field
    ours = run_ours(asn, folder, **CASES[case])
    theirs = run_jwst(asn, **CASES[case])
    compare(ours, theirs, exact=True)          # tolerance: bit-identical
    compare_wcs(ours, theirs)
    assert ours.meta.resample.pointings == theirs.meta.resample.pointings == 4
    assert ours.meta.exposure.exposure_time == pytest.approx(theirs.meta.exposure.exposure_time)
    assert ours.meta.photometry.pixelarea_steradians == pytest.approx(theirs.meta.photometry.pixelarea_steradians,
                                                                       rel=1e-12)


@pytest.mark.parity
@pytest.mark.parametrize("kernel, data_tol, var_tol", [("square", 0.0, 5e-5),
                                                       pytest.param("turbo", 1e-5, 5e-4, marks=pytest.mark.slow)])
def test_resample_pixel_scale_matches_jwst_to_its_area_rounding(field, kernel, data_tol, var_tol):
    pytest.importorskip("jwst")
    folder, _, asn = field
    kw = dict(pixel_scale=0.04, kernel=kernel)
    ours = run_ours(asn, folder, **kw)
    theirs = run_jwst(asn, **kw)
    assert ours.meta.resample.pixel_scale_ratio == pytest.approx(theirs.meta.resample.pixel_scale_ratio, rel=5e-5)
    compare(ours, theirs, exact=False, data_tol=data_tol, var_tol=var_tol)
    compare_wcs(ours, theirs)


@pytest.mark.parity
def test_custom_output_wcs_matches_jwst(field, tmp_path):
    """``output_wcs``: the grid of an earlier mosaic (an ASDF file), with another pixfrac.
    The output pixel scale then comes from the grid's mean pixel area (Girard's theorem in
    jwst): SCI/WHT/CON identical, ERR/VAR within 1e-4 (measured 3e-5)."""
    pytest.importorskip("jwst")
    import asdf

    folder, _, asn = field
    first = run_ours(asn, folder, rotation=15.0)
    path = tmp_path / "grid.asdf"
    asdf.AsdfFile({"wcs": first.meta.wcs}).write_to(path)
    ours = run_ours(asn, folder, output_wcs=str(path), pixfrac=0.6)
    theirs = run_jwst(asn, output_wcs=str(path), pixfrac=0.6)
    assert ours.data.shape == first.data.shape
    compare(ours, theirs, exact=False, data_tol=0.0, var_tol=1e-4)
    compare_wcs(ours, theirs)


def test_mean_pixel_area_is_exact():
    """Our spherical area vs a tangent-plane shoelace (exact to ~1e-10 at this size)."""
    from jwcore.steps.resample.geometry import polygon_area, tangent_project

    rng = np.random.default_rng(2)
    for _ in range(5):
        ra0, dec0 = rng.uniform(0, 360), rng.uniform(-80, 80)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 7))
        r = rng.uniform(1, 3, 7) / 3600.0
        ra = ra0 + r * np.cos(ang) / np.cos(np.radians(dec0))
        dec = dec0 + r * np.sin(ang)
        x, y = tangent_project(ra, dec, ra0, dec0)
        flat = 0.5 * abs(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
        assert polygon_area(ra, dec) == pytest.approx(flat, rel=1e-9)


@pytest.mark.parametrize("kernel", ["square", "point", "turbo"])
def test_point_source_flux_is_conserved(tmp_path, kernel):
    """Noiseless stars: flux in the i2d (sum x output pixel area) equals the flux in each
    exposure (sum x mean input pixel area) within 0.2% (the distortion changes the pixel area
    by <0.1% across a 64-pixel window)."""
    from jwcore.datamodel import open_model
    from jwcore.steps.resample.resample_wcs import mean_pixel_area

    ex = _kit.make_exposures(tmp_path, n=3, seed=4, noiseless=True, n_outliers=0, dead_pixels=0, n_stars=6,
                             flux_range=(1e-6, 4e-6))
    asn = _kit.write_asn(tmp_path, ex)
    pixfrac = 1.0 if kernel == "square" else 0.8
    i2d = run_ours(asn, tmp_path, kernel=kernel, pixfrac=pixfrac)
    out_area = i2d.meta.photometry.pixelarea_steradians
    m0 = open_model(ex[0].path)
    in_area = mean_pixel_area(m0.meta.wcs, m0.data.shape)
    checked = 0
    for x, y, _ in ex[0].stars:
        if not (12 < x < 52 and 12 < y < 52):
            continue
        ra, dec = m0.meta.wcs(x, y)
        xo, yo = i2d.meta.wcs.invert(ra, dec)
        yy, xx = np.mgrid[0:64, 0:64]
        f_in = np.sum(m0.data[np.hypot(xx - x, yy - y) < 9]) * in_area
        ny, nx = i2d.data.shape
        yy, xx = np.mgrid[0:ny, 0:nx]
        sel = np.hypot(xx - xo, yy - yo) < 9
        assert np.all(np.isfinite(i2d.data[sel]))
        f_out = np.sum(i2d.data[sel]) * out_area
        assert f_out == pytest.approx(f_in, rel=2e-3)
        checked += 1
    assert checked >= 1


def test_i2d_product_is_complete_and_readable_by_stdatamodels(field, tmp_path):
    folder, _, asn = field
    i2d = run_ours(asn, folder)
    path = tmp_path / "x_i2d.fits"
    i2d.save(path)
    from astropy.io import fits

    with fits.open(path) as h:
        names = {hdu.name for hdu in h}
        assert {"SCI", "ERR", "CON", "WHT", "VAR_POISSON", "VAR_RNOISE", "VAR_FLAT"} <= names
        hdr = h["SCI"].header
        assert hdr["CTYPE1"] == "RA---TAN" and hdr["CRPIX1"] == i2d.meta.wcsinfo.crpix1
        assert "A_ORDER" not in hdr and "V2_REF" not in hdr
    assert i2d.meta.cal_step.resample == "COMPLETE"
    assert i2d.meta.resample.pointings == 4 and i2d.meta.resample.weight_type == "ivm"
    assert i2d.meta.wcsinfo.s_region.startswith("POLYGON ICRS")
    stdm = pytest.importorskip("stdatamodels.jwst.datamodels")
    with stdm.ImageModel(str(path)) as m:
        ra, dec = m.meta.wcs(10.0, 20.0)
        ra2, dec2 = i2d.meta.wcs(10.0, 20.0)
        assert abs(ra - ra2) < 1e-12 and abs(dec - dec2) < 1e-12
        np.testing.assert_array_equal(m.data, i2d.data)


@pytest.mark.parity
def test_single_exposure_i2d_extra_product_matches_jwst(field, tmp_path):
    """image2's mode: the input comes back unchanged and the i2d is an extra product."""
    pytest.importorskip("jwst")
    from jwcore.datamodel import open_model
    from jwcore.steps.resample.resample_step import ResampleStep

    folder, ex, _ = field
    model = open_model(ex[1].path)
    before = model.data.copy()
    result = ResampleStep(extra_product=True).run(model, _kit.run_context(tmp_path))
    assert result.model is model and set(result.extras) == {"i2d"}
    np.testing.assert_array_equal(model.data, before)
    theirs = run_jwst(ex[1].path)
    compare(result.extras["i2d"], theirs, exact=True)      # tolerance: bit-identical
    compare_wcs(result.extras["i2d"], theirs)


def test_image2_pipeline_writes_cal_and_i2d(field, tmp_path, jwcal_pm):
    """The generic image2 pipeline ends with resample: _cal is the product, _i2d the extra."""
    from jwcore.datamodel import open_model
    from jwcore.runner import Pipeline, RunContext

    folder, ex, _ = field
    spec = jwcal_pm.registry.pipeline("image2")
    assert spec.step_names[-1] == "resample"
    cfg = {"steps": {s: {"skip": True} for s in ("bkg_subtract", "assign_wcs", "flat_field", "photom")}}
    ctx = RunContext(pm=jwcal_pm, input_path=ex[0].path, output_dir=tmp_path)
    out = Pipeline(spec, jwcal_pm.registry, cfg).run(open_model(ex[0].path), ctx)
    assert set(out.extras) == {"i2d"}
    names = sorted(p.name for p in tmp_path.glob("*.fits"))
    base = ex[0].path.name.replace("_cal.fits", "")
    assert names == [f"{base}_cal.fits", f"{base}_i2d.fits"]


def test_single_mode_writes_one_image_per_group(field, tmp_path):
    from jwcore.steps.resample.resample_step import ResampleStep

    folder, ex, asn = field
    lib = ResampleStep(single=True).run(_kit.jwcal_library(asn), _kit.run_context(tmp_path)).model
    assert len(lib) == 4
    names = sorted(p.name for p in tmp_path.glob("*_outlier_i2d.fits"))
    assert names == sorted(e.path.name.replace("_cal.fits", "_a3001_outlier_i2d.fits") for e in ex)
    with lib.open(0) as m:
        assert m.has("wht") and m.has("err") and not m.has("var_rnoise")


def test_bad_parameters_are_errors(field):
    from jwcore.errors import ParameterError

    folder, _, asn = field
    with pytest.raises(ParameterError):
        run_ours(asn, folder, pixfrac=1.5)
    with pytest.raises(ParameterError):
        run_ours(asn, folder, output_shape=[10])
