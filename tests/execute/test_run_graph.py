"""A whole (toy) program through stages 1 -> 2 -> 3: executors agree, resume, failure
isolation, run record and re-run, report."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from jwcore.datamodel import open_model
from jwcore.plugins import make_plugin_manager, set_plugin_manager

from ..core.helpers import toy_ramp

ROOT = Path(__file__).resolve().parents[2]
NA = "--steps.toy_add.override_gain=N/A"


@pytest.fixture
def installed_toy(tmp_path, monkeypatch):
    """The toy plugin as an installed distribution, visible to worker processes too."""
    site = tmp_path / "site"
    info = site / "jwcal_toy-9.9.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: jwcal-toy\nVersion: 9.9\n")
    (info / "entry_points.txt").write_text("[jwcal.plugins]\ntoy = tests.core.toy_plugin\n")
    path = os.pathsep.join([str(site), str(ROOT), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("JWCAL_LOAD_PLUGINS", "toy")
    import importlib

    importlib.invalidate_caches()
    old = set_plugin_manager(make_plugin_manager())
    yield
    set_plugin_manager(old)


@pytest.fixture
def program(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for i, filt in enumerate(["F1", "F1", "F2", "F2"]):
        toy_ramp(raw / f"jw01234001001_01101_0000{i + 1}_toy1_uncal.fits", filt=filt, offset=100.0 * i)
    return raw


def jwcal(args, capsys):
    from jwcore.cli.main import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def products(folder):
    return {p.name: open_model(p).data.copy() for p in sorted(Path(folder).glob("*.fits"))}


def test_graph_runs_all_stages_and_executors_agree(installed_toy, program, tmp_path, capsys):
    results = {}
    for name, extra in [("serial", ["--executor", "serial"]), ("procs", ["-j", "2"]),
                        ("dask", ["--executor", "dask", "-j", "2"])]:
        code, err = jwcal(["run", program, "-o", tmp_path / name, NA, *extra], capsys)
        assert code == 0, err
        results[name] = products(tmp_path / name)
    names = set(results["serial"])
    assert {"jw01234-o001_t001_toycam_f1_i2d.fits", "jw01234-o001_t001_toycam_f2_i2d.fits"} <= names
    assert sum(n.endswith("_rate.fits") for n in names) == 4 and sum(n.endswith("_cal.fits") for n in names) == 4
    for other in ("procs", "dask"):
        assert set(results[other]) == names
        for n in names:
            np.testing.assert_array_equal(results[other][n], results["serial"][n])
    # stage 3 = mean of stage-2 products of the group; stage 2 = 2 x stage-1 rate
    i2d = results["serial"]["jw01234-o001_t001_toycam_f2_i2d.fits"]
    rates = [results["serial"][f"jw01234001001_01101_0000{i}_toy1_rate.fits"] for i in (3, 4)]
    np.testing.assert_allclose(i2d, 2 * (rates[0] + rates[1]) / 2, rtol=1e-6)
    asn = json.loads((tmp_path / "serial" / "jw01234-o001_t001_toycam_f1_asn.json").read_text())
    assert [m["expname"] for m in asn["products"][0]["members"]] == [
        "jw01234001001_01101_00001_toy1_cal.fits", "jw01234001001_01101_00002_toy1_cal.fits"]


def test_resume_skips_up_to_date_and_force_recomputes(installed_toy, program, tmp_path, capsys):
    out = tmp_path / "out"
    assert jwcal(["run", program, "-o", out, NA, "--executor", "serial"], capsys)[0] == 0
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("*.fits")}
    code, err = jwcal(["run", program, "-o", out, NA, "--executor", "serial"], capsys)
    assert code == 0 and err.count("up-to-date") >= 10
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.fits")} == mtimes
    code, err = jwcal(["run", program, "-o", out, NA, "--executor", "serial", "--force"], capsys)
    assert code == 0 and "up-to-date" not in err.split("unit", 1)[1]
    # a changed parameter recomputes
    code, err = jwcal(["run", program, "-o", out, NA, "--executor", "serial", "--steps.toy_scale.factor=3"], capsys)
    assert code == 0
    rate = open_model(out / "jw01234001001_01101_00001_toy1_rate.fits").data
    np.testing.assert_allclose(open_model(out / "jw01234001001_01101_00001_toy1_cal.fits").data, 3 * rate)


def test_bad_exposure_fails_alone_and_dependants_are_skipped(installed_toy, program, tmp_path, capsys):
    (program / "jw01234001001_01101_00009_toy1_uncal.fits").write_bytes(b"not fits" * 500)
    out = tmp_path / "out"
    code, err = jwcal(["run", program, "-o", out, NA, "--executor", "serial",
                       "--steps.toy_scale.fail_on=00003"], capsys)
    assert code == 1
    assert "00009_toy1_uncal.fits: not a readable FITS file" in err
    assert "injected failure" in err and "skipped" in err
    assert (out / "jw01234-o001_t001_toycam_f1_i2d.fits").exists()       # other group finished
    assert not (out / "jw01234-o001_t001_toycam_f2_i2d.fits").exists()   # its input failed
    assert (out / "jw01234001001_01101_00004_toy1_cal.fits").exists()
    rec = json.loads((out / "jwcal_run_latest.json").read_text())
    status = {u["id"]: u["status"] for u in rec["units"]}
    assert status["s2:jw01234001001_01101_00003_toy1"] == "failed"
    assert status["s3:jw01234-o001_t001_toycam_f2"] == "skipped"


def test_interrupted_run_resumes(installed_toy, program, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "jwcore", "run", str(program), "-o", str(out), NA, "--executor", "serial",
           "--steps.toy_scale.sleep=1.5"]
    env = dict(os.environ)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and not list(out.glob("*_cal.fits")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    done = {p.name: p.stat().st_mtime_ns for p in out.glob("*.fits")}
    assert any(n.endswith("_cal.fits") for n in done) and not any(n.endswith("_i2d.fits") for n in done)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for name, mtime in done.items():   # finished products were not recomputed
        assert (out / name).stat().st_mtime_ns == mtime, name
    assert len(list(out.glob("*_i2d.fits"))) == 2


def test_manifest_reruns_same_products_and_report(installed_toy, program, tmp_path, capsys):
    out = tmp_path / "out"
    assert jwcal(["run", program, "-o", out, NA, "--executor", "serial", "--steps.toy_add.value=5"], capsys)[0] == 0
    record = out / "jwcal_run_latest.json"
    doc = json.loads(record.read_text())
    assert doc["config"]["steps"]["toy_add"]["value"] == "5" and doc["versions"]["jwcal-toy"] == "9.9"
    assert all(u["status"] == "ok" and u["outputs"] and u["outputs"][0]["sha256"] for u in doc["units"])
    out2 = tmp_path / "again"
    code, err = jwcal(["run", "--manifest", record, "-o", out2, "--executor", "serial"], capsys)
    assert code == 0, err
    first, second = products(out), products(out2)
    assert set(first) == set(second)
    for n in first:
        np.testing.assert_array_equal(first[n], second[n])
    code, err = jwcal(["report", record, "-o", tmp_path / "report.html"], capsys)
    assert code == 0
    page = (tmp_path / "report.html").read_text()
    assert "jw01234-o001_t001_toycam_f1_i2d.fits" in page and "<img" in page
    pngs = list((tmp_path / "report_png").glob("*.png"))
    assert len(pngs) >= 10 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
