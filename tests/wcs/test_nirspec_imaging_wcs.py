"""NIRSpec imaging WCS (optical-model chain) vs jwst 3.0's ``assign_wcs.nirspec.imaging``.

Two reference sets go to both jwst and jwcal:

* the real ground-pedigree CRDS files in the shared data (fpa, camera, collimator, fore CLEAR,
  ote, wavelengthrange) with a MIRROR disperser written here from the real PRISM file's tilt
  calibration and mirror angles (no real MIRROR file is in the shared data);
* the simulator's own optical model (``jwcal simulate -i nirspec`` writes it; its OTE is fitted
  to the detector's SIAF geometry).

Tolerances: pixel -> world < 1 mas over the array (measured 0.0 on both sets: the same
transforms in the same order); the intermediate frames (gwa, msa, oteip, v2v3) to 1e-9 of their
values.  World -> pixel: jwst 3.0 hands the fore-optics inverse the OTE-plane x in place of the
wavelength, which makes its backward transform diverge wherever the ``fore`` model depends on
wavelength (ground files: 1.4e2-2.8e6 pixels off on this test's grids); jwcal passes the
wavelength.  On the simulated set (wavelength-free fore) both backward transforms agree to <
1e-6 pixel and invert the forward to < 1e-3 pixel; on the ground set jwcal's backward inverts
the forward as well as the files' fitted inverses allow (measured ~2 pixels at the detector
edges, from the camera/collimator inverse polynomials).  Truth: the simulator's sources land
where the WCS says to < 1 mas / < 1e-3 pixel.
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("jwst")

from jwcore.datamodel import ImageModel, open_model  # noqa: E402
from jwcore.errors import ReferenceFileError  # noqa: E402
from jwcore.runner import RunContext  # noqa: E402

from .test_imaging_wcs import MAS, jwcal_model, plugin_for  # noqa: E402

GROUND = "nirspec/crds/"
GROUND_FILES = {"fpa": "jwst_nirspec_fpa_0005.asdf", "camera": "jwst_nirspec_camera_0004.asdf",
                "collimator": "jwst_nirspec_collimator_0004.asdf", "fore": "jwst_nirspec_fore_0028.asdf",
                "ote": "jwst_nirspec_ote_0005.asdf", "wavelengthrange": "jwst_nirspec_wavelengthrange_0004.asdf"}
FRAMES = ("gwa", "msa", "oteip", "v2v3")


def write_mirror_disperser(real_data, path):
    """A MIRROR disperser: the real PRISM file's tilt calibration, small mirror angles."""
    import asdf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with asdf.open(real_data / GROUND / "jwst_nirspec_disperser_0034.asdf", lazy_load=False, memmap=False) as af:
            tree = {k: af.tree[k] for k in ("meta", "gwa_tiltx", "gwa_tilty", "tilt_x")}
    tree["meta"] = dict(tree["meta"], instrument=dict(tree["meta"]["instrument"], grating="MIRROR"))
    tree.update(theta_x=0.0294, theta_y=-0.0008, theta_z=-0.2523, tilt_y=0.0)
    asdf.AsdfFile(tree).write_to(path)
    return str(path)


def ground_refs(real_data, tmp_path):
    refs = {k: str(real_data / GROUND / v) for k, v in GROUND_FILES.items()}
    refs["disperser"] = write_mirror_disperser(real_data, tmp_path / "mirror.asdf")
    return refs


def simulated_refs(tmp_path, detector):
    from jwcal_nirspec.detectors import DETECTORS

    from jwcore.sim.references import write_reference_set

    spec = next(s for s in DETECTORS if s.detector == detector)
    paths = write_reference_set(spec, tmp_path / "refs", window="SUB32")   # small image refs
    wanted = ("fpa", "camera", "disperser", "collimator", "wavelengthrange", "fore", "ote")
    out = {r: str(next(p for p in paths if p.name.endswith(f"_{r}.asdf"))) for r in wanted if r != "fore"}
    out["fore"] = str(next(p for p in paths if p.name.endswith("_fore_clear.asdf")))
    return out


def nrs_meta(detector, sub, *, filt="CLEAR", exp_type="NRS_IMAGE", xtilt=0.3391, ytilt=0.0348):
    xs, ys, nx, ny, name = sub
    return dict(
        instrument=dict(name="NIRSPEC", detector=detector, filter=filt, grating="MIRROR",
                        gwa_xtilt=xtilt, gwa_ytilt=ytilt),
        exposure=dict(type=exp_type),
        subarray=dict(name=name, xstart=xs, ystart=ys, xsize=nx, ysize=ny),
        wcsinfo=dict(v2_ref=378.6, v3_ref=-428.6, roll_ref=40.0, ra_ref=53.1, dec_ref=-27.8,
                     vparity=-1, v3yangle=138.5),
        velocity_aberration=dict(scale_factor=1.00002),
    )


def jwst_wcs(meta, refs, shape, sip=True):
    from jwst.assign_wcs.assign_wcs import load_wcs
    from jwst.assign_wcs.util import update_fits_wcsinfo
    from stdatamodels.jwst import datamodels

    m = datamodels.ImageModel(np.zeros(shape, np.float32))
    for sec, d in meta.items():
        for k, v in d.items():
            setattr(getattr(m.meta, sec), k, v)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = load_wcs(m, dict(refs))
        if sip:       # (jwst's step catches the failure for a non-celestial WCS)
            update_fits_wcsinfo(m, max_pix_error=0.01, degree=None, max_inv_pix_error=0.01, inv_degree=None,
                                npoints=12, crpix=None)
    return m


def jwcal_assign_wcs(pm, meta, refs, shape):
    pm.register_plugin(plugin_for("NIRSPEC"), name="nirspec-wcs")
    overrides = {f"override_{k}": v for k, v in refs.items()}
    step = pm.registry.step("assign_wcs")(**overrides)
    return step.run(jwcal_model(meta, shape), RunContext(pm=pm)).model


def pixel_grid(shape, n=9):
    ny, nx = shape
    return np.meshgrid(np.linspace(0, nx - 1, n), np.linspace(0, ny - 1, n))


def sky_sep_mas(ra1, dec1, ra2, dec2):
    return np.hypot((ra1 - ra2) * np.cos(np.radians(dec1)), dec1 - dec2) * 3.6e6


def assert_forward_parity(ours, theirs, shape):
    x, y = pixel_grid(shape)
    ra_j, dec_j = theirs(x, y)
    ra_c, dec_c = ours(x, y)
    assert np.all(np.isfinite(ra_j)) and np.all(np.isfinite(ra_c))
    assert np.max(sky_sep_mas(ra_j, dec_j, ra_c, dec_c)) < 1.0      # < 1 mas
    for frame in FRAMES:
        a = theirs.get_transform("detector", frame)(x, y)
        b = ours.get_transform("detector", frame)(x, y)
        for aa, bb in zip(a, b):
            aa, bb = np.asarray(aa), np.asarray(bb)
            assert np.max(np.abs(aa - bb)) <= 1e-9 * max(1.0, np.max(np.abs(aa))), frame
    return x, y, ra_j, dec_j


@pytest.mark.parity
@pytest.mark.parametrize("detector,sub", [("NRS1", (1, 1, 2048, 2048, "FULL")),
                                          ("NRS2", (1025, 1009, 1024, 32, "SUB1024B"))])
def test_ground_references_forward_parity(detector, sub, real_data, tmp_path, jwcal_pm):
    refs = ground_refs(real_data, tmp_path)
    meta = nrs_meta(detector, sub)
    shape = (sub[3], sub[2])
    theirs = jwst_wcs(meta, refs, shape)
    ours = jwcal_assign_wcs(jwcal_pm, meta, refs, shape)
    assert ours.meta.cal_step.assign_wcs == "COMPLETE"
    x, y, ra, dec = assert_forward_parity(ours.meta.wcs, theirs.meta.wcs, shape)
    # the wavelength range recorded as jwst records it
    assert ours.meta.wcsinfo.waverange_start == theirs.meta.wcsinfo.waverange_start
    assert ours.meta.wcsinfo.waverange_end == theirs.meta.wcsinfo.waverange_end
    assert ours.meta.wcsinfo.spectral_order == theirs.meta.wcsinfo.spectral_order
    # jwcal's backward transform inverts its forward as well as the files' inverses allow
    # (inside the outermost grid lines: the ground fits are poorest at the detector corners)
    inner = (slice(1, -1), slice(1, -1))
    xb, yb = ours.meta.wcs.invert(ra[inner], dec[inner])
    assert np.max(np.hypot(xb - x[inner], yb - y[inner])) < 2.0


@pytest.mark.parity
@pytest.mark.parametrize("detector,sub", [("NRS1", (1, 1, 2048, 2048, "FULL")),
                                          ("NRS2", (1, 1009, 512, 32, "SUB512"))])
def test_simulated_references_parity_both_directions(detector, sub, tmp_path, jwcal_pm):
    refs = simulated_refs(tmp_path, detector)
    meta = nrs_meta(detector, sub)
    shape = (sub[3], sub[2])
    theirs = jwst_wcs(meta, refs, shape)          # jwst reads the simulator's files
    ours = jwcal_assign_wcs(jwcal_pm, meta, refs, shape)
    x, y, ra, dec = assert_forward_parity(ours.meta.wcs, theirs.meta.wcs, shape)
    xj, yj = theirs.meta.wcs.invert(ra, dec)
    xc, yc = ours.meta.wcs.invert(ra, dec)
    assert np.max(np.hypot(xc - xj, yc - yj)) < 1e-6
    assert np.max(np.hypot(xc - x, yc - y)) < 1e-3
    # the FITS view: S_REGION and the SIP approximation as jwst writes them
    assert ours.meta.wcsinfo.s_region == theirs.meta.wcsinfo.s_region
    for key in ("ctype1", "ctype2", "crval1", "crval2", "a_order", "b_order"):
        assert ours.meta.get(f"wcsinfo.{key}") == pytest.approx(getattr(theirs.meta.wcsinfo, key)), key


def test_simulated_truth_is_recovered(tmp_path):
    """An NRS_IMAGE exposure simulated end to end: the WCS of its _cal puts the simulator's
    sources (truth table RA, Dec) on their true pixels, and the saved WCS reads back."""
    from click.testing import CliRunner

    from astropy.table import Table

    from jwcore.cli.main import cli

    sim, out = tmp_path / "sim", tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(cli, ["simulate", str(sim), "-i", "nirspec", "-d", "NRS2", "--subarray", "SUB512",
                               "--ngroups", "3", "--no-cosmic-rays", "--seed", "4"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["run", str(sim), "-o", str(out), "--refs", str(sim / "refs")])
    assert res.exit_code == 0, res.output
    cal = next(out.glob("*_cal.fits"))
    truth = Table.read(next(sim.glob("*_truth.ecsv")))
    near = (np.abs(truth["x"] - 256) < 700) & (np.abs(truth["y"] - 16) < 700)
    assert near.sum() > 10
    x, y = np.asarray(truth["x"][near], float), np.asarray(truth["y"][near], float)
    ra, dec = np.asarray(truth["ra"][near], float), np.asarray(truth["dec"][near], float)
    with open_model(cal) as m:
        assert m.meta.cal_step.assign_wcs == "COMPLETE"
        assert m.meta.ref_file.ote.name.endswith("_ote.asdf")
        wcs = m.meta.wcs
        # sources off the 512x32 subarray too (the bounding box would give them NaN)
        ra_w, dec_w = wcs(x, y, with_bounding_box=False)
        assert np.max(sky_sep_mas(ra, dec, ra_w, dec_w)) < 1.0
        xw, yw = wcs.invert(ra, dec, with_bounding_box=False)
        assert np.max(np.hypot(xw - x, yw - y)) < 1e-3
        assert m.meta.wcsinfo.ctype1 == "RA---TAN-SIP"
    # stdatamodels reads the saved gwcs (standard transform tags only) and gets the same sky
    from stdatamodels.jwst import datamodels

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with datamodels.ImageModel(str(cal)) as theirs:
            ra_s, dec_s = theirs.meta.wcs(x, y, with_bounding_box=False)
    assert np.max(sky_sep_mas(ra_w, dec_w, ra_s, dec_s)) < 1e-6


def test_opaque_filter_ends_at_the_msa(real_data, tmp_path, jwcal_pm):
    refs = ground_refs(real_data, tmp_path)
    meta = nrs_meta("NRS1", (1, 1, 64, 64, "SUB64"), filt="OPAQUE", exp_type="NRS_CONFIRM")
    meta["instrument"]["lamp_state"] = "LINE1"     # OPAQUE: the LAMP_GRATING configuration
    out = jwcal_assign_wcs(jwcal_pm, meta, dict(refs, fore="N/A", ote="N/A"), (64, 64))   # not needed
    wcs = out.meta.wcs
    assert wcs.output_frame.name == "msa"
    assert out.meta.wcsinfo.s_region is None
    theirs = jwst_wcs(meta, refs, (64, 64), sip=False).meta.wcs
    x, y = pixel_grid((64, 64), 5)
    for a, b in zip(theirs(x, y), wcs(x, y)):
        assert np.max(np.abs(np.asarray(a) - np.asarray(b))) <= 1e-12


def test_missing_optical_reference_is_a_clear_error(real_data, tmp_path, jwcal_pm):
    refs = ground_refs(real_data, tmp_path)
    refs["ote"] = "N/A"
    with pytest.raises(ReferenceFileError, match="OTE"):
        jwcal_assign_wcs(jwcal_pm, nrs_meta("NRS1", (1, 1, 32, 32, "SUB32")), refs, (32, 32))


def test_spectroscopic_modes_still_skip(jwcal_pm):
    jwcal_pm.register_plugin(plugin_for("NIRSPEC"), name="nirspec-wcs")
    meta = nrs_meta("NRS1", (1, 1, 32, 32, "SUB32"), exp_type="NRS_FIXEDSLIT")
    step = jwcal_pm.registry.step("assign_wcs")(**{f"override_{r}": "N/A" for r in
                                                   ("fpa", "camera", "disperser", "collimator",
                                                    "wavelengthrange", "fore", "ote")})
    out = step.run(jwcal_model(meta, (32, 32)), RunContext(pm=jwcal_pm)).model
    assert out.meta.cal_step.assign_wcs == "SKIPPED" and out.meta.wcs is None


def test_rotation_blocks_invert_and_match_a_rotation_matrix():
    """The standard-model GWA rotation equals the matrix product of the elementary rotations
    for forward rays, and its attached inverse undoes it."""
    from jwcal_nirspec.optics import gwa_rotation, unitless_to_dircos

    angles = [0.5, -1.2, 2.0, 8.0]
    rot = gwa_rotation(angles)
    u, v = np.meshgrid(np.linspace(-0.2, 0.2, 5), np.linspace(-0.15, 0.15, 5))
    c = np.array(unitless_to_dircos()(u, v))
    out = np.array(rot(*c))

    def mat(axis, deg):
        t = np.radians(deg)
        cs, s = np.cos(t), np.sin(t)
        return {"x": np.array([[1, 0, 0], [0, cs, s], [0, -s, cs]]),
                "y": np.array([[cs, 0, -s], [0, 1, 0], [s, 0, cs]]),
                "z": np.array([[cs, s, 0], [-s, cs, 0], [0, 0, 1]])}[axis]

    m = np.eye(3)
    for ax, a in zip("xyzy", angles):
        m = mat(ax, a) @ m
    expect = np.einsum("ij,jkl->ikl", m, c)
    assert np.max(np.abs(out - expect)) < 1e-14
    back = np.array(rot.inverse(*out))
    assert np.max(np.abs(back - c)) < 1e-14
