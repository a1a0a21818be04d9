"""Shared fixtures of the simulator tests.

``offline_crds`` prepares the environment jwst needs to run without a network (see
/work/shared/notes/running-jwst-offline.md): a serverless CRDS_SERVER_URL, an empty CRDS
cache with a ``server_config``, CRDS parameter files disabled, no IERS downloads.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SERVER_CONFIG = {
    "observatory": "jwst", "operational_context": "jwst_0000.pmap", "edit_context": "jwst_0000.pmap",
    "versions_context": "jwst_0000.pmap", "bad_files": "", "bad_files_list": [], "force_remote_mode": False,
    "mappings": {}, "last_synced": "2024-01-01 00:00:00", "crds_version": {"str": "14.0.3"},
    "reference_url": {"checked": {"jwst": "none"}, "unchecked": {"jwst": "none"}},
    "mapping_url": {"checked": {"jwst": "none"}, "unchecked": {"jwst": "none"}},
    "checked_reference_url": "none", "download_metadata": {},
}


@pytest.fixture(scope="session")
def offline_crds(tmp_path_factory):
    if "serverless" not in os.environ.get("CRDS_SERVER_URL", ""):
        path = tmp_path_factory.mktemp("crds_cache")
        (path / "config" / "jwst").mkdir(parents=True)
        (path / "config" / "jwst" / "server_config").write_text(repr(SERVER_CONFIG))
        os.environ.update(CRDS_SERVER_URL="https://jwst-serverless-mode.stsci.edu", CRDS_PATH=str(path),
                          CRDS_MODE="local", CRDS_OBSERVATORY="jwst", CRDS_CONTEXT="jwst_0000.pmap")
    else:
        cfg = Path(os.environ.get("CRDS_PATH", "")) / "config" / "jwst" / "server_config"
        if os.environ.get("CRDS_PATH") and not cfg.exists():
            cfg.parent.mkdir(parents=True, exist_ok=True)
            cfg.write_text(repr(SERVER_CONFIG))
    os.environ["STPIPE_DISABLE_CRDS_STEPPARS"] = "true"
    from astropy.utils import iers

    iers.conf.auto_download = False
    return os.environ["CRDS_PATH"]


def detector(instrument, name):
    """A plugin's DetectorSpec, taken straight from its detectors module."""
    import importlib

    mod = importlib.import_module(f"jwcal_{instrument.lower()}.detectors")
    for spec in mod.DETECTORS:
        if spec.detector == name:
            return spec
    raise KeyError(name)
