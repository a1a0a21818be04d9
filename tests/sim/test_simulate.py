"""Simulated exposures: determinism, metadata, truth consistency, observation plans, CLI.

Truth consistency: a noiseless ramp calibrated in numpy with the *written* reference files
(superbias, IPC kernel, LINEARITY coefficients, DARK, MIRI RESET) gives back the truth rate
(tolerance: 0.5% plus the slope error of rounding to integer DN).
"""

import re
import time

import numpy as np
import pytest
from astropy.io import fits

from jwcore.sim.exposure import (ExposureConfig, plan_observation, simulate_exposure, simulate_observation,
                                 write_associations)
from jwcore.sim.ramp import RampOptions
from jwcore.sim.references import write_reference_set
from jwcore.sim.scene import Scene, Source, random_scene

from .conftest import detector

KEYWORDS_PRIMARY = (
    "INSTRUME", "DETECTOR", "EXP_TYPE", "READPATT", "NGROUPS", "NINTS", "NFRAMES", "GROUPGAP", "TFRAME",
    "TGROUP", "EFFINTTM", "EFFEXPTM", "DURATION", "SUBARRAY", "SUBSTRT1", "SUBSTRT2", "SUBSIZE1", "SUBSIZE2",
    "FASTAXIS", "SLOWAXIS", "NOUTPUTS", "DATE-OBS", "TIME-OBS", "EXPSTART", "EXPMID", "EXPEND", "TARG_RA",
    "TARG_DEC", "PROGRAM", "OBSERVTN", "VISIT", "VISITGRP", "SEQ_ID", "ACT_ID", "EXPOSURE", "APERNAME",
    "DATAMODL", "TELESCOP", "DATE", "FILENAME")
KEYWORDS_SCI = ("RA_REF", "DEC_REF", "ROLL_REF", "V2_REF", "V3_REF", "V3I_YANG", "VPARITY", "RA_V1", "DEC_V1",
                "PA_V3", "BUNIT")
NAME = re.compile(r"^jw\d{5}\d{3}\d{3}_\d{2}\d\d{2}_\d{5}_[a-z0-9]+_uncal\.fits$")


def _bright_scene(ra, dec, sky=300.0, star=None):
    scene = Scene([Source(1, "star", ra, dec, star)] if star else [], sky_scale=sky, sky_gradient=0.0)
    return scene


def test_same_seed_same_bytes_any_thread_count(tmp_path):
    spec = detector("NIRCAM", "NRCA1")
    cfg = ExposureConfig("NIRCAM", "NRCA1", subarray="SUB64P", ngroups=4, nints=2, seed=7, detector_seed=3)
    a = simulate_exposure(spec, cfg, tmp_path / "a", options=RampOptions(threads=1, block_rows=16))
    b = simulate_exposure(spec, cfg, tmp_path / "b", options=RampOptions(threads=2, block_rows=16))
    for x, y in ((a.uncal, b.uncal), (a.truth, b.truth), (a.catalog, b.catalog)):
        assert x.read_bytes() == y.read_bytes(), x.name
    c = simulate_exposure(spec, ExposureConfig("NIRCAM", "NRCA1", subarray="SUB64P", ngroups=4, nints=2, seed=8,
                                               detector_seed=3), tmp_path / "c")
    assert not np.array_equal(fits.getdata(a.uncal, "SCI"), fits.getdata(c.uncal, "SCI"))
    r1 = write_reference_set(spec, tmp_path / "r1", seed=3, window="SUB64P", ngroups=4)
    r2 = write_reference_set(spec, tmp_path / "r2", seed=3, window="SUB64P", ngroups=4)
    assert [p.read_bytes() for p in r1] == [p.read_bytes() for p in r2]


def test_raw_file_layout_and_keywords(tmp_path):
    spec = detector("NIRCAM", "NRCB1")
    cfg = ExposureConfig("NIRCAM", "NRCB1", filter="F150W", readpatt="BRIGHT2", subarray="SUB160P", ngroups=3,
                         nints=2, seed=2, exposure=12, activity=3)
    p = simulate_exposure(spec, cfg, tmp_path)
    assert NAME.match(p.uncal.name) and p.uncal.name == "jw01234001001_01103_00012_nrcb1_uncal.fits"
    with fits.open(p.uncal) as h:
        h0, h1 = h[0].header, h["SCI"].header
        for kw in KEYWORDS_PRIMARY:
            assert kw in h0, kw
        for kw in KEYWORDS_SCI:
            assert kw in h1, kw
        assert h["SCI"].data.shape == (2, 3, 160, 160)
        assert h["SCI"].header["BITPIX"] == 16 and h["SCI"].header["BZERO"] == 32768   # uint16
        assert {"INT_TIMES", "GROUP", "ASDF"} <= {x.name for x in h}
        assert len(h["GROUP"].data) == 6 and len(h["INT_TIMES"].data) == 2
        assert (h0["INSTRUME"], h0["DETECTOR"], h0["EXP_TYPE"]) == ("NIRCAM", "NRCB1", "NRC_IMAGE")
        assert (h0["FILTER"], h0["PUPIL"], h0["READPATT"]) == ("F150W", "CLEAR", "BRIGHT2")
        assert (h0["NFRAMES"], h0["GROUPGAP"], h0["NOUTPUTS"]) == (2, 0, 1)
        assert h0["TFRAME"] == pytest.approx(0.27864, abs=1e-5)
        assert h0["TGROUP"] == pytest.approx(2 * 0.27864, abs=1e-5)
        assert h0["EFFINTTM"] == pytest.approx(3 * h0["TGROUP"], rel=1e-6)
        assert (h0["FASTAXIS"], h0["SLOWAXIS"]) == (1, -2)
        assert (h0["SUBSTRT1"], h0["SUBSIZE1"], h0["SUBARRAY"]) == (1, 160, "SUB160P")
        assert h0["EXPEND"] > h0["EXPMID"] > h0["EXPSTART"]
        assert h0["DATE-OBS"] == "2024-03-01" and h0["DATE"].startswith("2024-03-01")
        assert (h1["V2_REF"], h1["V3_REF"]) == (spec.v2_ref, spec.v3_ref)
        assert h0["APERNAME"] == "NRCB1_FULL"
    ecsv = p.catalog.read_text()
    assert "flux_e_s" in ecsv and "x, y: 0-based" in ecsv
    assert fits.getheader(p.truth, "SCI")["BUNIT"] == "DN/s"


def _calibrate(uncal, refs, spec, skip_first=0, skip_last=0, miri=False):
    """Noiseless ramp -> slope (DN/s) with the written reference files, in numpy."""
    from scipy.signal import convolve2d

    get = {p.name.split("_", 3)[3].split(".")[0].split("_")[0]: p for p in refs}
    with fits.open(uncal) as h:
        data = h["SCI"].data.astype(np.float64)
        tframe = h[0].header["TFRAME"]
        tgroup = h[0].header["TGROUP"]
    nints, ngroups = data.shape[:2]
    coeffs = fits.getdata(get["linearity"], "COEFFS").astype(np.float64)
    kernel = fits.getdata(get["ipc"], "SCI").astype(np.float64)
    dark = fits.getdata(get["dark"], "SCI").astype(np.float64)
    slopes = []
    for i in range(nints):
        d = data[i]
        if miri:
            reset = fits.getdata(get["reset"], "SCI").astype(np.float64)
            d = d - reset[min(i, reset.shape[0] - 1), :ngroups]
            d = np.stack([convolve2d(g, kernel, mode="same") for g in d])
            d = coeffs[0] + coeffs[1] * d + coeffs[2] * d * d
            d = d - dark[min(i, dark.shape[0] - 1), :ngroups]
        else:
            d = d - fits.getdata(get["superbias"], "SCI")
            d = np.stack([convolve2d(g, kernel, mode="same") for g in d])
            d = coeffs[0] + coeffs[1] * d + coeffs[2] * d * d
            d = d - dark[:ngroups]
        g0 = skip_first if i == 0 else max(skip_first, 2 if miri else 0)
        sel = slice(g0, ngroups - skip_last)
        t = np.arange(ngroups)[sel] * tgroup
        y = d[sel]
        slopes.append(((t - t.mean())[:, None, None] * (y - y.mean(0))).sum(0) / ((t - t.mean()) ** 2).sum())
    return np.mean(slopes, axis=0), tgroup, len(t)


@pytest.mark.parametrize("inst,det,sub,ngroups,nints,kw", [
    ("NIRCAM", "NRCA3", "SUB160", 6, 1, {}),
    ("NIRISS", "NIS", "SUB64", 8, 1, {}),
    ("MIRI", "MIRIMAGE", "SUB64", 8, 2, {"miri": True, "skip_first": 1, "skip_last": 1}),
])
def test_noiseless_ramp_calibrates_back_to_truth(tmp_path, inst, det, sub, ngroups, nints, kw):
    spec = detector(inst, det)
    cfg = ExposureConfig(inst, det, subarray=sub, ngroups=ngroups, nints=nints, seed=3)
    scene = random_scene(cfg.ra, cfg.dec, 30, 3, n_stars=150, n_galaxies=50)
    scene.sky_scale = 300.0 if inst != "MIRI" else 20.0
    p = simulate_exposure(spec, cfg, tmp_path, scene, options=RampOptions(noiseless=True))
    refs = write_reference_set(spec, tmp_path / "refs", seed=3, window=sub, ngroups=ngroups, nints=2)
    slope, tgroup, n = _calibrate(p.uncal, refs, spec, **kw)
    truth = fits.getdata(p.truth, "SCI")
    dqm = fits.getdata(p.truth, "DQ")
    good = (dqm == 0)
    good[:2], good[-2:], good[:, :2], good[:, -2:] = False, False, False, False   # IPC edge
    # leave out saturated pixels and their neighbours (the ramp is clipped there)
    from scipy.ndimage import binary_dilation

    raw = fits.getdata(p.uncal, "SCI")
    sat = fits.getdata([r for r in refs if "saturation" in r.name][0], "SCI")
    good &= ~binary_dilation((raw >= 0.9 * sat).any(axis=(0, 1)), iterations=2)
    assert good.sum() > 1000 and np.median(truth[good]) > 20
    from scipy.ndimage import maximum_filter

    rounding = 5.5 * 0.29 * np.sqrt(12.0 / (n ** 3 - n)) / tgroup   # 5.5 sigma of DN quantisation (max of ~1e4 px)
    # the 3x3 IPC reference kernel is the core of the exact inverse: residual ~alpha^2 of
    # the brightest neighbour within 2 pixels
    ipc2 = 2e-4 * maximum_filter(truth, size=5)[good]
    err = np.abs(slope[good] - truth[good])
    assert np.all(err < 0.005 * truth[good] + rounding + ipc2), (err.max(), rounding)
    assert abs(np.median(slope[good] / truth[good]) - 1) < 1e-3


def test_saturating_star_and_bad_pixels(tmp_path):
    spec = detector("NIRCAM", "NRCA1")
    cfg = ExposureConfig("NIRCAM", "NRCA1", subarray="SUB160P", ngroups=10, seed=4, detector_seed=3, ra=10.0, dec=5.0)
    # place a 14th-magnitude star near the centre of the window
    from jwcore.sim.geometry import pixel_to_sky, pointing_for

    pt = pointing_for(spec, cfg.ra, cfg.dec, cfg.roll)
    ra, dec = pixel_to_sky(spec, pt, np.array(80.3), np.array(81.6))
    scene = _bright_scene(float(ra), float(dec), sky=50.0, star=3631.0 * 10 ** (-0.4 * 14.0))
    p = simulate_exposure(spec, cfg, tmp_path, scene, options=RampOptions(noiseless=True))
    refs = write_reference_set(spec, tmp_path / "refs", seed=3, window="SUB160P", ngroups=10)
    from astropy.table import Table

    cat = Table.read(p.catalog, format="ascii.ecsv")
    from jwcore.sim.geometry import filter_offset

    dx, dy = filter_offset(spec, "F200W")
    assert cat["x"][0] == pytest.approx(80.3 - dx, abs=0.01) and cat["y"][0] == pytest.approx(81.6 - dy, abs=0.01)
    raw = fits.getdata(p.uncal, "SCI")[0].astype(float)
    sat = fits.getdata([r for r in refs if "saturation" in r.name][0], "SCI")
    peak = np.unravel_index(np.argmax(fits.getdata(p.truth, "SCI")), sat.shape)
    assert raw[-1][peak] >= sat[peak]                 # the core saturates ...
    assert raw[0][0:20, 120:160].max() < sat[0:20, 120:160].min()   # ... the far sky does not
    # dead pixels (MASK: DEAD|DO_NOT_USE) collect no charge: in a noiseless exposure their
    # ramps only see the IPC leak of their neighbours (a few % of the sky)
    mask = fits.getdata([r for r in refs if "mask" in r.name][0], "DQ")
    dead = (mask & (1 << 10)) != 0
    sky = np.median(raw[-1] - raw[0])
    assert sky > 10
    if dead.any():
        from scipy.ndimage import maximum_filter

        nbr = maximum_filter(raw[-1] - raw[0], size=3)
        assert np.all(raw[-1][dead] - raw[0][dead] <= 0.05 * nbr[dead] + 1.0)   # + 1 DN of rounding


def test_cosmic_rays_and_snowballs(tmp_path):
    from jwcore.sim.noise import cosmic_rays

    rng = np.random.default_rng(1)
    cr = cosmic_rays(rng, (256, 256), 50, 10.7, 1.6e-5, 0.5, 256 * 256, kind="snowball")
    assert cr.n_events > 100 and cr.n_large > 5
    assert cr.pixel.min() >= 0 and cr.pixel.max() < 256 * 256 and (cr.frame < 50).all()
    assert cr.charge.max() >= 5e5                     # saturated snowball cores
    shower = cosmic_rays(rng, (256, 256), 50, 2.8, 0.0, 0.5, 256 * 256, kind="shower")
    assert shower.n_large > 0 and shower.charge.max() < 1000   # faint, wide MIRI showers


def test_one_over_f_spectrum():
    from jwcore.sim.noise import one_over_f

    s = one_over_f(np.random.default_rng(0), 200, 2048, 3.0)
    assert s.shape == (200, 2048) and np.allclose(s.std(axis=1), 3.0, rtol=1e-3)
    p = (np.abs(np.fft.rfft(s, axis=1)) ** 2).mean(0)
    f = np.fft.rfftfreq(2048)
    lo, hi = p[(f > 0.002) & (f < 0.01)].mean(), p[(f > 0.2) & (f < 0.4)].mean()
    assert lo / hi > 10                               # power rises to low frequencies


def test_dithered_mosaic_plan_and_associations(tmp_path):
    spec = detector("NIRISS", "NIS")
    plan = plan_observation(spec, filters=["F150W", "F200W"], ngroups=2, subarray="SUB64", dithers=2,
                            mosaic=(2, 1), seed=5)
    assert len(plan) == 8 and len({c.base_name for c in plan}) == 8
    assert [c.date_obs for c in plan] == sorted(c.date_obs for c in plan)
    prods = simulate_observation(spec, tmp_path, plan, options=RampOptions(noiseless=True))
    asns = write_associations(spec, prods, tmp_path)
    import json

    a2 = json.loads(asns[0].read_text())
    assert a2["asn_type"] == "image2" and len(a2["products"]) == 8
    a3 = [json.loads(a.read_text()) for a in asns[1:]]
    assert len(a3) == 2 and all(len(a["products"][0]["members"]) == 4 for a in a3)
    assert {a["products"][0]["name"] for a in a3} == {"jw01234-o001_t001_niriss_clear-f150w",
                                                       "jw01234-o001_t001_niriss_clear-f200w"}
    # a dither moves the sources by the commanded offset (x pixels ~ -dX/scale, parity -1)
    from astropy.table import Table

    c1 = Table.read(prods[0].catalog, format="ascii.ecsv")
    c2 = Table.read(prods[1].catalog, format="ascii.ecsv")
    d = plan[1].dither
    shift = np.hypot(np.median(c2["x"] - c1["x"]) * spec.sci_scale[0], np.median(c2["y"] - c1["y"]) * spec.sci_scale[1])
    assert shift == pytest.approx(np.hypot(*d), rel=0.02)
    with fits.open(prods[1].uncal) as h:
        assert h[0].header["PATT_NUM"] == 2 and h[0].header["XOFFSET"] == pytest.approx(d[0])


def test_cli_simulate_and_errors(tmp_path, capsys):
    from jwcore.cli.main import main

    out = tmp_path / "run"
    rc = main(["simulate", str(out), "--instrument", "fgs", "--detector", "GUIDER2", "--subarray", "SUB32CNTR",
               "--ngroups", "3", "--dithers", "2", "--seed", "9"])
    assert rc == 0
    files = sorted(x.name for x in out.iterdir())
    assert sum(f.endswith("_uncal.fits") for f in files) == 2 and sum(f.endswith("_truth.ecsv") for f in files) == 2
    assert any(f.endswith("image2_asn.json") for f in files) and any(f.endswith("image3_asn.json") for f in files)
    assert (out / "refs" / "store.json").exists()
    for bad in (["--subarray", "SUB999"], ["--readpatt", "DEEP8"], ["--ngroups", "0"], ["--mosaic", "3"]):
        capsys.readouterr()
        rc = main(["simulate", str(tmp_path / "x"), "--instrument", "fgs", *bad])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and err.startswith("jwcal: error:") and "\n" not in err, (bad, err)


@pytest.mark.slow
def test_full_frame_speed(tmp_path):
    """2048x2048 x 10 groups in well under a minute (measured ~5 s on 2 cores)."""
    spec = detector("NIRCAM", "NRCA1")
    t0 = time.perf_counter()
    p = simulate_exposure(spec, ExposureConfig("NIRCAM", "NRCA1", ngroups=10, seed=1), tmp_path)
    dt = time.perf_counter() - t0
    assert fits.getdata(p.uncal, "SCI").shape == (1, 10, 2048, 2048)
    assert dt < 30.0, dt


def test_cli_zero_frame_option(tmp_path):
    """``jwcal simulate --zero-frame`` writes each integration's ZEROFRAME (ZEROFRAM = T),
    below group 1 on a bright pixel; without it there is none."""
    from jwcore.cli.main import main

    def sim(folder, *extra):
        try:
            main(["simulate", str(folder), "-i", "nircam", "-d", "NRCA1", "--subarray", "SUB64P", "--readpatt",
                  "MEDIUM8", "--ngroups", "2", "--nints", "2", "--no-refs", "--no-cosmic-rays", *extra])
        except SystemExit as exc:
            assert exc.code in (0, None)
        return next(folder.glob("*_uncal.fits"))

    with fits.open(sim(tmp_path / "zf", "--zero-frame")) as h:
        assert h[0].header["ZEROFRAM"] is True
        zf, sci = h["ZEROFRAME"].data, h["SCI"].data
        assert zf.shape == (2,) + sci.shape[2:]
        bright = np.unravel_index(np.argmax(sci[0, 0]), sci.shape[2:])
        assert zf[0][bright] < sci[0, 0][bright]
    with fits.open(sim(tmp_path / "plain")) as h:
        assert "ZEROFRAME" not in h and h[0].header.get("ZEROFRAM") in (False, None)
