"""jwcal vs jwst/stcal on three stage-1 algorithms: ramp_fit LIKELY, NIRSpec IRS2 refpix, refpix SIRS.

    python benchmarks/bench_stage1_algorithms.py [--only likely|irs2|sirs] [--repeat N]
           [--workdir /tmp/jwcal-bench-stage1] [--likely-size 2048] [--likely-ngroups 10]
           [--likely-nints 1] [--irs2-ngroups 5] [--sirs-ngroups 10] [--threads N] [--json FILE]

Run with the project's environment (jwst, stcal and jwcal installed), e.g.
``/work/main/.venv/bin/python benchmarks/bench_stage1_algorithms.py``.

1. **likely** - ``jwcore.steps.ramp_fitting.fit_ramps_likely`` against stcal's
   ``ramp_fit_data(..., "LIKELY", ...)`` on a ``RampData`` (set up as in
   tests/steps/test_ramp_fit_likely.py) on a synthetic NIRCam-like ramp, 1 x 10 x 2048 x 2048
   by default (``--likely-size`` / ``--likely-ngroups`` / ``--likely-nints`` for others):
   Poisson + read noise, flagged and unflagged jumps, saturation tails
   (``make_exposure`` of that test module).
2. **irs2** - jwcal's ``refpix`` step against jwst's ``RefPixStep`` on a full-frame NIRSpec
   NRS1 NRSIRS2RAPID ramp (1 x ``--irs2-ngroups`` x 3200 x 2048) with a synthetic IRS2 REFPIX
   reference (``_irs2_ramp`` / ``_irs2_reference`` of tests/steps/test_refpix_irs2.py).
3. **sirs** - the same steps with ``refpix_algorithm="sirs"`` on a full-frame NIRCam NRCA1 ramp
   (1 x ``--sirs-ngroups`` x 2048 x 2048) with a synthetic SIRSKERNEL reference
   (``_full_frame`` / ``_kernel_tree`` / ``_sirskernel_file`` of tests/steps/test_refpix_sirs.py).

Inputs are built once by a child process (importing those test helpers; not timed) and cached
in the workdir (.npy for the ramp fit, FITS / ASDF for the steps).  Then each side runs in a
fresh child process of this one, which loads the inputs (arrays fully read into memory: the
jwcal model's and the jwst model's SCI, PIXELDQ, GROUPDQ and, if present, ERR), times only the algorithm or
step call (wall and process CPU time), saves the result arrays as .npy (after the timing) and
prints one JSON line.  The step calls include reading the reference file on both sides; jwst's
``RefPixStep.call`` on an open model also deep-copies its input (stpipe's standalone
behaviour), timed separately afterwards and reported as "input copy".  asdf's extension
registry is loaded once per process on the first ASDF read: jwst's child does it when it opens
the ramp (the FITS file's ASDF extension), before the timing; jwcal's child does it explicitly
before the timing (reported as "asdf warm-up"), or the SIRSKERNEL (ASDF) read inside jwcal's
step would carry that one-off cost (about 0.7 s).  jwcal runs with its
default thread budget (both cores; ``--threads`` sets ``JWCAL_THREADS``), stcal and jwst as
they come (one process; ``RampFitStep``'s default ``maximum_cores='1'``).

Printed per algorithm: the fastest wall time of ``--repeat`` runs (the two sides alternate:
jwcal, jwst, jwcal, ... so that a change of load hits both), the CPU time of that run, the
child's peak RSS (``ru_maxrss``, whole process: interpreter, imports, loaded inputs; the
largest over the repeats), the ratios (time: jwst / jwcal, > 1 means jwcal is faster; peak:
jwcal / jwst), the largest relative SCI difference where both are finite (and whether the
NaN patterns match), whether the DQ arrays are identical, and the load average.  The
comparison runs in a child process as well: on Linux a child's ``ru_maxrss`` starts from its
parent's high-water mark (kept across fork and exec), so this process stays small (its own
peak, printed at the end, is a floor under every child's).  Results go in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _peer import CHILD_FOOTER, offline_crds_env, run_child  # noqa: E402

REPO = str(Path(__file__).resolve().parent.parent)
FRAME_TIME = 10.73677  # NIRCam full frame (as in tests/steps/test_ramp_fit_likely.py)
LIKELY_ARRAYS = ("data", "groupdq", "pixeldq", "readnoise", "gain")

# Each child gets its parameters as a JSON string in place of __PARAMS__.
HEAD = """
import json, sys, time
from pathlib import Path
import numpy as np
P = json.loads(__PARAMS__)
sys.path.insert(0, P["repo"])
work = Path(P["dir"])
"""

# ------------------------------------------------------------------------------ input builders
LIKELY_BUILD = HEAD + """
from tests.steps.test_ramp_fit_likely import make_exposure
arrays = make_exposure(P["seed"], P["nints"], P["ngroups"], nframes=1, shape=(P["size"], P["size"]))
for name, a in zip(P["names"], arrays):
    np.save(work / f"{name}.npy", a)
(work / "ready").write_text("ok")
print("{}")
"""

IRS2_BUILD = HEAD + """
from tests.steps.test_refpix_irs2 import _irs2_ramp, _irs2_reference
_irs2_reference(work / "irs2_refpix.fits")
_irs2_ramp(work / "x_nrs1_ramp.fits", "NRS1", nints=1, ngroups=P["ngroups"], seed=0)
(work / "ready").write_text("ok")
print("{}")
"""

SIRS_BUILD = HEAD + """
from tests.steps.stepkit import NIRCAM
from tests.steps.test_refpix_sirs import _full_frame, _kernel_tree, _sirskernel_file
_sirskernel_file(work / "sirskernel.asdf", _kernel_tree())
_full_frame(work / "x_nrca1_ramp.fits", NIRCAM, nints=1, ngroups=P["ngroups"], seed=0)
(work / "ready").write_text("ok")
print("{}")
"""

# ------------------------------------------------------------------------------ timed children
LIKELY_JWCAL = HEAD + """
data, groupdq, pixeldq, readnoise, gain = (np.load(work / f"{n}.npy") for n in P["names"])
from jwcore.parallel import threads
from jwcore.steps.ramp_fitting import fit_ramps_likely
workers = threads()
import resource
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0, c0 = time.perf_counter(), time.process_time()
result = fit_ramps_likely(data, groupdq, pixeldq, readnoise, gain, frame_time=P["frame_time"], nframes=1,
                          groupgap=0, max_workers=workers)
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
output = work / "jwcal"
np.save(work / "jwcal_sci.npy", result.image.slope)
np.save(work / "jwcal_dq.npy", result.image.dq)
steps = {"cpu_s": cpu, "threads": workers, "rss_before_mb": rss_before}
"""

LIKELY_STCAL = HEAD + """
data, groupdq, pixeldq, readnoise, gain = (np.load(work / f"{n}.npy") for n in P["names"])
from stcal.ramp_fitting.ramp_fit import ramp_fit_data
from stcal.ramp_fitting.ramp_fit_class import RampData
flags = P["flags"]
nints, ngroups, ny, nx = data.shape
import resource
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0, c0 = time.perf_counter(), time.process_time()
rd = RampData()
rd.set_arrays(data, groupdq, pixeldq, np.zeros((ny, nx), np.float32))
rd.set_meta("NIRCAM", P["frame_time"], P["frame_time"], 0, 1, 0)
rd.algorithm = "LIKELY"
rd.set_dqflags(flags)
rd.start_row, rd.num_rows = 0, ny
image, integ, opt = ramp_fit_data(rd, False, readnoise, gain, "LIKELY", "optimal", "none")
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
output = work / "stcal"
np.save(work / "stcal_sci.npy", image["slope"])
np.save(work / "stcal_dq.npy", image["dq"])
steps = {"cpu_s": cpu, "rss_before_mb": rss_before}
"""

STEP_JWCAL = HEAD + """
import logging
logging.getLogger("jwcal").setLevel(logging.WARNING)
from jwcore.datamodel import open_model
from jwcore.parallel import threads
from jwcore.plugins import get_plugin_manager
from jwcore.runner import RunContext
pm = get_plugin_manager()
model = open_model(P["ramp"])
for name in ("data", "pixeldq", "groupdq", "err"):
    if model.has(name):
        np.asarray(getattr(model, name))      # read into memory now, not inside the timing
# asdf's extension registry (entry points, YAML manifests) is loaded once per process, on the
# first ASDF read; jwst's child has done it opening the ramp (its ASDF extension), jwcal's lazy
# open has not, so it is done here, timed apart, and not charged to the step (SIRSKERNEL is ASDF).
import asdf, resource
ta = time.perf_counter()
asdf.get_config().extensions
asdf_warm = time.perf_counter() - ta
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0, c0 = time.perf_counter(), time.process_time()
step = pm.registry.step("refpix")(**P["params"])
result = step.run(model, RunContext(pm=pm)).model
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
assert result.meta.cal_step.refpix == "COMPLETE", result.meta.cal_step.refpix
output = work / "jwcal"
np.save(work / "jwcal_sci.npy", np.asarray(result.data))
np.save(work / "jwcal_pixeldq.npy", np.asarray(result.pixeldq))
np.save(work / "jwcal_groupdq.npy", np.asarray(result.groupdq))
steps = {"cpu_s": cpu, "threads": threads(), "asdf_warmup_s": asdf_warm, "rss_before_mb": rss_before}
"""

STEP_JWST = HEAD + """
import gc, logging
from astropy.utils import iers
iers.conf.auto_download = False
from jwst.refpix import RefPixStep
from stdatamodels.jwst import datamodels as dm
logging.getLogger("stpipe").setLevel(logging.WARNING)
logging.getLogger("jwst").setLevel(logging.WARNING)
model = dm.RampModel(P["ramp"])
for name in ("data", "pixeldq", "groupdq", "err"):
    if getattr(model, name, None) is not None:
        np.asarray(getattr(model, name))      # read into memory now, not inside the timing
import resource
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0, c0 = time.perf_counter(), time.process_time()
result = RefPixStep.call(model, **P["params"])
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
assert result.meta.cal_step.refpix == "COMPLETE", result.meta.cal_step.refpix
output = work / "jwst"
np.save(work / "jwst_sci.npy", np.asarray(result.data))
np.save(work / "jwst_pixeldq.npy", np.asarray(result.pixeldq))
np.save(work / "jwst_groupdq.npy", np.asarray(result.groupdq))
del result
gc.collect()
t1 = time.perf_counter()
copy = model.copy()                            # what stpipe did to the input inside the call
copy_s = time.perf_counter() - t1
del copy
steps = {"cpu_s": cpu, "input_copy_s": copy_s, "rss_before_mb": rss_before}
"""


def _code(template: str, params: dict) -> str:
    return template.replace("__PARAMS__", repr(json.dumps(params)))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _build(template, params, env, label):
    ready = Path(params["dir"]) / "ready"
    if ready.exists():
        print(f"  inputs cached in {params['dir']}")
        return
    Path(params["dir"]).mkdir(parents=True, exist_ok=True)
    out = run_child(_code(template, params), env, label + " (build inputs)")
    print(f"  inputs built in {out['process_wall_s']:.0f} s -> {params['dir']}")


DIFF = HEAD + """
a = np.load(work / "jwcal_sci.npy").astype(np.float64)
b = np.load(work / f"{P['peer']}_sci.npy").astype(np.float64)
out = {"shape_same": a.shape == b.shape}
if a.shape == b.shape:
    both = np.isfinite(a) & np.isfinite(b)
    diff = np.abs(a[both] - b[both])
    rel = diff / np.maximum(np.abs(b[both]), 1e-30)
    out.update(max_rel=float(rel.max()) if rel.size else 0.0, max_abs=float(diff.max()) if diff.size else 0.0,
               n_differ=int(np.count_nonzero(diff)), nan_same=bool(np.array_equal(np.isnan(a), np.isnan(b))))
    for name in P["dq_names"]:
        x, y = np.load(work / f"jwcal_{name}.npy"), np.load(work / f"{P['peer']}_{name}.npy")
        out[f"{name}_identical"] = bool(x.shape == y.shape and np.array_equal(x, y))
print(json.dumps(out))
"""


def _differences(work: Path, peer: str, dq_names, env) -> dict:
    """Compare the saved results -- in a child too: a child's ``ru_maxrss`` starts from its
    parent's high-water mark (Linux keeps it across fork and exec), so this process must stay small."""
    out = run_child(_code(DIFF, dict(repo=REPO, dir=str(work), peer=peer, dq_names=list(dq_names))), env,
                    "comparison")
    out.pop("process_wall_s", None)
    return out


def _compare_runs(label, peer, jw_code, peer_code, env_jwcal, env_peer, repeat):
    runs = {"jwcal": [], peer: []}
    for r in range(repeat):
        for side, code, env in (("jwcal", jw_code, env_jwcal), (peer, peer_code, env_peer)):
            load = _load()
            out = run_child(code + CHILD_FOOTER, env, f"{label} {side}")
            out["load_before"] = load
            runs[side].append(out)
            extra = out.get("steps") or {}
            more = f", input copy {extra['input_copy_s']:.2f} s" if "input_copy_s" in extra else ""
            if "asdf_warmup_s" in extra:
                more += f", asdf warm-up {extra['asdf_warmup_s']:.2f} s (not timed)"
            print(f"  [{r + 1}/{repeat}] {side:5s}: {out['seconds']:8.2f} s wall, {extra.get('cpu_s', 0):8.2f} s CPU"
                  f"{more}, peak RSS {out['peak_rss_mb']:7.0f} MB ({extra.get('rss_before_mb', 0):.0f} MB before "
                  f"the call; load before: {load})")
    best = {side: min(rs, key=lambda o: o["seconds"]) for side, rs in runs.items()}
    peak = {side: max(o["peak_rss_mb"] for o in rs) for side, rs in runs.items()}
    per_repeat = [p["seconds"] / j["seconds"] for j, p in zip(runs["jwcal"], runs[peer])]
    return {
        "jwcal_s": best["jwcal"]["seconds"], "jwcal_cpu_s": best["jwcal"]["steps"].get("cpu_s"),
        "jwcal_mb": peak["jwcal"], "jwcal_threads": best["jwcal"]["steps"].get("threads"),
        "jwcal_rss_before_mb": best["jwcal"]["steps"].get("rss_before_mb"),
        f"{peer}_rss_before_mb": best[peer]["steps"].get("rss_before_mb"),
        f"{peer}_s": best[peer]["seconds"], f"{peer}_cpu_s": best[peer]["steps"].get("cpu_s"),
        f"{peer}_mb": peak[peer], f"{peer}_input_copy_s": best[peer]["steps"].get("input_copy_s"),
        "time_ratio": best[peer]["seconds"] / best["jwcal"]["seconds"],
        "peak_ratio": peak["jwcal"] / peak[peer],
        "per_repeat_time_ratios": per_repeat,
        "runs": runs,
    }


def _report(label, peer, res, diff):
    cpu_j, cpu_p = res["jwcal_cpu_s"] or 0.0, res[f"{peer}_cpu_s"] or 0.0
    print(f"  {label}: jwcal {res['jwcal_s']:.2f} s (CPU {cpu_j:.2f} s, {res['jwcal_threads']} threads) / "
          f"{res['jwcal_mb']:.0f} MB;  {peer} {res[f'{peer}_s']:.2f} s (CPU {cpu_p:.2f} s) / "
          f"{res[f'{peer}_mb']:.0f} MB")
    print(f"  RSS before the call (interpreter, imports, inputs): jwcal {res['jwcal_rss_before_mb']:.0f} MB, "
          f"{peer} {res[f'{peer}_rss_before_mb']:.0f} MB")
    faster = "jwcal faster" if res["time_ratio"] > 1 else "jwcal SLOWER"
    print(f"  time ratio {peer}/jwcal {res['time_ratio']:.2f}x ({faster}; per repeat: "
          f"{', '.join(f'{x:.2f}' for x in res['per_repeat_time_ratios'])}); "
          f"peak RSS jwcal/{peer} {res['peak_ratio']:.2f}")
    if not diff.get("shape_same", False):
        print("  OUTPUT SHAPES DIFFER")
        return
    dq = ", ".join(f"{k.replace('_identical', '')} identical: {v}" for k, v in diff.items() if k.endswith("_identical"))
    print(f"  SCI: max relative difference {diff['max_rel']:.3g} (max absolute {diff['max_abs']:.3g}, "
          f"{diff['n_differ']} values differ; NaN pattern equal: {diff['nan_same']}); {dq}")


def bench_likely(args, env, work):
    from jwcore import dq

    shape = f"{args.likely_nints}x{args.likely_ngroups}x{args.likely_size}x{args.likely_size}"
    label = f"ramp_fit LIKELY {shape}"
    print(f"\n== {label}: jwcal fit_ramps_likely vs stcal ramp_fit_data(LIKELY)")
    flags = {"GOOD": 0, "DO_NOT_USE": dq.DO_NOT_USE, "SATURATED": dq.SATURATED, "JUMP_DET": dq.JUMP_DET,
             "DROPOUT": dq.DROPOUT, "PERSISTENCE": dq.PERSISTENCE, "AD_FLOOR": dq.AD_FLOOR,
             "CHARGELOSS": dq.CHARGELOSS, "NO_GAIN_VALUE": dq.NO_GAIN_VALUE,
             "UNRELIABLE_SLOPE": dq.UNRELIABLE_SLOPE}
    params = dict(repo=REPO, dir=str(work / f"likely_{shape}"), names=LIKELY_ARRAYS, seed=11,
                  nints=args.likely_nints, ngroups=args.likely_ngroups, size=args.likely_size,
                  frame_time=FRAME_TIME, flags=flags)
    _build(LIKELY_BUILD, params, env, label)
    res = _compare_runs(label, "stcal", _code(LIKELY_JWCAL, params), _code(LIKELY_STCAL, params),
                        _jwcal_env(env, args), env, args.repeat)
    diff = _differences(Path(params["dir"]), "stcal", ("dq",), env)
    _report(label, "stcal", res, diff)
    return {"label": label, **res, "diff": diff}


def bench_irs2(args, env, work):
    label = f"refpix IRS2 NRS1 1x{args.irs2_ngroups}x3200x2048"
    print(f"\n== {label}: jwcal refpix step vs jwst RefPixStep")
    d = work / f"irs2_g{args.irs2_ngroups}"
    params = dict(repo=REPO, dir=str(d), ngroups=args.irs2_ngroups)
    _build(IRS2_BUILD, params, env, label)
    run = dict(params, ramp=str(d / "x_nrs1_ramp.fits"), params={"override_refpix": str(d / "irs2_refpix.fits")})
    res = _compare_runs(label, "jwst", _code(STEP_JWCAL, run), _code(STEP_JWST, run), _jwcal_env(env, args), env,
                        args.repeat)
    diff = _differences(d, "jwst", ("pixeldq", "groupdq"), env)
    _report(label, "jwst", res, diff)
    return {"label": label, **res, "diff": diff}


def bench_sirs(args, env, work):
    label = f"refpix SIRS NRCA1 1x{args.sirs_ngroups}x2048x2048"
    print(f"\n== {label}: jwcal refpix step vs jwst RefPixStep (refpix_algorithm='sirs')")
    d = work / f"sirs_g{args.sirs_ngroups}"
    params = dict(repo=REPO, dir=str(d), ngroups=args.sirs_ngroups)
    _build(SIRS_BUILD, params, env, label)
    run = dict(params, ramp=str(d / "x_nrca1_ramp.fits"),
               params={"refpix_algorithm": "sirs", "override_sirskernel": str(d / "sirskernel.asdf")})
    res = _compare_runs(label, "jwst", _code(STEP_JWCAL, run), _code(STEP_JWST, run), _jwcal_env(env, args), env,
                        args.repeat)
    diff = _differences(d, "jwst", ("pixeldq", "groupdq"), env)
    _report(label, "jwst", res, diff)
    return {"label": label, **res, "diff": diff}


def _jwcal_env(env, args):
    env = dict(env)
    if args.threads:
        env["JWCAL_THREADS"] = str(args.threads)
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=("likely", "irs2", "sirs"), action="append",
                    help="run only this benchmark (may be given more than once)")
    ap.add_argument("--repeat", type=int, default=1, help="run each side N times, alternating; report the fastest")
    ap.add_argument("--workdir", default="/tmp/jwcal-bench-stage1")
    ap.add_argument("--likely-size", type=int, default=2048, help="LIKELY ramp: pixels per side")
    ap.add_argument("--likely-ngroups", type=int, default=10)
    ap.add_argument("--likely-nints", type=int, default=1)
    ap.add_argument("--irs2-ngroups", type=int, default=5)
    ap.add_argument("--sirs-ngroups", type=int, default=10)
    ap.add_argument("--threads", type=int, default=None, help="JWCAL_THREADS for the jwcal children")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args()
    if args.likely_ngroups < 4:
        ap.error("LIKELY needs at least 4 groups")

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    env = offline_crds_env(work)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH", "")) if p)
    print(f"python {sys.executable}; {os.cpu_count()} cores; load average (1, 5, 15 min): {_load()}")
    results = {"load_average_start": os.getloadavg()}
    chosen = args.only or ["likely", "irs2", "sirs"]
    for name, fn in (("likely", bench_likely), ("irs2", bench_irs2), ("sirs", bench_sirs)):
        if name in chosen:
            results[name] = fn(args, env, work)
    results["load_average_end"] = os.getloadavg()
    print(f"\nload average at the end (1, 5, 15 min): {_load()}")
    import resource

    parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["parent_peak_rss_mb"] = parent_mb
    print(f"this process's peak RSS (a floor under every child's peak): {parent_mb:.0f} MB")
    print("\nsummary (fastest wall time / largest peak RSS; time ratio = peer / jwcal, > 1: jwcal faster)")
    for name in chosen:
        r = results[name]
        peer = "stcal" if name == "likely" else "jwst"
        d = r["diff"]
        print(f"  {r['label']:40s} jwcal {r['jwcal_s']:7.2f} s {r['jwcal_mb']:6.0f} MB | {peer} "
              f"{r[f'{peer}_s']:7.2f} s {r[f'{peer}_mb']:6.0f} MB | time x{r['time_ratio']:.2f} "
              f"peak x{r['peak_ratio']:.2f} | SCI max rel {d.get('max_rel', float('nan')):.2g}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
