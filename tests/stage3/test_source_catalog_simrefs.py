"""source_catalog with the simulator's own APCORR and ABVEGAOFFSET references
(jwcore/sim/photometry_refs.py).

* The encircled energies the APCORR rows are built from are those of the simulator's PSF:
  with no pixel smoothing they equal a direct radial integration of ``psf_profile``
  (asserted 2e-4, measured <= 5e-6); with the detector pixel and the aperture's exact pixel
  overlap (the ``_cal`` case) they equal exact-overlap photometry of the simulator's own
  pixel-integrated stamps (``psf_stamp``), averaged over 8x8 sub-pixel positions (asserted
  6e-3 in EE, measured <= 3.5e-3 at 0.97 px FWHM, 1.1e-3 at 2.11 px: psf_stamp's 5x5
  sub-sampling), and the aperture
  correction with the annulus-median background turns those stamps' aperture sums into the
  total flux (asserted 0.6 %, measured <= 0.27 %).
* AB - Vega offsets agree with published conversions at wavelengths that are not nodes of the
  Vega approximation: SDSS i, z (Blanton & Roweis 2007), WISE W1, W2, W4 (Jarrett et al.
  2011); asserted 0.06 mag, measured <= 0.033.
* Parity: jwst 3.0's SourceCatalogStep and jwcal's, given the simulator's files for NIRCam
  (FILTER/PUPIL rows), MIRI (FILTER/SUBARRAY rows, ABVEGAOFFSET by FILTER) and FGS (one set,
  ABVEGAOFFSET by DETECTOR), give the same catalog on the same i2d: labels identical,
  numeric columns (aperture-corrected fluxes and Vega magnitudes included) to 1e-9 relative,
  as tests/stage3/test_source_catalog.py; measured: aperture and total fluxes, AB and Vega
  magnitudes bit-identical, largest difference 1.2e-11 relative (sky_orientation).
* Truth: a noiseless simulated NRCA1 F200W program (2 dithers, 9 isolated stars) through
  ``jwcal run`` (detector1, image2, image3 with the simulated reference store): the
  aperture-corrected total fluxes of the stars match the simulator's truth fluxes (asserted:
  median within 2 %, every star within 4 %; measured: median 0.996, range 0.984-1.010; the
  30/50/70 % apertures hold 0.302/0.499/0.697 of the flux).  ~6 s.
"""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from jwcore.datamodel import open_model
from jwcore.sim import photometry_refs as P
from jwcore.sim.detector import get_detector
from jwcore.sim.scene import psf_profile, psf_stamp
from jwcore.steps.source_catalog.source_catalog_step import SourceCatalogStep

from .synth import i2d_image


# -- the encircled energy and the corrections -------------------------------------------------
@pytest.mark.parametrize("fwhm", [0.97, 2.11, 7.25])
def test_unsmoothed_encircled_energy_is_the_profiles_integral(fwhm):
    r = np.linspace(0.0, 60.0, 600001)
    ring = psf_profile(r, 0.0 * r, fwhm) * 2.0 * np.pi * r
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (ring[1:] + ring[:-1]) * np.diff(r))])
    radii = np.array([0.3, 0.7, 1.0, 1.5, 2.0, 3.0]) * fwhm
    assert np.allclose(P.encircled_energy(radii, fwhm, smoothing=()), np.interp(radii, r, cum), atol=2e-4)


def _phases(n=8):
    u = (np.arange(n) + 0.5) / n - 0.5
    return [(dx, dy) for dx in u for dy in u]


@pytest.mark.parametrize("fwhm", [0.97, 2.11, 4.6])
def test_detector_encircled_energy_matches_photometry_of_simulated_stamps(fwhm):
    from photutils.aperture import CircularAperture, aperture_photometry

    radii = np.array([0.4, 0.7, 1.0, 1.4, 2.0, 3.0]) * max(fwhm, 1.0)
    half = int(4 * fwhm + 8)
    measured = np.zeros(radii.size)
    for dx, dy in _phases():
        stamp, _, _ = psf_stamp(half + dx, half + dy, fwhm, half)
        t = aperture_photometry(stamp, [CircularAperture((half + dx, half + dy), r) for r in radii], method="exact")
        measured += np.array([float(t[f"aperture_sum_{k}"][0]) for k in range(radii.size)]) / 64
    model = P.encircled_energy(radii, fwhm, smoothing=P.DETECTOR_SMOOTHING)
    assert np.max(np.abs(model - measured)) < 6e-3, np.abs(model - measured)
    # the drizzled-image model holds less energy in small apertures (more smoothing) ...
    i2d = P.encircled_energy(radii, fwhm, smoothing=P.I2D_SMOOTHING)
    assert np.all(i2d <= model + 1e-6)


def test_aperture_correction_recovers_the_total_flux_of_simulated_stamps():
    from jwcore.steps.source_catalog.catalog import aperture_photometry, local_background

    fwhm = 2.11
    rows = P.apcorr_rows(fwhm, smoothing=P.DETECTOR_SMOOTHING)
    radii = np.array([r[1] for r in rows])
    corr = np.array([r[2] for r in rows])
    skyin, skyout = rows[0][3], rows[0][4]
    half = int(skyout) + 4
    totals = []
    for dx, dy in _phases(6):
        stamp, _, _ = psf_stamp(half + dx, half + dy, fwhm, half)        # unit total flux
        xy = np.array([[half + dx, half + dy]])
        bkg, _ = local_background(stamp, xy, skyin, skyout)
        flux, _ = aperture_photometry(stamp, np.ones_like(stamp), xy, radii, bkg)
        totals.append(corr * flux[:, 0])
    mean = np.mean(totals, axis=0)
    assert bkg[0] > 0                                                   # the wing is in the annulus ...
    assert np.all(np.abs(mean - 1.0) < 6e-3), mean                      # ... and corrected for


def test_abvega_offsets_match_published_conversions():
    # m_AB - m_Vega at effective wavelengths (um) that are not nodes of the Vega approximation
    published = {0.763: 0.37, 0.904: 0.54, 3.353: 2.699, 4.603: 3.339, 22.08: 6.620}
    got = {lam: float(P.abvega_offset(lam)) for lam in published}
    assert all(abs(got[lam] - v) < 0.06 for lam, v in published.items()), got
    lam = np.geomspace(0.6, 28.0, 200)
    assert np.all(np.diff(P.abvega_offset(lam)) > 0)      # Vega's F_nu falls steadily from 0.6 um on


def test_tables_cover_the_instrument_so_any_detectors_file_serves_every_filter():
    nrca1 = get_detector("NIRCAM", "NRCA1")
    specs = P._instrument_specs(nrca1)
    table = P.apcorr_table(specs, nrca1.photometry_layout)
    filters = set(np.char.strip(table["filter"].astype(str)))
    assert {"F070W", "F200W", "F444W", "F480M"} <= filters          # SW (own) and LW (NRCALONG) rows
    # a filter both modules offer takes this detector's PSF width
    f200 = table[np.char.strip(table["filter"].astype(str)) == "F200W"]
    r50 = float(f200["radius"][np.round(f200["eefraction"] * 100) == 50][0])
    assert r50 == pytest.approx(float(P.ee_radius(0.5, nrca1.filter("F200W").fwhm)), abs=1e-5)
    fgs = get_detector("FGS", "GUIDER1")
    specs = P._instrument_specs(fgs)
    assert len(P.apcorr_table(specs, fgs.photometry_layout)) == len(P.EE_FRACTIONS)     # one set
    assert sorted(P.abvega_table(specs, fgs.photometry_layout)["detector"]) == ["GUIDER1", "GUIDER2"]


# -- parity with jwst on the simulator's files -------------------------------------------------
CASES = {
    "NIRCAM": ("NRCA1", {"instrument.name": "NIRCAM", "instrument.detector": "MULTIPLE"}, ()),
    "MIRI": ("MIRIMAGE", {"instrument.name": "MIRI", "instrument.detector": "MIRIMAGE", "instrument.filter": "F770W",
                          "exposure.type": "MIR_IMAGE", "subarray.name": "BRIGHTSKY"},
             ("pupil", "channel", "module")),
    "FGS": ("GUIDER1", {"instrument.name": "FGS", "instrument.detector": "GUIDER1", "exposure.type": "FGS_IMAGE"},
            ("filter", "pupil", "channel", "module")),
}


@pytest.fixture(scope="module")
def mosaic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("simrefs")
    path, truth = i2d_image(folder / "mosaic_i2d.fits")
    return folder, path


def _case(folder, base, inst):
    det, values, drop = CASES[inst]
    refs = {p.name.rsplit("_", 1)[1].split(".")[0]: p
            for p in P.write_photometry_set(get_detector(inst, det), folder / f"refs_{inst.lower()}")}
    path = folder / f"mosaic_{inst.lower()}_i2d.fits"
    with open_model(base) as model:
        for key, value in values.items():
            model.meta.set(key, value)
        for key in drop:
            model.tree["meta"]["instrument"].pop(key, None)
        model.save(path)
    return path, refs


@pytest.mark.parity
@pytest.mark.parametrize("inst", list(CASES))
def test_parity_with_jwst_on_the_simulators_references(mosaic, inst):
    pytest.importorskip("jwst")
    from jwst.source_catalog import SourceCatalogStep as JwstSourceCatalog

    folder, base = mosaic
    path, refs = _case(folder, base, inst)
    ours = SourceCatalogStep(override_apcorr=str(refs["apcorr"]),
                             override_abvegaoffset=str(refs["abvegaoffset"])).run(open_model(path)).extras["cat"]
    theirs = JwstSourceCatalog.call(str(path), override_apcorr=str(refs["apcorr"]),
                                    override_abvegaoffset=str(refs["abvegaoffset"]), save_results=False)
    # both read the simulator's rows: radii and corrections of the configuration, its Vega offset
    with open_model(path) as m:
        meta = m.meta
        apcorr = Table.read(refs["apcorr"], hdu="APCORR")
        sel = np.ones(len(apcorr), bool)
        for key, path_ in (("filter", "instrument.filter"), ("pupil", "instrument.pupil"),
                           ("subarray", "subarray.name")):
            if key in apcorr.colnames:
                sel &= np.char.strip(np.asarray(apcorr[key]).astype(str)) == str(meta.get(path_))
    rows = apcorr[sel]
    want = {int(round(e * 100)): (r, c) for e, r, c in zip(rows["eefraction"], rows["radius"], rows["apcorr"])}
    params = ours.meta["aperture_params"]
    assert np.allclose(params["aperture_radii"], [want[e][0] for e in (30, 50, 70)])
    assert np.allclose(params["aperture_corrections"], [want[e][1] for e in (30, 50, 70)])
    assert np.allclose(np.asarray(ours["aper_total_flux"].value), want[70][1] * np.asarray(ours["aper70_flux"].value),
                       equal_nan=True)
    offset = ours.meta["abvega_offset"]
    assert 0.5 < offset < 7.0
    assert np.allclose(np.asarray(ours["aper_total_vegamag"]), np.asarray(ours["aper_total_abmag"]) - offset,
                       equal_nan=True)
    # ... and agree to the last digits
    assert theirs.colnames == ours.colnames
    assert len(theirs) == len(ours) > 30
    assert np.array_equal(np.asarray(theirs["label"]), np.asarray(ours["label"]))
    for name in theirs.colnames:
        a, b = theirs[name], ours[name]
        if hasattr(a, "ra"):
            assert np.allclose(a.ra.deg, b.ra.deg, rtol=0, atol=1e-12)
            assert np.allclose(a.dec.deg, b.dec.deg, rtol=0, atol=1e-12)
            continue
        av = np.asarray(getattr(a, "value", a), dtype=float)
        bv = np.asarray(getattr(b, "value", b), dtype=float)
        assert np.array_equal(np.isnan(av), np.isnan(bv)), name
        ok = np.isfinite(av)
        assert np.allclose(av[ok], bv[ok], rtol=1e-9, atol=0), name


# -- truth: a simulated noiseless program through jwcal ------------------------------------------
def test_aperture_corrected_fluxes_of_a_simulated_program_match_the_truth(tmp_path):
    from astropy.coordinates import SkyCoord

    from jwcore.cli.main import main
    from jwcore.sim.exposure import _window_centre, plan_observation, simulate_observation, write_associations
    from jwcore.sim.ramp import RampOptions
    from jwcore.sim.references import build_store, write_reference_set
    from jwcore.sim.scene import Scene, Source

    spec = get_detector("NIRCAM", "NRCA1")
    raw, out = tmp_path / "raw", tmp_path / "out"
    plan = plan_observation(spec, filters=["F200W"], ngroups=3, subarray="SUB160P", dithers=2, seed=3)
    ra0, dec0 = _window_centre(spec, plan[0])
    scale = float(np.mean(spec.sci_scale))
    rng = np.random.default_rng(5)
    stars = []
    for i in range(3):                      # a 3x3 grid, 56 px apart, random sub-pixel positions
        for j in range(3):
            dx = ((i - 1) * 56 + rng.uniform(-0.5, 0.5)) * scale
            dy = ((j - 1) * 56 + rng.uniform(-0.5, 0.5)) * scale
            stars.append(Source(len(stars) + 1, "star", ra0 + dx / 3600 / np.cos(np.deg2rad(dec0)),
                                dec0 + dy / 3600, 2e-5))
    products = simulate_observation(spec, raw, plan, scene=Scene(stars, sky_scale=1.0),
                                    options=RampOptions(noiseless=True))
    write_associations(spec, products, raw)
    paths = write_reference_set(spec, raw / "refs", seed=3, filters=["F200W"], subarrays=["SUB160P"], ngroups=3,
                                window="SUB160P")
    build_store(raw / "refs", paths)
    try:
        code = main(["-q", "run", str(raw), "-o", str(out), "--refs", str(raw / "refs"), "--to-stage", "3",
                     "--executor", "serial", "-j", "1"])
    except SystemExit as exc:
        code = exc.code
    assert code in (0, None)
    (cat_path,) = out.glob("*_cat.ecsv")
    cat = Table.read(cat_path)
    (i2d_path,) = [p for p in out.glob("jw01234-o001*_i2d.fits")]
    with open_model(i2d_path) as i2d:
        assert i2d.meta.get("ref_file.apcorr.name").endswith("jwcal_nircam_nrca1_apcorr.fits")
        assert i2d.meta.get("ref_file.abvegaoffset.name").endswith("jwcal_nircam_nrca1_abvegaoffset.asdf")
    truth = Table.read(products[0].catalog)
    idx, sep, _ = SkyCoord(truth["ra"], truth["dec"], unit="deg").match_to_catalog_sky(cat["sky_centroid"])
    found = sep.arcsec < 0.05
    assert found.sum() == len(stars)
    ratio = np.asarray(cat["aper_total_flux"])[idx[found]] / np.asarray(truth["flux_jy"])[found]
    assert abs(np.median(ratio) - 1.0) < 0.02, ratio
    assert np.all(np.abs(ratio - 1.0) < 0.04), ratio
    # the apertures hold the energies they are named after (the corrections are not fudge factors)
    for ee in (30, 50, 70):
        frac = np.asarray(cat[f"aper{ee}_flux"])[idx[found]] / np.asarray(truth["flux_jy"])[found]
        assert abs(np.median(frac) - ee / 100) < 0.02 * ee / 100 + 0.005, (ee, frac)
    vega = float(P.abvega_offset(spec.filter("F200W").wavelength))
    assert np.allclose(np.asarray(cat["aper_total_vegamag"]), np.asarray(cat["aper_total_abmag"]) - vega,
                       atol=1e-5, equal_nan=True)
