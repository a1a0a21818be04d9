"""Absolute astrometric alignment from tables (jwcore.astrometry, jwcal align, astrometric_align).

Checks against astropy's spherical geometry (SkyCoord offsets, separations and position
angles), not against the code under test:

* a shift row moves every source by the tabulated east/north offsets (tolerance 1 mas);
* a rotation row turns sources about the tabulated centre: separations kept (< 1 micro-arcsec),
  position angles increased by the rotation (< 1e-6 deg);
* the SCI header's FITS WCS (SIP for exposures, TAN for i2d) agrees with the corrected gwcs
  (< 0.01 pixel) and the gwcs inverse still returns the original pixels (< 1e-6 pixel).
"""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.modeling import models as am
from astropy.table import Table
from astropy.wcs import WCS

from jwcore.astrometry import SkyCorrection, apply_correction, keys_for, read_alignment_table
from jwcore.datamodel import ImageModel, build_hdulist, open_model
from jwcore.errors import BadInputError
from jwcore.wcs.fitsapprox import apply_sip_keywords, sip_keywords
from jwcore.wcs.imaging import Pointing, detector_to_v2v3, imaging_wcs

MAS = 1e-3   # arcsec
NAME = "jw01234001001_01101_00001_nrca1_cal.fits"
GRID = np.meshgrid(np.linspace(0, 63, 7), np.linspace(0, 63, 7))


def exposure(name=NAME, visit="001", curved=False):
    """A 64x64 exposure; ``curved``: with a quadratic distortion (so its FITS WCS needs SIP)."""
    if curved:
        px = am.Shift(-31.5) & am.Shift(-31.5)
        fx = am.Polynomial2D(2, c1_0=0.031, c2_0=2e-5, c1_1=1e-5)
        fy = am.Polynomial2D(2, c0_1=0.0312, c0_2=-2e-5, c1_1=1.5e-5)
        dist = px | am.Mapping((0, 1, 0, 1)) | (fx & fy) | (am.Shift(120.0) & am.Shift(-500.0))
    else:
        dist = ((am.Shift(-31.5) & am.Shift(-31.5)) | (am.Scale(0.031) & am.Scale(0.0312))
                | (am.Shift(120.0) & am.Shift(-500.0)))
    det = detector_to_v2v3(dist, shape=(64, 64))
    wcs = imaging_wcs(det, Pointing(120.0, -500.0, 30.0, 53.16, -27.78, 1.00001))
    m = ImageModel(data=np.zeros((64, 64), np.float32))
    m.meta.filename = name
    m.meta.observation.program_number, m.meta.observation.observation_number = "01234", "001"
    m.meta.observation.visit_number = visit
    m.meta.wcs = wcs
    info = m.tree["meta"].setdefault("wcsinfo", {})
    info.update(crpix1=32.5, crpix2=32.5, ra_ref=53.16, dec_ref=-27.78)
    apply_sip_keywords(info, sip_keywords(wcs, crpix=[32.5, 32.5]))
    return m


def i2d(name="jw01234-o001_t001_nircam_clear-f200w_i2d.fits"):
    """A resampled-image gwcs: pixel -> TAN (0.03"/px, rotated 20 deg) -> sky, PC/CDELT keywords."""
    from gwcs import WCS as GWCS
    from gwcs import coordinate_frames as cf

    scale = 0.03 / 3600
    t = np.radians(20.0)
    pc = np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]])
    fwd = ((am.Shift(-49.5) & am.Shift(-39.5)) | am.AffineTransformation2D(matrix=pc * scale)
           | am.Pix2Sky_TAN() | am.RotateNative2Celestial(53.16, -27.78, 180.0))
    det = cf.Frame2D(name="detector", unit=(u.pix, u.pix))
    sky = cf.CelestialFrame(reference_frame=__import__("astropy.coordinates", fromlist=["ICRS"]).ICRS(), name="world")
    w = GWCS([(det, fwd), (sky, None)])
    w.bounding_box = ((-0.5, 99.5), (-0.5, 79.5))
    m = ImageModel(data=np.zeros((80, 100), np.float32))
    m.meta.filename = name
    m.tree["meta"]["wcsinfo"] = dict(ctype1="RA---TAN", ctype2="DEC--TAN", crpix1=50.5, crpix2=40.5, crval1=53.16,
                                     crval2=-27.78, cdelt1=scale, cdelt2=scale, pc1_1=pc[0, 0], pc1_2=pc[0, 1],
                                     pc2_1=pc[1, 0], pc2_2=pc[1, 1], cunit1="deg", cunit2="deg")
    m.meta.wcs = w
    return m


def sky(wcs, x, y):
    ra, dec = wcs(x, y)
    return SkyCoord(ra * u.deg, dec * u.deg)


def header_wcs(model):
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        return WCS(build_hdulist(model)["SCI"].header)


@pytest.mark.parametrize("curved", [False, True])
def test_shift_moves_sources_by_tabulated_offsets(tmp_path, curved):
    m = exposure(curved=curved)
    assert ("a_order" in m.meta.wcsinfo) == curved
    before = sky(m.meta.wcs, *GRID)
    t = Table({"file": [NAME.replace("_cal.fits", "")], "dra": [0.5], "ddec": [-0.3]})
    t.write(tmp_path / "t.ecsv")
    tab = read_alignment_table(tmp_path / "t.ecsv")
    what, value, corr = tab.lookup(keys_for(m.meta))
    assert (what, value) == ("file", "jw01234001001_01101_00001_nrca1")
    apply_correction(m, corr)
    after = sky(m.meta.wcs, *GRID)
    dlon, dlat = before.spherical_offsets_to(after)
    np.testing.assert_allclose(dlon.to_value(u.arcsec), 0.5, atol=MAS)
    np.testing.assert_allclose(dlat.to_value(u.arcsec), -0.3, atol=MAS)
    # the inverse still works: corrected sky -> original pixels
    if not curved:   # (the curved test distortion has no inverse; gwcs 1.0 cannot invert it numerically)
        x, y = m.meta.wcs.invert(after.ra.deg, after.dec.deg)
        np.testing.assert_allclose(x, GRID[0], atol=1e-6)
        np.testing.assert_allclose(y, GRID[1], atol=1e-6)
    # FITS keywords (refitted SIP) agree with the corrected gwcs
    hw = header_wcs(m)
    assert hw.wcs.ctype[0] == ("RA---TAN-SIP" if curved else "RA---TAN")
    px, py = hw.world_to_pixel(after)
    np.testing.assert_allclose(px, GRID[0], atol=0.01)
    np.testing.assert_allclose(py, GRID[1], atol=0.01)
    assert m.meta.get("jwcal.alignment")[0]["dra"] == 0.5


def test_rotation_about_tabulated_centre(tmp_path):
    m = exposure()
    centre = SkyCoord(53.1605 * u.deg, -27.7795 * u.deg)
    before = sky(m.meta.wcs, *GRID)
    t = Table({"visit": ["jw01234001001"], "rotation": [0.05] * u.deg, "dra": [20.0] * u.mas,
               "ra0": [centre.ra.deg], "dec0": [centre.dec.deg]})
    t.write(tmp_path / "t.fits")
    tab = read_alignment_table(tmp_path / "t.fits")
    what, value, corr = tab.lookup(keys_for(m.meta))
    assert what == "visit" and corr.dra == pytest.approx(0.02)
    apply_correction(m, SkyCorrection(rotation=0.05, ra0=centre.ra.deg, dec0=centre.dec.deg))
    after = sky(m.meta.wcs, *GRID)
    np.testing.assert_allclose(centre.separation(after).to_value(u.arcsec),
                               centre.separation(before).to_value(u.arcsec), atol=1e-6)
    dpa = (centre.position_angle(after) - centre.position_angle(before)).wrap_at(180 * u.deg).deg
    np.testing.assert_allclose(dpa, 0.05, atol=1e-6)


def test_i2d_tan_keywords_follow(tmp_path):
    m = i2d()
    before = sky(m.meta.wcs, *GRID)
    apply_correction(m, SkyCorrection(dra=-0.12, ddec=0.07, rotation=0.01))
    after = sky(m.meta.wcs, *GRID)
    info = m.meta.wcsinfo
    assert info.pc1_1 is not None and info.get("cd1_1") is None and info.get("a_order") is None
    hw = header_wcs(m)
    px, py = hw.world_to_pixel(after)
    np.testing.assert_allclose(px, GRID[0], atol=1e-3)
    np.testing.assert_allclose(py, GRID[1], atol=1e-3)
    # about its own reference pixel, the centre moved by exactly the shift
    c0, c1 = sky(i2d().meta.wcs, 49.5, 39.5), sky(m.meta.wcs, 49.5, 39.5)
    dlon, dlat = c0.spherical_offsets_to(c1)
    assert abs(dlon.to_value(u.arcsec) + 0.12) < MAS and abs(dlat.to_value(u.arcsec) - 0.07) < MAS
    assert np.max(np.abs(before.ra.deg - after.ra.deg)) > 1e-5


def test_row_precedence_and_keys(tmp_path):
    t = Table({"file": ["jw01234001001_01101_00002_nrca1_cal.fits", "", "", "*"],
               "visit": ["", "jw01234001001", "", ""], "observation": ["", "", "jw01234-o001", ""],
               "dra": [1.0, 2.0, 3.0, 4.0], "ddec": [0.0, 0.0, 0.0, 0.0]})
    t.write(tmp_path / "t.csv")
    tab = read_alignment_table(tmp_path / "t.csv")
    assert len(tab) == 4
    m = exposure("jw01234001001_01101_00002_nrca1_cal.fits")
    assert tab.lookup(keys_for(m.meta))[2].dra == 1.0                   # file beats visit
    assert tab.lookup(keys_for(exposure().meta))[2].dra == 2.0           # visit
    assert tab.lookup(keys_for(exposure(visit="002").meta))[2].dra == 3.0  # observation
    assert tab.lookup(keys_for(i2d().meta))[2].dra == 3.0               # level-3 product by observation
    assert tab.lookup({"file": "jw09999001001_01101_00001_nrcb1"})[2].dra == 4.0
    bad = Table({"visit": ["jw1234"], "dra": [1.0]})
    bad.write(tmp_path / "bad.ecsv")
    with pytest.raises(BadInputError, match="not jwPPPPPOOOVVV"):
        read_alignment_table(tmp_path / "bad.ecsv")


def test_cli_align_and_step(jwcal_pm, tmp_path, capsys):
    from jwcore.cli.main import main

    a = tmp_path / "in" / NAME
    b = tmp_path / "in" / "jw01234002001_01101_00001_nrca1_cal.fits"
    a.parent.mkdir()
    exposure().save(a)
    m2 = exposure(b.name)
    m2.meta.observation.observation_number = "002"
    m2.save(b)
    Table({"visit": ["jw01234001001"], "dra": [0.25], "ddec": [0.4]}).write(tmp_path / "t.ecsv")

    def run(*args):
        try:
            return main(["align", *map(str, args)])
        except SystemExit as exc:
            return exc.code

    assert run(a, b, "--table", tmp_path / "t.ecsv", "-o", tmp_path / "out") == 1   # b has no row
    assert "no row of" in capsys.readouterr().err
    assert run(a, b, "--table", tmp_path / "t.ecsv", "-o", tmp_path / "out", "--missing", "skip") == 0
    assert not (tmp_path / "out" / b.name).exists()
    got = open_model(tmp_path / "out" / NAME)
    src = open_model(a)
    dlon, dlat = sky(src.meta.wcs, *GRID).spherical_offsets_to(sky(got.meta.wcs, *GRID))
    np.testing.assert_allclose(dlon.to_value(u.arcsec), 0.25, atol=MAS)
    np.testing.assert_allclose(dlat.to_value(u.arcsec), 0.4, atol=MAS)
    hdr = fits.getheader(tmp_path / "out" / NAME, "SCI")
    assert hdr["CRVAL1"] != fits.getheader(a, "SCI")["CRVAL1"]

    step = jwcal_pm.registry.step("astrometric_align")
    out = step(table=str(tmp_path / "t.ecsv")).run(exposure()).model
    assert out.meta.cal_step.astrometric_align == "COMPLETE"
    assert step(table=str(tmp_path / "t.ecsv")).run(m2).model.meta.cal_step.astrometric_align == "SKIPPED"
    assert step().run(exposure()).model.meta.cal_step.astrometric_align == "SKIPPED"


def test_matrix_column_equals_rotation_and_scale(tmp_path):
    """A 2x2 'matrix' row acts like the rotation/scale it encodes (tolerance 1e-9 deg)."""
    t = np.radians(0.02)
    s = 1.0001
    mat = s * np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
    Table({"file": ["*"], "matrix": [mat.ravel()], "dra": [0.1], "ddec": [0.0]}).write(tmp_path / "m.ecsv")
    corr = read_alignment_table(tmp_path / "m.ecsv").lookup({"file": "anything"})[2]
    a, b = exposure(), exposure()
    apply_correction(a, corr)
    apply_correction(b, SkyCorrection(dra=0.1, rotation=0.02, scale=s))
    pa, pb = sky(a.meta.wcs, *GRID), sky(b.meta.wcs, *GRID)
    assert np.max(pa.separation(pb).deg) < 1e-9
    c = sky(exposure().meta.wcs, 31.5, 31.5)       # the default centre: the reference pixel
    moved = sky(b.meta.wcs, 31.5, 31.5)
    dlon, dlat = c.spherical_offsets_to(moved)
    assert abs(dlon.to_value(u.arcsec) - 0.1) < MAS and abs(dlat.to_value(u.arcsec)) < MAS
