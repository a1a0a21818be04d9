"""Shared test set-up: offline settings for the jwst peer, and helpers."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
REAL = ROOT.parent / "shared" / "data" / "real"


def pytest_configure(config):
    # The jwst peer must never touch the network (see docs/testing.md).
    crds = Path(os.environ.get("JWCAL_TEST_CRDS", "/tmp/jwcal-test-crds"))
    (crds / "config" / "jwst").mkdir(parents=True, exist_ok=True)
    server_config = crds / "config" / "jwst" / "server_config"
    if not server_config.exists():
        server_config.write_text(repr({
            "observatory": "jwst", "operational_context": "jwst_0000.pmap", "edit_context": "jwst_0000.pmap",
            "versions_context": "jwst_0000.pmap", "bad_files": "", "bad_files_list": [],
            "force_remote_mode": False, "mappings": [], "last_synced": "2026-01-01 00:00:00",
            "crds_version": {"str": "14.0.3"}, "reference_url": {}, "mapping_url": {},
            "checked_reference_url": {}, "download_metadata": {},
        }))
    os.environ.setdefault("CRDS_PATH", str(crds))
    os.environ.setdefault("CRDS_SERVER_URL", "https://jwst-serverless-mode.stsci.edu")
    os.environ.setdefault("CRDS_CONTEXT", "jwst_0000.pmap")
    os.environ.setdefault("CRDS_MODE", "local")
    os.environ.setdefault("CRDS_OBSERVATORY", "jwst")
    os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "true")
    # jwcal's own CRDS selector stays off in tests unless a test turns it on (tests/refs).
    os.environ.setdefault("JWCAL_CRDS", "0")
    try:
        from astropy.utils import iers

        iers.conf.auto_download = False
    except Exception:
        pass


@pytest.fixture
def real_data():
    if not REAL.exists():
        pytest.skip("shared real data folder not present")
    return REAL


@pytest.fixture(autouse=True)
def _run_in_tmp(tmp_path, monkeypatch):
    """Every test runs in its own folder, so nothing (jwcal or jwst) writes into the repo."""
    monkeypatch.chdir(tmp_path)
