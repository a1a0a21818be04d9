"""Filter-to-filter offsets: simplephot + filteroffsets on simulated NIRISS exposures with a
known injected offset (recovered to <= 0.01 pixel), source rejection, matching, clipping."""

import numpy as np
import pytest
from click.testing import CliRunner

from jwcore import dq as dqflags
from jwcore.cli.main import JwcalGroup
from jwcal_niriss import commissioning as nc
from jwcal_niriss.analysis import centroid, clipped_stats, filter_offsets, match_catalogs, simplephot
from jwcal_niriss.plugin import plugin

import click

SHAPE = (256, 256)
OFFSET = (0.137, -0.262)          # F150W minus F200W, pixels
SAT = dqflags.SATURATED | dqflags.DO_NOT_USE


def _positions(rng, n, shape, margin=16, minsep=14):
    pts = []
    while len(pts) < n:
        p = rng.uniform(margin, np.array(shape[::-1]) - margin)
        if all(np.hypot(*(p - q)) >= minsep for q in pts):
            pts.append(p)
    return np.array(pts)


def _exposure(nis, pos, fluxes, sigma, shift, filt, seed, sky=0.4, t_gain=200.0):
    """A rate image in DN/s: stars, sky, Poisson and read noise (``t_gain`` = exposure time x gain)."""
    rng = np.random.default_rng(seed)
    clean = nis.gauss_stars(SHAPE, pos[:, 0] + shift[0], pos[:, 1] + shift[1], fluxes, sigma) + sky
    noisy = rng.poisson(clean * t_gain) / t_gain + rng.normal(0, 0.01, SHAPE)
    err = np.sqrt(clean / t_gain + 0.01 ** 2)
    return noisy.astype(np.float32), err.astype(np.float32)


@pytest.fixture(scope="module")
def field():
    rng = np.random.default_rng(7)
    pos = _positions(rng, 36, SHAPE)
    fluxes = rng.uniform(2e3, 2e4, len(pos))
    return pos, fluxes


def _write_pair(nis, field, tmp_path, defects=True):
    pos, fluxes = field
    a, ea = _exposure(nis, pos, fluxes, 1.1, OFFSET, "F150W", seed=1)
    b, eb = _exposure(nis, pos, fluxes, 1.5, (0.0, 0.0), "F200W", seed=2)
    dqa = np.zeros(SHAPE, np.uint32)
    if defects:
        # star 0: three saturated pixels (rejected); star 1: one (kept); star 2: a dead pixel beside it
        for k, n in ((0, 3), (1, 1)):
            x, y = np.rint(pos[k] + OFFSET).astype(int)
            for i in range(n):
                dqa[y, x + i] |= SAT
                a[y, x + i] = np.nan
        x, y = np.rint(pos[2] + OFFSET).astype(int)
        dqa[y + 2, x] |= dqflags.DO_NOT_USE | dqflags.DEAD
        a[y + 2, x] = 0.0
    pa = nis.niriss_image(a, dqa, ea, "F150W", name="f150w_cal.fits").save(tmp_path / "f150w_cal.fits")
    pb = nis.niriss_image(b, None, eb, "F200W", name="f200w_cal.fits").save(tmp_path / "f200w_cal.fits")
    return pa, pb


def _cli():
    @click.group(cls=JwcalGroup)
    def cli():
        pass

    plugin.jwcal_register_commands(cli=cli)
    return cli


def test_filteroffsets_recovers_injected_offset_cli(nis, field, tmp_path, monkeypatch):
    """The whole workflow through `jwcal niriss`: |recovered - injected| <= 0.01 px on both axes."""
    monkeypatch.chdir(tmp_path)
    pa, pb = _write_pair(nis, field, tmp_path)
    cli, runner = _cli(), CliRunner()
    for p in (pa, pb):
        r = runner.invoke(cli, ["niriss", "simplephot", str(p), "--nsigma", "50"])
        assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["niriss", "filteroffsets", "f150w_cal_simplephot.ecsv", "f200w_cal_simplephot.ecsv",
                            "-o", "matched.ecsv", "--maxdist", "1.5", "--no-plot"])
    assert r.exit_code == 0, r.output
    lines = {ln.split()[0]: ln for ln in r.output.splitlines() if "offset:" in ln}
    dx = float(lines["X"].split()[2])
    dy = float(lines["Y"].split()[2])
    assert abs(dx - OFFSET[0]) <= 0.01 and abs(dy - OFFSET[1]) <= 0.01, r.output
    m = nc.read_table("matched.ecsv")
    assert abs(m.meta["dx_mean"] - OFFSET[0]) <= 0.01 and abs(m.meta["dy_mean"] - OFFSET[1]) <= 0.01
    # the two stars with a saturated pair / a dead neighbour are gone from the F150W list only
    assert len(m) == len(field[0]) - 2
    cat = nc.read_table("f150w_cal_simplephot.ecsv")
    assert cat.meta["rejected"]["saturated"] == 1 and cat.meta["rejected"]["bad_pixels"] == 1
    assert cat.meta["filter"] == "F150W"
    assert int(cat["nsat"].sum()) == 1


def test_offsets_are_precise_per_star(nis, field, tmp_path):
    """Python API: every matched star's dx, dy within 0.02 px of the truth (windowed centroids)."""
    pa, pb = _write_pair(nis, field, tmp_path, defects=False)
    t1, t2 = nc.simplephot(pa, nsigma=50), nc.simplephot(pb, nsigma=50)
    res, m = nc.filteroffsets(t1, t2, maxdist=1.5)
    assert res.nmatched == len(field[0])
    assert np.max(np.abs(res.dx - OFFSET[0])) < 0.02 and np.max(np.abs(res.dy - OFFSET[1])) < 0.02
    assert abs(res.x.mean - OFFSET[0]) <= 0.005 and abs(res.y.mean - OFFSET[1]) <= 0.005
    assert len(m) == res.nmatched and set(m.colnames) >= {"x1", "y1", "x2", "y2", "dx", "dy"}


def test_jwst_written_products(nis, field, tmp_path):
    """A _cal file written by stdatamodels (the jwst pipeline's I/O) gives the same catalogue."""
    dm = pytest.importorskip("stdatamodels.jwst.datamodels")
    pos, fluxes = field
    a, ea = _exposure(nis, pos, fluxes, 1.3, (0, 0), "F150W", seed=3)
    ours = nis.niriss_image(a, None, ea).save(tmp_path / "ours_cal.fits")
    with dm.ImageModel(data=a, dq=np.zeros(SHAPE, np.uint32), err=ea) as m:
        m.meta.instrument.name = "NIRISS"
        m.meta.instrument.detector = "NIS"
        m.meta.instrument.filter = "CLEAR"
        m.meta.instrument.pupil = "F150W"
        m.save(tmp_path / "jwst_cal.fits")
    t_ours = nc.simplephot(ours, nsigma=50)
    t_jwst = nc.simplephot(tmp_path / "jwst_cal.fits", nsigma=50)
    assert t_jwst.meta["filter"] == "F150W"
    assert len(t_ours) == len(t_jwst) == len(pos)
    assert np.array_equal(np.asarray(t_ours["x"]), np.asarray(t_jwst["x"]))
    assert np.array_equal(np.asarray(t_ours["flux"]), np.asarray(t_jwst["flux"]))


def test_simplephot_rejections_on_arrays(nis):
    """Saturated (> 1 pixel) and DO_NOT_USE-touching sources are dropped, edge sources too."""
    pos = np.array([[30.0, 30.0], [70.0, 30.0], [30.0, 70.0], [70.0, 70.0], [2.0, 50.0]])
    img = nis.gauss_stars((100, 100), pos[:, 0], pos[:, 1], 1e4, 1.2) + 1.0
    img += nis.gauss_stars((100, 100), 50.0, 50.0, 4e5, 4.0)      # a galaxy-sized blob
    img += np.random.default_rng(0).normal(0, 0.01, img.shape)
    dq = np.zeros(img.shape, np.uint32)
    dq[30, 30:32] = SAT                              # star 0: two saturated pixels
    dq[30, 70] = SAT                                 # star 1: one saturated pixel (kept)
    dq[73, 30] = dqflags.DO_NOT_USE                  # star 2: a bad pixel 3 px away (inside r_ap)
    img[dq != 0] = np.nan
    cat = simplephot(img, dq, nsigma=100)
    assert cat.ndetected == 6
    assert cat.rejected["saturated"] == 1 and cat.rejected["bad_pixels"] == 1 and cat.rejected["edge"] == 1
    assert cat.rejected["extended"] == 1
    assert len(cat) == 2
    order = np.argsort(cat.x)
    assert np.allclose(cat.x[order], [70.0, 70.0], atol=0.05)
    assert list(cat.nsat[order][np.argsort(cat.y[order])]) == [1, 0]
    # the unflagged star's aperture flux: 4 px radius of a sigma 1.2 Gaussian holds 1 - exp(-r^2/2s^2)
    good = np.argmax(cat.y)
    assert cat.flux[good] == pytest.approx(1e4 * (1 - np.exp(-16 / (2 * 1.2 ** 2))), rel=0.01)


def test_match_is_one_to_one_and_clipping_rejects_outliers():
    x2 = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0])
    y2 = np.zeros(6)
    x1 = np.array([10.1, 10.2, 20.1, 30.1, 40.1, 50.1, 61.5, 90.0])   # two near the first; one mismatch
    y1 = np.zeros(8)
    i1, i2, d = match_catalogs(x1, y1, x2, y2, maxdist=2.0)
    assert list(i2) == [0, 1, 2, 3, 4, 5] and list(i1) == [0, 2, 3, 4, 5, 6]
    res = filter_offsets(x1, y1, x2, y2, maxdist=2.0, kappa=2.0)
    assert res.keep_x.sum() == 5 and not res.keep_x[-1]          # the 1.5 px pair is clipped
    assert res.x.mean == pytest.approx(0.1, abs=1e-12)
    st = clipped_stats(np.r_[np.full(50, 1.0) + np.linspace(-0.1, 0.1, 50), 9.0], kappa=3)
    assert st.n == 50 and st.nrejected == 1 and st.mean == pytest.approx(1.0)


def test_filteroffsets_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.ecsv").write_text("not a table at all\x00\x01")
    r = CliRunner().invoke(_cli(), ["niriss", "filteroffsets", "missing.ecsv", "bad.ecsv"])
    assert r.exit_code == 2 and r.output.strip().count("\n") == 0 and "missing.ecsv: no such file" in r.output
    from astropy.table import Table

    Table({"a": [1.0, 2.0]}).write(tmp_path / "noxy.ecsv")
    Table({"x": [1.0, 2.0], "y": [1.0, 2.0]}).write(tmp_path / "xy.ecsv")
    r = CliRunner().invoke(_cli(), ["niriss", "filteroffsets", "noxy.ecsv", "xy.ecsv"])
    assert r.exit_code == 2 and "no x column" in r.output
    r = CliRunner().invoke(_cli(), ["niriss", "filteroffsets", "xy.ecsv", "xy.ecsv", "--maxdist", "0"])
    assert r.exit_code == 2 and "maxdist must be positive" in r.output


@pytest.mark.parametrize("sigma", [0.5, 0.8, 1.5])
def test_centroid_pixel_phase_error_below_0p01(nis, sigma):
    """Windowed centroids of noiseless Gaussians over a grid of sub-pixel phases: error
    <= 0.01 px even at sigma 0.5 px (FWHM 1.2 px, NIRISS F090W-like undersampling)."""
    worst = 0.0
    for fx in np.linspace(0, 1, 9):
        for fy in (0.0, 0.3, 0.5, 0.8):
            img = nis.gauss_stars((41, 41), 20 + fx, 20 + fy, 1e4, sigma)
            c = centroid(img, 20, 20, 3.0)
            assert c.converged
            worst = max(worst, abs(c.x - 20 - fx), abs(c.y - 20 - fy))
    assert worst <= 0.01
    assert c.fwhm == pytest.approx(2.3548 * sigma, rel=0.1 if sigma > 0.6 else 0.3)
