"""`jwcal niriss ...`: the commands exist only with the NIRISS plugin loaded; the flux-
calibration chain (ee -> meanflux -> totfluxes, sb -> meansb, countrates) on simulated
exposures; plots with and without matplotlib; one-line errors."""

import logging
import os
import subprocess
import sys

import click
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from click.testing import CliRunner

from jwcore.cli.main import JwcalGroup
from jwcore.datamodel import CubeModel
from jwcal_niriss import commissioning as nc
from jwcal_niriss.analysis import countrate_numpy, expected_countrate
from jwcal_niriss.plugin import plugin

SIGMA, FLUX = 2.5, 5e5
HC = 6.62607015e-27 * 2.99792458e18          # erg Angstrom
AREA = 25.4e4


def _cli():
    @click.group(cls=JwcalGroup)
    def cli():
        pass

    plugin.jwcal_register_commands(cli=cli)
    return cli


def _commands(env_value):
    env = dict(os.environ, JWCAL_LOAD_PLUGINS=env_value)
    out = subprocess.run([sys.executable, "-m", "jwcore", "--help"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("Commands:")[1].splitlines()
    return {ln.split()[0] for ln in lines if ln.startswith("  ") and ln.split()}


def test_commands_only_with_the_niriss_plugin():
    with_niriss = _commands("niriss")
    without = _commands("nircam,miri")
    assert "niriss" in with_niriss and "run" in with_niriss
    assert "niriss" not in without and "run" in without


def test_group_lists_all_commands():
    r = CliRunner().invoke(_cli(), ["niriss", "--help"])
    assert r.exit_code == 0
    for name in ("simplephot", "filteroffsets", "ee", "meanflux", "sb", "meansb", "totfluxes", "countrates"):
        assert f"  {name} " in r.output


@pytest.fixture
def dithers(nis, tmp_path):
    """Two dithered F150W SUB256 exposures of one star (Gaussian PSF, sigma 2.5 px)."""
    paths = []
    for k, (x, y) in enumerate(((100.31, 120.77), (140.62, 110.15)), start=1):
        rng = np.random.default_rng(10 + k)
        clean = nis.gauss_stars((256, 256), x, y, FLUX, SIGMA) + 1.0
        err = np.sqrt(clean / 300.0)
        m = nis.niriss_image(clean + rng.normal(0, err), None, err, "F150W", "SUB256", f"f150w_sub256_{k}_cal.fits")
        paths.append((m.save(tmp_path / f"f150w_sub256_{k}_cal.fits"), round(x), round(y)))
    return paths


def test_flux_calibration_chain(dithers, tmp_path, monkeypatch):
    """ee on each dither, meanflux, totfluxes with an analytic PSF EE table: the total rate to 0.5%."""
    monkeypatch.chdir(tmp_path)
    cli, run = _cli(), CliRunner()
    for k, (p, x, y) in enumerate(dithers, start=1):
        extra = ["--usemedian"] if k == 2 else []
        r = run.invoke(cli, ["niriss", "ee", str(p), str(x), str(y), "-o", f"f150w_sub256_{k}.radtab", "--no-plot",
                             "--fluxes", f"f150w_sub256_{k}.fluxes"] + extra)
        assert r.exit_code == 0, r.output
        assert "centre (" in r.output
    one = nc.read_table("f150w_sub256_1.radtab")
    assert one.meta["filter"] == "F150W" and one.meta["replacement"] == "polyfit"
    assert len(nc.read_table("f150w_sub256_1.fluxes")) == 1
    r = run.invoke(cli, ["niriss", "meanflux", "f150w_sub256", "--no-plot"])
    assert r.exit_code == 0, r.output
    av = nc.read_table("f150w_sub256.avtab")
    assert av.meta["inputs"] == ["f150w_sub256_1.radtab", "f150w_sub256_2.radtab"]
    assert np.all(av["avflag"] == 1) and np.all(av["ntables"] == 2)
    rr = np.asarray(av["radius"])
    analytic = 1 - np.exp(-rr ** 2 / (2 * SIGMA ** 2))
    assert np.max(np.abs(np.asarray(av["flux"]) / FLUX / analytic - 1)) <= 0.005
    # the PSF model's EE table (total-normalised), as *psf.radtab
    pr = np.arange(0.5, 25.01, 0.5)
    Table({"radius": pr, "ee": 1 - np.exp(-pr ** 2 / (2 * SIGMA ** 2))}).write("f150wpsf.radtab", format="ascii.ecsv")
    r = run.invoke(cli, ["niriss", "totfluxes", "SUB256"])
    assert r.exit_code == 0, r.output
    tot = nc.read_table("totfluxes.ecsv")
    assert list(tot["filter"]) == ["F150W"] and tot["nradii"][0] == 6          # radii 5..10
    assert tot["countrate"][0] == pytest.approx(FLUX, rel=0.005)
    assert "F150W" in r.output


def test_surface_brightness_chain(dithers, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli, run = _cli(), CliRunner()
    for k, (p, x, y) in enumerate(dithers, start=1):
        r = run.invoke(cli, ["niriss", "sb", str(p), str(x), str(y), "--radii", "1:12:1", "-o",
                             f"f150w_sub256_{k}.sbtab", "--no-plot"])
        assert r.exit_code == 0, r.output
    r = run.invoke(cli, ["niriss", "meansb", "f150w_sub256", "--no-plot"])
    assert r.exit_code == 0, r.output
    t = nc.read_table("f150w_sub256.avsbtab")
    rr = np.asarray(t["radius"])
    assert rr.tolist() == list(np.arange(1.0, 13.0))
    # analytic mean over each 1-px annulus (pixel-centre membership: a few % of discreteness)
    inner, outer = rr - 0.5, rr + 0.5
    analytic = FLUX * (np.exp(-inner ** 2 / (2 * SIGMA ** 2)) - np.exp(-outer ** 2 / (2 * SIGMA ** 2))) / (np.pi * 2 * rr)
    use = (rr >= 2) & (rr <= 8)
    assert np.max(np.abs(np.asarray(t["sb"])[use] / analytic[use] - 1)) < 0.05
    assert np.all(t["avflag"][:8] == 1)


def _spectrum_fits(path, c_flam):
    wave = np.linspace(5000.0, 60000.0, 2000)
    cols = [fits.Column("WAVELENGTH", "D", unit="ANGSTROMS", array=wave),
            fits.Column("FLUX", "E", unit="FLAM", array=np.full(wave.size, c_flam))]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)


def _box_throughput(path, lo, hi, t=0.5):
    w = np.r_[lo - 1000, lo - 1e-3, np.linspace(lo, hi, 400), hi + 1e-3, hi + 1000]
    thr = np.where((w >= lo) & (w <= hi), t, 0.0)
    np.savetxt(path, np.c_[w, thr], header="wavelength throughput", comments="")


def test_countrates_numpy_and_synphot(tmp_path, monkeypatch):
    """Flat F_lambda through box throughputs: rate = A/(hc) C T (hi^2 - lo^2)/2 (numpy to 1e-4, synphot to 0.5%)."""
    monkeypatch.chdir(tmp_path)
    c = 2e-16
    _spectrum_fits("star_stis_001.fits", c)
    _box_throughput("jwst_niriss_f150w.txt", 13000.0, 17000.0)
    _box_throughput("jwst_niriss_f444w.txt", 38000.0, 50000.0)
    expect = {f: AREA / HC * c * 0.5 * (hi ** 2 - lo ** 2) / 2 for f, lo, hi in
              (("F150W", 13000.0, 17000.0), ("F444W", 38000.0, 50000.0))}
    r = CliRunner().invoke(_cli(), ["niriss", "countrates", "star_stis_001.fits", "jwst_niriss_f150w.txt",
                                    "jwst_niriss_f444w.txt", "--engine", "numpy"])
    assert r.exit_code == 0, r.output
    t = nc.read_table("countrates.ecsv")
    for row in t:
        assert row["countrate_e"] == pytest.approx(expect[row["filter"]], rel=1e-4)
        assert row["countrate_dn"] == pytest.approx(row["countrate_e"] / 1.61)
        assert row["engine"] == "numpy"
    # $NIS_SYNPHOT supplies the throughput files when none are given
    monkeypatch.setenv("NIS_SYNPHOT", str(tmp_path))
    t2 = nc.countrates("star_stis_001.fits", engine="numpy")
    assert sorted(t2["filter"]) == ["F150W", "F444W"]
    pytest.importorskip("synphot")
    t3 = nc.countrates("star_stis_001.fits", ["jwst_niriss_f150w.txt"], engine="auto")
    assert t3["engine"][0] == "synphot"
    assert t3["countrate_e"][0] == pytest.approx(expect["F150W"], rel=0.005)


def test_countrate_functions_agree_on_a_smooth_spectrum():
    wave = np.linspace(8000.0, 30000.0, 3000)
    flux = 1e-15 * (wave / 10000.0) ** -2.0
    tw = np.linspace(9000.0, 26000.0, 500)
    thr = 0.4 * np.exp(-0.5 * ((tw - 17000.0) / 2500.0) ** 2)
    a = countrate_numpy(wave, flux, tw, thr)
    # independent: a fine common grid and a plain Riemann sum
    g = np.linspace(9000.0, 26000.0, 200001)
    ref = AREA / HC * np.sum(np.interp(g, wave, flux) * np.interp(g, tw, thr) * g) * (g[1] - g[0])
    assert a == pytest.approx(ref, rel=1e-4)
    with pytest.raises(ValueError, match="does not cover"):
        countrate_numpy(wave[wave > 12000], flux[wave > 12000], tw, thr)
    pytest.importorskip("synphot")
    b, engine = expected_countrate(wave, flux, tw, thr, engine="synphot")
    assert engine == "synphot" and b == pytest.approx(a, rel=0.005)


def test_plots_written_and_skipped_without_matplotlib(dithers, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    p, x, y = dithers[0]
    r = CliRunner().invoke(_cli(), ["niriss", "ee", str(p), str(x), str(y), "-o", "a.radtab"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "a_ee.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # no matplotlib: the table is still written, the plot skipped with a log line
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    log = logging.getLogger("jwcal.niriss")
    log.addHandler(handler)
    old = log.level
    log.setLevel(logging.INFO)
    try:
        r = CliRunner().invoke(_cli(), ["niriss", "ee", str(p), str(x), str(y), "-o", "b.radtab"])
    finally:
        log.removeHandler(handler)
        log.setLevel(old)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "b.radtab").exists() and not (tmp_path / "b_ee.png").exists()
    assert any("matplotlib is not installed" in rec.getMessage() for rec in records)


def test_one_line_errors(dithers, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli, run = _cli(), CliRunner()
    CubeModel(data=np.zeros((2, 8, 8), np.float32)).save(tmp_path / "x_rateints.fits")
    cases = [
        (["niriss", "simplephot", "nothere_cal.fits"], "nothere_cal.fits: no such file"),
        (["niriss", "ee", "x_rateints.fits", "3", "3"], "needs a 2-D image"),
        (["niriss", "ee", str(dithers[0][0]), "900", "3"], "is off the 256x256 image"),
        (["niriss", "meanflux", "nosuchroot"], "no tables nosuchroot*.radtab"),
        (["niriss", "totfluxes", "SUB64"], "no mean EE tables"),
        (["niriss", "countrates", "nothere.fits", "--engine", "numpy"], "nothere.fits: no such file"),
    ]
    for args, msg in cases:
        r = run.invoke(cli, args)
        assert r.exit_code == 2, (args, r.output)
        assert msg in r.output and r.output.startswith("jwcal: error:") and r.output.count("\n") == 1, r.output
    r = run.invoke(cli, ["niriss", "ee", str(dithers[0][0]), "3", "3", "--radii", "5,2"])
    assert r.exit_code == 2 and "radii must be positive and increasing" in r.output
