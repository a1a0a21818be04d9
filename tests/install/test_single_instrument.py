"""`pip install . ./plugins/miri` alone gives a working MIRI pipeline with no other instrument.

A real, fresh virtual environment (packages from the index), so it is slow.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_miri_only_environment(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(ROOT), str(ROOT / "plugins" / "miri")],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    jwcal = venv / "bin" / "jwcal"
    r = subprocess.run([str(jwcal), "plugins", "--json"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    plugins = {p["name"]: p for p in json.loads(r.stdout)}
    assert "miri" in plugins and not plugins["miri"]["broken"]
    assert not {"nircam", "niriss", "nirspec", "fgs"} & set(plugins)
    r = subprocess.run([str(py), "-c", "import jwcal_nircam"], capture_output=True, text=True)
    assert r.returncode != 0
    sim = tmp_path / "raw"
    r = subprocess.run([str(jwcal), "simulate", str(sim), "-i", "miri", "--subarray", "SUB64", "--ngroups", "5",
                        "--nints", "2"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run([str(jwcal), "run", str(sim), "-o", str(tmp_path / "out"), "--to-stage", "1", "--refs",
                        str(sim / "refs")], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert list((tmp_path / "out").glob("*_mirimage_rate.fits"))
    r = subprocess.run([str(jwcal), "simulate", str(tmp_path / "x"), "-i", "nircam"], capture_output=True, text=True)
    assert r.returncode != 0 and "Traceback" not in r.stderr
