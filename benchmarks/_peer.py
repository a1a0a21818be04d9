"""Helpers shared by the benchmarks: offline jwst set-up, child-process timing, comparisons."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def offline_crds_env(base: Path) -> dict:
    """Environment for running jwst with no network (see the offline notes in docs/parity.md)."""
    crds = base / "crds_cache"
    cfg = crds / "config" / "jwst"
    cfg.mkdir(parents=True, exist_ok=True)
    sc = cfg / "server_config"
    if not sc.exists():
        sc.write_text(repr({
            "observatory": "jwst", "operational_context": "jwst_0000.pmap", "edit_context": "jwst_0000.pmap",
            "versions_context": "jwst_0000.pmap", "bad_files": "", "bad_files_list": [],
            "force_remote_mode": False, "mappings": [], "last_synced": "2026-01-01 00:00:00",
            "crds_version": {"str": "14.0.3"}, "reference_url": {}, "mapping_url": {},
            "checked_reference_url": {}, "download_metadata": {}}))
    env = dict(os.environ)
    env.update(CRDS_PATH=str(crds), CRDS_SERVER_URL="https://jwst-serverless-mode.stsci.edu",
               CRDS_CONTEXT="jwst_0000.pmap", CRDS_MODE="local", CRDS_OBSERVATORY="jwst",
               STPIPE_DISABLE_CRDS_STEPPARS="true", JWCAL_CRDS="0")
    return env


def run_child(code: str, env: dict, label: str) -> dict:
    """Run ``code`` in a fresh Python; it must print one JSON line starting with '{'.

    Adds the child's wall time (process start to exit) and its peak RSS.
    """
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed:\n{proc.stderr[-4000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    out = json.loads(line)
    out["process_wall_s"] = wall
    return out


CHILD_FOOTER = """
import json, resource
print(json.dumps({"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "output": str(output), "steps": globals().get("steps") or {}}))
"""


def compare(a_path, b_path, arrays=("data", "err", "var_poisson", "var_rnoise"), dq="dq") -> dict:
    import numpy as np
    from astropy.io import fits

    names = {"data": "SCI", "err": "ERR", "var_poisson": "VAR_POISSON", "var_rnoise": "VAR_RNOISE", "dq": "DQ"}
    out = {}
    with fits.open(a_path) as a, fits.open(b_path) as b:
        for name in arrays:
            x, y = a[names[name]].data.astype(np.float64), b[names[name]].data.astype(np.float64)
            both = np.isfinite(x) & np.isfinite(y)
            nan_same = bool(np.array_equal(np.isnan(x), np.isnan(y)))
            rel = np.abs(x[both] - y[both]) / np.maximum(np.abs(y[both]), 1e-30)
            out[name] = {"max_rel": float(rel.max()) if rel.size else 0.0,
                         "p999_rel": float(np.quantile(rel, 0.999)) if rel.size else 0.0, "nan_pattern_same": nan_same}
        out[dq] = {"identical": bool(np.array_equal(a[names[dq]].data, b[names[dq]].data)),
                   "n_differ": int(np.count_nonzero(a[names[dq]].data != b[names[dq]].data))}
    return out


# -- code shared by the children (they import this module from the benchmarks folder) -----------
BENCH_DIR = str(Path(__file__).resolve().parent)

# Put in a child's code (no braces: safe inside the benchmarks' str.format templates): captures
# jwst's log with timestamps so that jwst_step_times() can read the per-step times from it.
JWST_LOG_CAPTURE = f"""
import io as _io, logging as _logging, sys as _sys
_sys.path.insert(0, {BENCH_DIR!r})
from _peer import jwst_overrides, jwst_step_times
_log_buf = _io.StringIO()
_log_handler = _logging.StreamHandler(_log_buf)
_log_handler.setFormatter(_logging.Formatter("%(asctime)s|%(message)s"))
_logging.getLogger().addHandler(_log_handler)
_logging.getLogger().setLevel(_logging.INFO)
"""

# Put in a jwcal child's code: `phases` (name -> seconds) and `_timed(name, fn)` wrapping a
# function so that its time adds to phases[name].
PHASE_TIMER = f"""
import sys as _sys
_sys.path.insert(0, {BENCH_DIR!r})
from _peer import phase_timer
phases, _timed = phase_timer()
"""


def jwst_overrides(pipeline_cls, refs: dict) -> dict:
    """``steps=`` for a jwst pipeline: ``override_<reftype>`` for every reference type of every
    sub-step, the file in ``refs`` or ``N/A`` (CRDS is off in the children)."""
    steps = {}
    for name, sdef in pipeline_cls.step_defs.items():
        for rt in getattr(sdef, "reference_file_types", []):
            steps.setdefault(name, {})["override_" + rt] = refs.get(rt, "N/A")
    return steps


def jwst_step_times(log_text: str, pipeline: str) -> dict:
    """Seconds per step from jwst's "Step X running" / "Step X done" log lines (the pipeline's
    own pair left out)."""
    import re
    from datetime import datetime

    started, steps = {}, {}
    for line in log_text.splitlines():
        m = re.match(r"(\S+ \S+)\|Step (\w+) (running|done)", line)
        if not m:
            continue
        when = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
        if m.group(3) == "running":
            started[m.group(2)] = when
        elif m.group(2) in started:
            steps[m.group(2)] = (when - started.pop(m.group(2))).total_seconds()
    steps.pop(pipeline, None)
    return steps


def phase_timer():
    """``(phases, timed)``: ``timed(name, fn)`` wraps ``fn`` so its time adds to ``phases[name]``."""
    phases = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - t
        return wrapper
    return phases, timed
