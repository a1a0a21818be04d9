"""Imaging WCS (jwcore.wcs + the plugins' jwcal_build_wcs + the assign_wcs step) vs jwst 3.0.

Parity: the same distortion / filteroffset files (written with stdatamodels in jwst's
DistortionModel / FilteroffsetModel layout, or real CRDS files) go to jwst's ``load_wcs`` +
``update_fits_wcsinfo`` (what AssignWcsStep.process runs) and to jwcal's assign_wcs step.

Tolerances: world coordinates agree to < 1 mas at an 11x11 grid of detector points (measured:
0, the two gwcs objects are built from the same transforms); the inverse agrees to < 1e-6
pixel; S_REGION identical; the FITS SIP keywords identical (gwcs fits both).
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("jwst")

from astropy.modeling import models as am  # noqa: E402

from jwcore.datamodel import ImageModel, open_model  # noqa: E402
from jwcore.errors import BadInputError, ReferenceFileError  # noqa: E402
from jwcore.runner import RunContext  # noqa: E402
from jwcore.wcs.reffiles import load_distortion  # noqa: E402

MAS = 1.0 / 3.6e6   # degrees


# -- reference files in jwst's layout ----------------------------------------------------
def write_distortion(path, instrument, detector, full_shape, *, scale=0.031, v2v3=(120.0, -500.0), bbox=None,
                     theta=0.7):
    """A polynomial full-frame pixel -> V2V3 (arcsec) transform with a fitted inverse."""
    from astropy.modeling.fitting import LinearLSQFitter
    from stdatamodels.jwst.datamodels import DistortionModel

    ny, nx = full_shape
    c, s = np.cos(np.radians(theta)), np.sin(np.radians(theta))
    px = am.Shift(-(nx - 1) / 2) & am.Shift(-(ny - 1) / 2)
    fx = am.Polynomial2D(3, c1_0=scale * c, c0_1=-scale * s, c2_0=2e-8, c0_2=-1e-8, c1_1=3e-8, c3_0=1e-12)
    fy = am.Polynomial2D(3, c1_0=scale * s, c0_1=scale * c * 1.002, c2_0=-1e-8, c1_1=2e-8, c0_3=-2e-12)
    fwd = px | am.Mapping((0, 1, 0, 1)) | (fx & fy) | (am.Shift(v2v3[0]) & am.Shift(v2v3[1]))
    xx, yy = np.meshgrid(np.linspace(0, nx - 1, 30), np.linspace(0, ny - 1, 30))
    v2, v3 = fwd(xx, yy)
    fit = LinearLSQFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # "poorly conditioned": fine for a test inverse
        inv = am.Mapping((0, 1, 0, 1)) | (fit(am.Polynomial2D(5), v2, v3, xx) & fit(am.Polynomial2D(5), v2, v3, yy))
    fwd.inverse = inv
    if bbox is not None:
        fwd.bounding_box = bbox[::-1]           # astropy's C order: (y, x)
    d = DistortionModel(model=fwd, input_units="pixel", output_units="arcsec")
    d.meta.instrument.name = instrument
    d.meta.instrument.detector = detector
    if instrument == "NIRCAM":
        d.meta.instrument.module, d.meta.instrument.channel, d.meta.instrument.p_pupil = "A", "SHORT", "CLEAR|"
    d.meta.reftype = "distortion"
    d.meta.author = d.meta.description = "jwcal test"
    d.meta.pedigree, d.meta.useafter = "DUMMY", "2015-01-01T00:00:00"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d.save(path)
    return str(path)


def write_filteroffset(path, instrument, filters):
    from stdatamodels.jwst.datamodels import FilteroffsetModel

    f = FilteroffsetModel(filters=filters, instrument=instrument)
    f.meta.author = f.meta.description = "jwcal test"
    f.meta.pedigree, f.meta.useafter = "DUMMY", "2015-01-01T00:00:00"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f.save(path)
    return str(path)


def exposure_meta(instrument, detector, exp_type, *, filt=None, pupil=None, sub=(1, 1, 64, 64, "FULL"),
                  va_scale=1.00001):
    xs, ys, nx, ny, name = sub
    return dict(
        instrument=dict(name=instrument, detector=detector, **({"filter": filt} if filt else {}),
                        **({"pupil": pupil} if pupil else {})),
        exposure=dict(type=exp_type), observation=dict(date="2023-01-01", time="00:00:00"),
        subarray=dict(xstart=xs, ystart=ys, xsize=nx, ysize=ny, name=name),
        wcsinfo=dict(v2_ref=121.0, v3_ref=-499.0, ra_ref=53.1, dec_ref=-27.8, roll_ref=37.0, v3yangle=-0.5,
                     vparity=-1, crpix1=nx / 2, crpix2=ny / 2, crval1=53.1, crval2=-27.8,
                     ctype1="RA---TAN", ctype2="DEC--TAN", cunit1="deg", cunit2="deg",
                     pc1_1=1.0, pc1_2=0.0, pc2_1=0.0, pc2_2=1.0, cdelt1=1e-5, cdelt2=1e-5),
        velocity_aberration=dict(scale_factor=va_scale),
    )


def jwst_wcs_model(meta, shape, reffiles):
    """What jwst's AssignWcsStep.process does (without CRDS): load_wcs + the SIP fit."""
    from jwst.assign_wcs.assign_wcs import load_wcs
    from jwst.assign_wcs.util import update_fits_wcsinfo
    from stdatamodels.jwst.datamodels import ImageModel as SImage

    s = SImage(np.zeros(shape, np.float32))
    for sec, d in meta.items():
        for k, v in d.items():
            setattr(getattr(s.meta, sec), k, v)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = load_wcs(s, dict(reffiles))
        update_fits_wcsinfo(s, max_pix_error=0.01, degree=None, max_inv_pix_error=0.01, inv_degree=None,
                            npoints=12, crpix=None)
    return s


def jwcal_model(meta, shape):
    m = ImageModel(data=np.zeros(shape, np.float32))
    for sec, d in meta.items():
        for k, v in d.items():
            m.meta.set(f"{sec}.{k}", v)
    return m


def plugin_for(instrument):
    """The instrument plugin's WCS/row-key part (its pipelines left out of these tests)."""
    if instrument == "NIRCAM":
        from jwcal_nircam.imaging import ROW_KEYS, NircamPlugin as cls
    elif instrument == "NIRISS":
        from jwcal_niriss.imaging import ROW_KEYS, NirissPlugin as cls
    elif instrument == "MIRI":
        from jwcal_miri.imaging import ROW_KEYS, MiriPlugin as cls
    elif instrument == "FGS":
        from jwcal_fgs.imaging import ROW_KEYS, FgsPlugin as cls
    else:
        from jwcal_nirspec.imaging import ROW_KEYS, NirspecPlugin as cls
    return cls(instrument=instrument, row_keys=ROW_KEYS)


def run_assign_wcs(pm, model, distortion, filteroffset):
    step = pm.registry.step("assign_wcs")(override_distortion=distortion or "N/A",
                                          override_filteroffset=filteroffset or "N/A")
    return step.run(model, RunContext(pm=pm)).model


def grid(wcs, n=11):
    (x0, x1), (y0, y1) = wcs.bounding_box.bounding_box(order="F")
    return np.meshgrid(np.linspace(x0 + 0.5, x1 - 0.5, n), np.linspace(y0 + 0.5, y1 - 0.5, n))


def assert_same_wcs(ours, theirs):
    x, y = grid(theirs)
    ra_j, dec_j = theirs(x, y)
    ra_c, dec_c = ours(x, y)
    assert np.all(np.isfinite(ra_j))
    dra = np.abs(ra_c - ra_j) * np.cos(np.radians(dec_j))
    # tolerance: < 1 mas on the sky, both directions (inverse: < 1e-6 pixel)
    assert np.max(np.hypot(dra, dec_c - dec_j)) < MAS
    xi_j, yi_j = theirs.invert(ra_j, dec_j)
    xi_c, yi_c = ours.invert(ra_j, dec_j)
    assert np.nanmax(np.abs(xi_c - xi_j)) < 1e-6 and np.nanmax(np.abs(yi_c - yi_j)) < 1e-6
    assert np.nanmax(np.abs(xi_c - x)) < 0.05      # and the inverse really inverts
    assert ours.bounding_box.bounding_box(order="F") == theirs.bounding_box.bounding_box(order="F")


def assert_same_wcsinfo(ours: dict, theirs: dict):
    assert set(ours) == set(theirs)
    for k, v in theirs.items():
        if isinstance(v, str):
            assert ours[k] == v, k
        else:
            assert ours[k] == pytest.approx(v, rel=1e-12, abs=1e-15), k


CASES = {
    "nircam-sub-offset": dict(instrument="NIRCAM", detector="NRCA1", exp_type="NRC_IMAGE", filt="F200W",
                              pupil="CLEAR", full=(2048, 2048), sub=(1001, 33, 64, 64, "SUB64P"),
                              offsets=[dict(filter="F200W", pupil="CLEAR", column_offset=0.35, row_offset=-0.21),
                                       dict(filter="F150W", pupil="CLEAR", column_offset=1.0, row_offset=1.0)]),
    "nircam-nomatch": dict(instrument="NIRCAM", detector="NRCB2", exp_type="NRC_TACQ", filt="F210M",
                           pupil="CLEAR", full=(2048, 2048), sub=(1, 1, 64, 64, "SUB64P"),
                           offsets=[dict(filter="F200W", pupil="CLEAR", column_offset=0.35, row_offset=-0.21)]),
    "niriss-sub-nooffset": dict(instrument="NIRISS", detector="NIS", exp_type="NIS_IMAGE", filt="F150W",
                                pupil="CLEARP", full=(2048, 2048), sub=(1, 1985, 96, 64, "SUB64"), offsets=None),
    "miri-full-bbox": dict(instrument="MIRI", detector="MIRIMAGE", exp_type="MIR_IMAGE", filt="F770W",
                           full=(1024, 1032), sub=(1, 1, 1032, 1024, "FULL"), bbox=((3.5, 1027.5), (-0.5, 1023.5)),
                           offsets=[dict(filter="F770W", column_offset=0.13, row_offset=-0.4),
                                    dict(filter="F560W", column_offset=0.2, row_offset=0.1)], scale=0.11),
    "miri-sub": dict(instrument="MIRI", detector="MIRIMAGE", exp_type="MIR_IMAGE", filt="F560W",
                     full=(1024, 1032), sub=(413, 51, 64, 64, "SUB64"), bbox=((3.5, 1027.5), (-0.5, 1023.5)),
                     offsets=[dict(filter="F560W", column_offset=0.2, row_offset=0.1)], scale=0.11, va=1.0),
    "fgs-sub": dict(instrument="FGS", detector="GUIDER1", exp_type="FGS_IMAGE", full=(2048, 2048),
                    sub=(901, 901, 128, 128, "SUB128CNTR"), offsets=None, scale=0.069, va=None),
}


@pytest.mark.parity
@pytest.mark.parametrize("case", list(CASES))
def test_imaging_wcs_parity(case, tmp_path, jwcal_pm):
    c = CASES[case]
    inst = c["instrument"]
    dist = write_distortion(tmp_path / "dist.asdf", inst, c["detector"], c["full"], scale=c.get("scale", 0.031),
                            bbox=c.get("bbox"))
    offs = write_filteroffset(tmp_path / "offs.asdf", inst, c["offsets"]) if c["offsets"] else None
    meta = exposure_meta(inst, c["detector"], c["exp_type"], filt=c.get("filt"), pupil=c.get("pupil"),
                         sub=c["sub"], va_scale=c.get("va", 1.00001))
    shape = (c["sub"][3], c["sub"][2])
    theirs = jwst_wcs_model(meta, shape, {"distortion": dist, "filteroffset": offs})

    jwcal_pm.register_plugin(plugin_for(inst), name=f"{inst.lower()}-wcs")
    ours = run_assign_wcs(jwcal_pm, jwcal_model(meta, shape), dist, offs)
    assert ours.meta.cal_step.assign_wcs == "COMPLETE"
    assert_same_wcs(ours.meta.wcs, theirs.meta.wcs)
    assert ours.meta.wcsinfo.s_region == theirs.meta.wcsinfo.s_region
    assert_same_wcsinfo(ours.tree["meta"]["wcsinfo"], theirs.meta.wcsinfo.instance)
    assert ours.meta.ref_file.distortion.name.endswith("dist.asdf")

    # The written file: stdatamodels reads a working gwcs back, and so does jwcal.
    path = ours.save(tmp_path / "x_assignwcs.fits")
    from stdatamodels.jwst import datamodels

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with datamodels.open(path) as back:
            assert_same_wcs(back.meta.wcs, theirs.meta.wcs)
            assert back.meta.wcsinfo.s_region == theirs.meta.wcsinfo.s_region
    again = open_model(path)
    assert_same_wcs(again.meta.wcs, theirs.meta.wcs)
    from astropy.io import fits

    hdr = fits.getheader(path, "SCI")
    assert hdr["CTYPE1"].startswith("RA---TAN") and hdr["S_REGION"] == theirs.meta.wcsinfo.s_region
    assert hdr["CD1_1"] == pytest.approx(theirs.meta.wcsinfo.cd1_1, rel=1e-12)
    again.close()
    # The SCI header alone is a working FITS (TAN or TAN-SIP) WCS, as DS9 would read it: it
    # puts the gwcs's sky positions back within the fit's 0.01 pixel (+ margin).
    from astropy.wcs import WCS as FitsWCS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fw = FitsWCS(hdr)
    assert fw.sip is not None or "A_ORDER" not in hdr
    if case == "miri-full-bbox":              # 1032 pixels of quadratic distortion need SIP terms
        assert hdr["CTYPE1"] == "RA---TAN-SIP" and hdr["A_ORDER"] >= 2 and fw.sip is not None
    x, y = grid(ours.meta.wcs)
    px, py = fw.all_world2pix(*ours.meta.wcs(x, y), 0)
    assert np.max(np.hypot(px - x, py - y)) < 0.02


@pytest.mark.parity
@pytest.mark.parametrize("name,inst,det,exp_type,sub", [
    ("niriss/crds/niriss_ref_distortion.asdf", "NIRISS", "NIS", "NIS_IMAGE", (1, 1985, 64, 64, "SUB64")),
    ("fgs/crds/jwst_fgs_distortion_bad_asdf_version.asdf", "FGS", "GUIDER2", "FGS_IMAGE",
     (1, 1, 2048, 2048, "FULL")),
])
def test_real_distortion_files(name, inst, det, exp_type, sub, real_data, jwcal_pm):
    """Real CRDS-format distortions (no bounding box of their own: the data shape is used)."""
    dist = str(real_data / name)
    meta = exposure_meta(inst, det, exp_type, filt="F150W" if inst == "NIRISS" else None,
                         pupil="CLEARP" if inst == "NIRISS" else None, sub=sub)
    shape = (sub[3], sub[2])
    theirs = jwst_wcs_model(meta, shape, {"distortion": dist, "filteroffset": None})
    jwcal_pm.register_plugin(plugin_for(inst), name=f"{inst.lower()}-wcs")
    ours = run_assign_wcs(jwcal_pm, jwcal_model(meta, shape), dist, None)
    assert_same_wcs(ours.meta.wcs, theirs.meta.wcs)
    assert ours.meta.wcsinfo.s_region == theirs.meta.wcsinfo.s_region
    assert_same_wcsinfo(ours.tree["meta"]["wcsinfo"], theirs.meta.wcsinfo.instance)


def test_real_miri_mrs_distortion_is_not_an_imaging_distortion(real_data, tmp_path, jwcal_pm):
    """jwst_miri_distortion_0022 is the MRS (DistortionMRSModel) file: reading it as the
    imager's distortion is refused with a clear reference error, and the step fails on it."""
    path = real_data / "miri/crds/jwst_miri_distortion_0022.asdf"
    with pytest.raises(ReferenceFileError, match="DistortionMRSModel"):
        load_distortion(path)
    offs = write_filteroffset(tmp_path / "offs.asdf", "MIRI", [dict(filter="F770W", column_offset=0.1, row_offset=0.2)])
    meta = exposure_meta("MIRI", "MIRIMAGE", "MIR_IMAGE", filt="F770W", sub=(413, 51, 64, 64, "SUB64"))
    jwcal_pm.register_plugin(plugin_for("MIRI"), name="miri-wcs")
    with pytest.raises(ReferenceFileError):
        run_assign_wcs(jwcal_pm, jwcal_model(meta, (64, 64)), str(path), offs)


def test_miri_needs_its_filteroffset(tmp_path, jwcal_pm):
    dist = write_distortion(tmp_path / "dist.asdf", "MIRI", "MIRIMAGE", (1024, 1032), scale=0.11)
    meta = exposure_meta("MIRI", "MIRIMAGE", "MIR_IMAGE", filt="F770W", sub=(413, 51, 64, 64, "SUB64"))
    jwcal_pm.register_plugin(plugin_for("MIRI"), name="miri-wcs")
    with pytest.raises(ReferenceFileError, match="FILTEROFFSET"):
        run_assign_wcs(jwcal_pm, jwcal_model(meta, (64, 64)), dist, None)


def test_missing_pointing_is_a_clear_error(tmp_path, jwcal_pm):
    dist = write_distortion(tmp_path / "dist.asdf", "FGS", "GUIDER1", (2048, 2048), scale=0.069)
    meta = exposure_meta("FGS", "GUIDER1", "FGS_IMAGE", sub=(1, 1, 32, 32, "SUB32"))
    del meta["wcsinfo"]["roll_ref"]
    jwcal_pm.register_plugin(plugin_for("FGS"), name="fgs-wcs")
    with pytest.raises(BadInputError, match="ROLL_REF"):
        run_assign_wcs(jwcal_pm, jwcal_model(meta, (32, 32)), dist, None)


def test_pointing_transform_matches_a_direct_rotation():
    """Independent check of V2V3 -> sky: the reference point lands on (RA_REF, DEC_REF), and a
    point 60" along +V3 lies at position angle ROLL_REF from it (vparity aside)."""
    from astropy.coordinates import SkyCoord
    import astropy.units as u

    from jwcore.wcs.imaging import v2v3_to_sky

    sky = v2v3_to_sky(200.0, -400.0, 30.0, 150.0, 20.0)
    ra, dec = sky(200.0, -400.0)
    assert ra == pytest.approx(150.0, abs=1e-10) and dec == pytest.approx(20.0, abs=1e-10)
    ra2, dec2 = sky(200.0, -340.0)
    pa = SkyCoord(ra * u.deg, dec * u.deg).position_angle(SkyCoord(ra2 * u.deg, dec2 * u.deg)).deg
    assert pa == pytest.approx(30.0, abs=1e-3)
