"""The ``skymatch`` step against jwst 3.0's SkyMatchStep, and its sky statistics against
``stsci.imagestats`` (what jwst's SkyStats uses).

Inputs: dithered 64x64 NIRCam exposures (tests/stage3/_kit.py) with different sky pedestals,
read by jwst through its own ModelLibrary from the same association.

Tolerance: sky levels identical (every method, subtract on/off, exposure groups) and, with
``subtract=True``, SCI identical (the float32 subtraction rounds as jwst's: a sky value that
is a numpy float64 is subtracted in float64, a Python float in float32); statistics identical
to stsci.imagestats for mean/median/mode/midpt with clipping and limits (1200 random cases).
"""

from __future__ import annotations

import numpy as np
import pytest

from . import _kit

SKIES = [0.31, 0.52, 0.20, 0.45]


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    folder = tmp_path_factory.mktemp("skymatch")
    ex = _kit.make_exposures(folder, n=4, seed=5, skies=SKIES, n_outliers=0, n_stars=4, flux_range=(2e-7, 1e-6))
    return folder, ex, _kit.write_asn(folder, ex)


def run_ours(asn, folder, **kw):
    from jwcore.steps.skymatch.skymatch_step import SkyMatchStep

    view = SkyMatchStep(**kw).run(_kit.jwcal_library(asn), _kit.run_context(folder / "out")).model
    out = []
    for i in range(len(view)):
        with view.open(i) as m:
            b = m.meta.background
            out.append((b.level, b.subtracted, b.method, m.meta.cal_step.skymatch, m.data.copy()))
    return out


def run_jwst(asn, **kw):
    import warnings

    from jwst.skymatch import SkyMatchStep

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lib = SkyMatchStep(**kw).run(str(asn))
        out = []
        with lib:
            for m in lib:
                b = m.meta.background
                out.append((b.level, b.subtracted, b.method, m.meta.cal_step.skymatch, m.data.copy()))
                lib.shelve(m, modify=False)
    return out


def assert_same(ours, theirs):
    for (lv, sub, meth, st, data), (lv_j, sub_j, meth_j, st_j, data_j) in zip(ours, theirs):
        assert lv == lv_j                                  # tolerance: identical
        assert (sub, meth, st) == (sub_j, meth_j, st_j)
        np.testing.assert_array_equal(data, data_j)


CASES = {
    "match": dict(skymethod="match"),
    "match-subtract": dict(skymethod="match", subtract=True),
    "local-midpt": dict(skymethod="local", skystat="midpt"),
    "global-subtract": dict(skymethod="global", subtract=True, skystat="median"),
    "global+match-subtract": dict(skymethod="global+match", subtract=True),
    "global+match-mean-limits": dict(skymethod="global+match", skystat="mean", lower=-1.0, upper=5.0, nclip=3,
                                     stepsize=16),
    "match-up-dqbits": dict(skymethod="match", match_down=False, dqbits="~DO_NOT_USE", binwidth=0.05),
}
SLOW = {"local-midpt", "global-subtract", "global+match-mean-limits"}


@pytest.mark.parity
@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c for c in CASES])
def test_skymatch_matches_jwst(field, case):
    pytest.importorskip("jwst")
    folder, _, asn = field
    assert_same(run_ours(asn, folder, **CASES[case]), run_jwst(asn, **CASES[case]))


@pytest.mark.parity
def test_skymatch_groups_match_jwst(tmp_path):
    """Exposures sharing an exposure number (e.g. the detectors of one exposure) are matched
    as one group (jwst's SkyGroup)."""
    pytest.importorskip("jwst")
    ex = _kit.make_exposures(tmp_path, n=4, seed=6, skies=SKIES, n_outliers=0, exposure_numbers=[1, 1, 2, 2])
    asn = _kit.write_asn(tmp_path, ex)
    for kw in (dict(skymethod="global+match"), dict(skymethod="local", subtract=True)):
        ours = run_ours(asn, tmp_path, **kw)
        assert_same(ours, run_jwst(asn, **kw))
    ours = run_ours(asn, tmp_path, skymethod="local")
    assert ours[0][0] == ours[1][0] and ours[2][0] == ours[3][0]   # a group has one level


def test_match_recovers_the_injected_sky_differences(field):
    """Pixel noise is 0.018 here: the clipped median of ~3000 overlap pixels is good to ~1e-3
    (asserted 3e-3); the histogram mode (jwst's default) to ~0.3 sigma (asserted 0.015)."""
    folder, _, asn = field
    for stat, atol in (("median", 3e-3), ("mode", 0.015)):
        levels = [r[0] for r in run_ours(asn, folder, skymethod="match", skystat=stat)]
        assert min(levels) == 0.0
        np.testing.assert_allclose(np.array(levels) - levels[int(np.argmin(SKIES))],
                                   np.array(SKIES) - min(SKIES), atol=atol)
    levels = [r[0] for r in run_ours(asn, folder, skymethod="match")]
    glob = [r[0] for r in run_ours(asn, folder, skymethod="globalmin+match")]   # drizzlepac name
    assert min(glob) > 0.15
    np.testing.assert_allclose(np.array(glob) - min(glob), np.array(levels) - min(levels), atol=1e-12)


def test_subtract_and_user_sky(field, tmp_path):
    from jwcore.datamodel import open_model

    folder, ex, asn = field
    out = run_ours(asn, folder, skymethod="localmin", subtract=True, skystat="median")
    for (level, sub, method, status, data), e in zip(out, ex):
        raw = open_model(e.path).data
        assert sub is True and method == "local" and status == "COMPLETE"
        assert abs(level - e.sky) < 3e-3
        expect = raw.copy()
        expect -= level                        # jwst: ``image -= sky`` on the float32 SCI
        np.testing.assert_array_equal(data, expect)
    skylist = tmp_path / "sky.txt"
    skylist.write_text("".join(f"{e.path.name} {0.1 * (k + 1)}\n" for k, e in enumerate(ex)))
    user = run_ours(asn, folder, skymethod="user", skylist=str(skylist))
    assert [round(u[0], 6) for u in user] == [0.1, 0.2, 0.3, 0.4]
    assert all(u[2] == "user" and u[1] is False for u in user)


def test_inconsistent_background_state_is_an_error(field):
    """A library whose levels were measured without subtraction cannot be matched with
    subtract=True (as jwst)."""
    from jwcore.errors import BadInputError
    from jwcore.steps.skymatch.skymatch_step import SkyMatchStep

    folder, _, asn = field
    view = SkyMatchStep().run(_kit.jwcal_library(asn), _kit.run_context(folder / "out")).model
    with pytest.raises(BadInputError):
        SkyMatchStep(subtract=True).run(view, _kit.run_context(folder / "out"))


def test_sky_statistics_match_imagestats():
    imagestats = pytest.importorskip("stsci.imagestats")
    from jwcore.steps.skymatch.skystats import sky_statistics

    rng = np.random.default_rng(0)
    for trial in range(300):
        n = int(rng.integers(5, 3000))
        v = rng.normal(rng.uniform(-1, 5), rng.uniform(0.01, 3), n).astype(np.float32)
        if trial % 3 == 0:
            v[rng.integers(0, n, n // 20)] += rng.uniform(10, 100, n // 20).astype(np.float32)
        if trial % 5 == 0:
            v[0] = -50.0          # a first value outside the clipping range (see skystats)
        if trial % 7 == 0:
            v[0] = 500.0
        for stat in ("mode", "midpt", "mean", "median"):
            kw = dict(nclip=int(rng.integers(0, 6)), lsig=4.0, usig=4.0, binwidth=float(rng.choice([0.1, 0.05, 0.3])))
            if trial % 11 == 0:
                kw.update(lower=-2.0, upper=20.0)
            ref = imagestats.ImageStats(v, fields=f"npix,{stat}", **kw)
            value, npix = sky_statistics(v, stat, **kw)
            assert npix == ref.npix
            assert value == getattr(ref, stat), (trial, stat)     # tolerance: identical


def test_polygon_overlap_is_the_spherical_intersection():
    """Two squares offset by half a side overlap in a rectangle of half the area."""
    from jwcore.steps.resample.geometry import intersect, polygon_area

    d = 10.0 / 3600.0
    a = np.array([[150.0, 2.0], [150.0 + d, 2.0], [150.0 + d, 2.0 + d], [150.0, 2.0 + d]])
    b = a + [0.5 * d, 0.0]
    poly = intersect(a, b)
    assert poly is not None
    assert polygon_area(poly[:, 0], poly[:, 1]) == pytest.approx(0.5 * polygon_area(a[:, 0], a[:, 1]), rel=1e-4)
    assert np.all(poly[:, 0] >= 150.0 + 0.5 * d - 1e-12) and np.all(poly[:, 0] <= 150.0 + d + 1e-12)
    assert intersect(a, a + [2 * d, 0.0]) is None
