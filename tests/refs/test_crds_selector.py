"""The CRDS selector plugin, offline, against a small CRDS cache built in tmp_path.

The cache holds a pmap/imap/rmaps in CRDS's own syntax for NIRCam gain and flat, tiny
reference files written with jwcore.datamodel, and the client's server_config.  The crds
client keeps its configuration in module globals, so the selections run in a subprocess with
the CRDS environment set there.
"""

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from jwcore.datamodel import FlatModel, GainModel
from jwcore.refs import crds_selector

from .helpers import exposure_meta

pytest.importorskip("crds")

PMAP = "jwst_0042.pmap"
SERVERLESS = "https://jwst-serverless-mode.stsci.edu"


def _write_mapping(path, text):
    """Write a CRDS mapping with its sha1sum (computed over all lines but the sha1sum line)."""
    body = "".join(line for line in text.splitlines(True) if "sha1sum" not in line)
    path.write_text(text.replace("@SHA1@", hashlib.sha1(body.encode()).hexdigest()))


def _header(kind, name, extra):
    lines = ["    'derived_from' : 'jwcal test cache',", f"    'mapping' : '{kind}',", f"    'name' : '{name}',",
             "    'observatory' : 'JWST',", *extra, "    'sha1sum' : '@SHA1@',"]
    return "header = {\n" + "\n".join(sorted(lines)) + "\n}\n\n"


def build_cache(root):
    maps = root / "mappings" / "jwst"
    refs = root / "references" / "jwst" / "nircam"
    cfg = root / "config" / "jwst"
    for d in (maps, refs, cfg):
        d.mkdir(parents=True)
    _write_mapping(maps / PMAP, _header("PIPELINE", PMAP, ["    'parkey' : ('META.INSTRUMENT.NAME',),"]) +
                   "selector = {\n    'NIRCAM' : 'jwst_nircam_0042.imap',\n}\n")
    _write_mapping(maps / "jwst_nircam_0042.imap",
                   _header("INSTRUMENT", "jwst_nircam_0042.imap",
                           ["    'instrument' : 'NIRCAM',", "    'parkey' : ('REFTYPE',),"]) +
                   "selector = {\n    'flat' : 'jwst_nircam_flat_0042.rmap',\n"
                   "    'gain' : 'jwst_nircam_gain_0042.rmap',\n    'ipc' : 'N/A',\n}\n")
    date = "('META.OBSERVATION.DATE', 'META.OBSERVATION.TIME')"
    _write_mapping(maps / "jwst_nircam_gain_0042.rmap",
                   _header("REFERENCE", "jwst_nircam_gain_0042.rmap", [
                       "    'classes' : ('Match', 'UseAfter'),", "    'filekind' : 'GAIN',",
                       "    'instrument' : 'NIRCAM',",
                       f"    'parkey' : (('META.INSTRUMENT.DETECTOR', 'META.SUBARRAY.NAME'), {date}),"]) +
                   textwrap.dedent("""\
                       selector = Match({
                           ('NRCA1', 'GENERIC') : UseAfter({
                               '2022-01-01 00:00:00' : 'jwst_nircam_gain_0001.fits',
                               '2023-01-01 00:00:00' : 'jwst_nircam_gain_0002.fits',
                           }),
                           ('NRCA1', 'SUB64P') : UseAfter({
                               '2022-01-01 00:00:00' : 'jwst_nircam_gain_0003.fits',
                           }),
                       })
                       """))
    _write_mapping(maps / "jwst_nircam_flat_0042.rmap",
                   _header("REFERENCE", "jwst_nircam_flat_0042.rmap", [
                       "    'classes' : ('Match', 'UseAfter'),", "    'filekind' : 'FLAT',",
                       "    'instrument' : 'NIRCAM',",
                       "    'parkey' : (('META.INSTRUMENT.DETECTOR', 'META.INSTRUMENT.FILTER', "
                       f"'META.INSTRUMENT.PUPIL'), {date}),"]) +
                   textwrap.dedent("""\
                       selector = Match({
                           ('NRCA1', 'F200W|F150W|', 'CLEAR') : UseAfter({
                               '2022-01-01 00:00:00' : 'jwst_nircam_flat_0001.fits',
                           }),
                           ('NRCA1', 'F090W', 'CLEAR') : UseAfter({
                               '2022-01-01 00:00:00' : 'jwst_nircam_flat_0002.fits',
                           }),
                           ('NRCB1', 'F090W', 'CLEAR') : UseAfter({
                               '2022-01-01 00:00:00' : 'jwst_nircam_flat_0003.fits',
                           }),
                       })
                       """))
    url = {"checked": {"jwst": SERVERLESS + "/references"}, "unchecked": {"jwst": SERVERLESS + "/references"}}
    (cfg / "server_config").write_text(repr({
        "observatory": "jwst", "operational_context": PMAP, "edit_context": PMAP, "versions_context": PMAP,
        "bad_files": "", "bad_files_list": [], "force_remote_mode": False, "mappings": [],
        "last_synced": "2024-01-01 00:00:00", "crds_version": {"str": "14.0.3"}, "reference_url": url,
        "mapping_url": url, "checked_reference_url": "", "download_metadata": {}}))
    (cfg / "ref_cache_subdir_mode").write_text("instrument")
    for i, (ua, sub) in enumerate([("2022-01-01T00:00:00", "GENERIC"), ("2023-01-01T00:00:00", "GENERIC"),
                                   ("2022-01-01T00:00:00", "SUB64P")], 1):
        g = GainModel(data=np.full((4, 4), float(i), np.float32))
        _ref_meta(g, "GAIN", ua, subarray__name=sub)
        g.save(refs / f"jwst_nircam_gain_{i:04d}.fits")
    for i, filt in enumerate(["F200W|F150W|", "F090W"], 1):        # flat 0003 is deliberately missing
        f = FlatModel(data=np.ones((4, 4), np.float32))
        _ref_meta(f, "FLAT", "2022-01-01T00:00:00", instrument__filter=filt, instrument__pupil="CLEAR")
        f.save(refs / f"jwst_nircam_flat_{i:04d}.fits")


def _ref_meta(model, reftype, useafter, **meta):
    model.meta.set("reftype", reftype)
    model.meta.set("instrument.name", "NIRCAM")
    model.meta.set("instrument.detector", "NRCA1")
    model.meta.set("useafter", useafter)
    model.meta.set("pedigree", "DUMMY")
    for key, value in meta.items():
        model.meta.set(key.replace("__", "."), value)


SCRIPT = r'''
import json, sys
from jwcore.plugins import make_plugin_manager
from jwcore.refs import select_reference
from jwcore.refs.store import LocalStore
from jwcore.datamodel import open_model
from jwcal_nircam.plugin import plugin as nircam

pm = make_plugin_manager(autoload=False)
pm.register_plugin(nircam, name="nircam")
store = LocalStore(sys.argv[1])
out = {}
for label, path, reftype in json.loads(sys.argv[2]):
    with open_model(path) as model:
        try:
            sel = select_reference(pm, reftype, model.meta, store=store)
            out[label] = None if sel is None else {"path": sel.path, "source": sel.source, "context": sel.context,
                                                   "header": sel.header_value}
        except Exception as exc:
            out[label] = {"error": type(exc).__name__ + ": " + str(exc)}
print("RESULT " + json.dumps(out))
'''


@pytest.fixture
def crds_cache(tmp_path):
    root = tmp_path / "crds_cache"
    build_cache(root)
    return root


def run_selections(tmp_path, cache, cases, store=None, extra_env=None):
    exposures = []
    for label, reftype, kwargs in cases:
        path = tmp_path / f"{label}_uncal.fits"
        exposure_meta("NIRCAM", **kwargs).save(path)
        exposures.append((label, str(path), reftype))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRDS")}
    env.update(CRDS_PATH=str(cache), CRDS_SERVER_URL=SERVERLESS, CRDS_MODE="local", CRDS_CONTEXT=PMAP,
               CRDS_OBSERVATORY="jwst", JWCAL_DISABLE_PLUGIN_AUTOLOAD="1")
    env.update(extra_env or {})
    env = {k: v for k, v in env.items() if v is not None and k != "JWCAL_CRDS"}
    script = tmp_path / "jwcal_crds_probe.py"
    script.write_text(SCRIPT)
    proc = subprocess.run([sys.executable, str(script), str(store or tmp_path / "empty_store"), json.dumps(exposures)],
                          env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):]), proc.stderr


def test_crds_selects_what_the_rmaps_say(tmp_path, crds_cache):
    from jwcore.refs.store import LocalStore
    from .helpers import write_ref

    # a local store that would answer differently: CRDS must win when configured
    store = LocalStore(tmp_path / "store")
    store.add(write_ref(tmp_path / "src", "local_gain.fits", "gain", "NIRCAM", "2020-01-01T00:00:00",
                        instrument__detector="NRCA1"), match_keys_for=lambda i, r: ("meta.instrument.detector",))
    store.add(write_ref(tmp_path / "src", "local_dark.fits", "dark", "NIRCAM", "2020-01-01T00:00:00",
                        instrument__detector="NRCA1"), match_keys_for=lambda i, r: ("meta.instrument.detector",))
    store.save_index()
    a1 = {"detector": "NRCA1", "instrument__filter": "F150W", "instrument__pupil": "CLEAR"}
    cases = [
        ("gain_2022", "gain", dict(a1, date="2022-06-01", subarray__name="FULL")),
        ("gain_2024", "gain", dict(a1, date="2024-06-01", subarray__name="FULL")),
        ("gain_sub", "gain", dict(a1, date="2024-06-01", subarray__name="SUB64P")),   # specific beats GENERIC
        ("flat_f150w", "flat", dict(a1, subarray__name="FULL")),
        ("flat_f090w", "flat", dict(a1, instrument__filter="F090W", subarray__name="FULL")),
        ("ipc", "ipc", dict(a1)),                                                      # N/A in the imap
        ("dark", "dark", dict(a1)),                                                    # not in the context
        ("flat_f444w", "flat", dict(a1, instrument__filter="F444W")),                  # no rmap match
        ("flat_missing", "flat", {"detector": "NRCB1", "instrument__filter": "F090W", "instrument__pupil": "CLEAR"}),
    ]
    got, stderr = run_selections(tmp_path, crds_cache, cases, store=store.root)
    refs = crds_cache / "references" / "jwst" / "nircam"
    for label, name in [("gain_2022", "jwst_nircam_gain_0001.fits"), ("gain_2024", "jwst_nircam_gain_0002.fits"),
                        ("gain_sub", "jwst_nircam_gain_0003.fits"), ("flat_f150w", "jwst_nircam_flat_0001.fits"),
                        ("flat_f090w", "jwst_nircam_flat_0002.fits")]:
        assert got[label]["path"] == str((refs / name).resolve()), label
        assert got[label]["source"] == "crds" and got[label]["context"] == PMAP
        assert got[label]["header"] == f"crds://{name}"
    assert got["ipc"] is None                                   # not applicable
    # CRDS has no rule or no match: the local store answers (a warning says why)
    assert got["dark"]["source"] == "local" and got["dark"]["path"].endswith("local_dark.fits")
    assert "found no DARK reference" in stderr and "trying the next selector" in stderr
    assert "error" in got["flat_f444w"] and "flat" in got["flat_f444w"]["error"]
    # CRDS chose a file the cache does not have and cannot download: an error naming it
    assert "jwst_nircam_flat_0003.fits" in got["flat_missing"]["error"]


def test_context_from_server_config_when_crds_context_unset(tmp_path, crds_cache):
    cases = [("gain", "gain", {"detector": "NRCA1", "date": "2022-06-01", "subarray__name": "FULL"})]
    env = {"CRDS_CONTEXT": None}                  # the cache's operational_context is used
    got, _ = run_selections(tmp_path, crds_cache, cases, extra_env=env)
    assert got["gain"]["context"] == PMAP and got["gain"]["path"].endswith("jwst_nircam_gain_0001.fits")


# -- in-process: when CRDS is not configured the plugin stays silent ---------------------
def _meta():
    return exposure_meta("NIRCAM", "NRCA1").meta


def test_not_configured_without_crds_path(monkeypatch):
    monkeypatch.delenv("CRDS_PATH", raising=False)
    assert not crds_selector.crds_configured()
    assert crds_selector.jwcal_select_reference("gain", _meta(), None) is None


def test_not_configured_when_serverless_without_a_cache_config(monkeypatch, tmp_path):
    monkeypatch.setenv("CRDS_PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("CRDS_SERVER_URL", SERVERLESS)
    monkeypatch.delenv("JWCAL_CRDS", raising=False)
    assert crds_selector.jwcal_select_reference("gain", _meta(), None) is None


def test_opt_out_and_missing_client(monkeypatch, crds_cache):
    monkeypatch.setenv("CRDS_PATH", str(crds_cache))
    monkeypatch.setenv("CRDS_SERVER_URL", SERVERLESS)
    monkeypatch.delenv("JWCAL_CRDS", raising=False)
    assert crds_selector.crds_configured()
    monkeypatch.setenv("JWCAL_CRDS", "0")
    assert not crds_selector.crds_configured()
    monkeypatch.delenv("JWCAL_CRDS")
    monkeypatch.setitem(sys.modules, "crds", None)             # as if crds were not installed
    monkeypatch.setattr(crds_selector, "_crds_module", crds_selector._MISSING)
    assert not crds_selector.crds_configured()
    assert crds_selector.jwcal_select_reference("gain", _meta(), None) is None


def test_registered_tryfirst_before_the_local_store():
    from jwcore.plugins import DEFAULT_PLUGINS, make_plugin_manager

    assert "jwcore.refs.crds_selector" in DEFAULT_PLUGINS
    pm = make_plugin_manager(autoload=False)
    impls = {i.plugin_name: i for i in pm.hook.jwcal_select_reference.get_hookimpls()}
    assert impls["jwcore.refs.crds_selector"].tryfirst
    assert impls["jwcore.refs.local_store"].trylast
    # pluggy calls the list from the end: CRDS is asked first
    assert pm.hook.jwcal_select_reference.get_hookimpls()[-1].plugin_name == "jwcore.refs.crds_selector"


def test_crds_parameters_carry_paths_and_keywords():
    m = exposure_meta("NIRCAM", "NRCA1", subarray__name="SUB64P", exposure__noutputs=4)
    params = crds_selector.crds_parameters(m.meta)
    assert params["meta.instrument.detector"] == params["DETECTOR"] == "NRCA1"
    assert params["meta.subarray.name"] == params["SUBARRAY"] == "SUB64P"
    assert params["NOUTPUTS"] == 4 and params["DATE-OBS"] == "2024-01-01" and params["INSTRUME"] == "NIRCAM"
    assert all(isinstance(v, (str, int, float, bool)) for v in params.values())
