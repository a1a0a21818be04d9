"""jwcal vs jwst Image2Pipeline on the same rate product and the same references.

    python benchmarks/bench_image2.py [--workdir /tmp/jwcal-bench2] [--size 2048] [--ngroups 5]
           [--repeat N] [--threads N] [--skip-jwst] [--json FILE]

Simulates (once, cached in the workdir) a NIRCam NRCA1 exposure and its reference set with
``jwcal simulate OUT -i nircam -d NRCA1 --ngroups 5 --seed 1 --no-cosmic-rays`` and makes its
``_rate.fits`` with jwcal's detector1 (not timed).  ``--size`` picks the full frame (2048, the
default) or a square subarray (640 = SUB640, 400 = SUB400P, 320 = SUB320, 160 = SUB160; NIRCam
has no 1024 subarray).  Each reference image2 needs (distortion, filteroffset, flat, photom,
area) is selected through jwcal's local store; the jwcal ``_cal`` header's
``meta.ref_file.<type>.name`` is checked against that selection afterwards.

Then runs, each in a fresh child process of this one: jwcal's image2 (assign_wcs, flat_field,
photom, resample to the single-exposure ``_i2d``; bkg_subtract skips itself: no background
members) and jwst's Image2Pipeline with every reference given as ``override_<reftype>``
(all others N/A; jwst resamples NRC_IMAGE by default, so both write ``_cal`` and ``_i2d``).
jwst runs offline (CRDS serverless mode, no parameter references: code defaults, which are
also the simulated pars-resamplestep's values).

Prints pipeline wall time (open of the rate file to written ``_cal`` and ``_i2d``) and CPU
time (all threads; less affected by other jobs on a shared machine), the child's process
time (with interpreter start and imports) and peak RSS (``ru_maxrss``), per-step times
(jwcal: the run's step timings plus open / write phases; jwst: the "running"/"done" lines of
its log), the ratios, and how the products differ: ``_cal`` SCI / ERR / VAR_* largest
absolute difference where both are finite, NaN pattern, DQ identical; ``_i2d`` SCI / WHT /
ERR / VAR_* the same.  With ``--repeat N`` the two alternate (jwcal, jwst, jwcal, ...); the
fastest of each is reported (peak: the largest) with the per-repeat ratios.  Results go in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _peer import CHILD_FOOTER, JWST_LOG_CAPTURE, PHASE_TIMER, offline_crds_env, run_child  # noqa: E402

# the shared footer, plus the child's CPU time (all threads) in the pipeline call: less
# sensitive than wall time to other jobs on a shared machine
FOOTER = CHILD_FOOTER.replace('"steps":', '"cpu_seconds": cpu_seconds, "steps":')
assert FOOTER != CHILD_FOOTER, "_peer.CHILD_FOOTER changed: update FOOTER"

SIZES = {2048: "FULL", 640: "SUB640", 400: "SUB400P", 320: "SUB320", 160: "SUB160"}
IMAGE2_REFTYPES = ("distortion", "filteroffset", "flat", "photom", "area")

JWCAL_CHILD = """
import time, logging
from pathlib import Path
import jwcore.datamodel
from jwcore.plugins import get_plugin_manager
from jwcore.runner import Pipeline, RunContext
from jwcore.datamodel import open_model
from jwcore.refs.store import LocalStore
logging.getLogger("jwcal").setLevel(logging.WARNING)
rate, out, refs = Path({rate!r}), Path({out!r}), Path({refs!r})
""" + PHASE_TIMER + """
jwcore.datamodel.write = _timed("write", jwcore.datamodel.write)
pm = get_plugin_manager()
t0, c0 = time.perf_counter(), time.process_time()
model = open_model(rate)
phases["open"] = time.perf_counter() - t0
spec = pm.registry.pipeline("image2", model.meta.instrument.name)
ctx = RunContext(pm=pm, input_path=rate, output_dir=out, store=LocalStore(refs), protect=(rate,))
Pipeline(spec, pm.registry, {{}}).run(model, ctx)
seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
steps = {{name: s for name, status, s in ctx.steps if status == "COMPLETE"}}
steps.update(phases)
output = out / rate.name.replace("_rate.fits", "_cal.fits")
"""

JWST_CHILD = """
import time
from pathlib import Path
from astropy.utils import iers
iers.conf.auto_download = False
from jwst.pipeline import Image2Pipeline
rate, out = Path({rate!r}), Path({out!r})
refs = {refs_json}
""" + JWST_LOG_CAPTURE + """
steps = jwst_overrides(Image2Pipeline, refs)
t0, c0 = time.perf_counter(), time.process_time()
Image2Pipeline.call(str(rate), steps=steps, save_results=True, output_dir=str(out))
seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
steps = jwst_step_times(_log_buf.getvalue(), "Image2Pipeline")
output = out / rate.name.replace("_rate.fits", "_cal.fits")
"""


def make_rate(data: Path, subarray: str, ngroups: int) -> Path:
    """The simulated exposure's ``_rate.fits`` (simulated and calibrated once, cached)."""
    if not list(data.glob("*_uncal.fits")):
        subprocess.run([sys.executable, "-m", "jwcore", "--log-level", "WARNING", "simulate", str(data), "-i", "nircam",
                        "-d", "NRCA1", "--ngroups", str(ngroups), "--subarray", subarray, "--seed", "1",
                        "--no-cosmic-rays"], check=True)
    uncal = sorted(data.glob("*_uncal.fits"))[0]
    rate = data / "rate" / uncal.name.replace("_uncal.fits", "_rate.fits")
    if not rate.exists():
        proc = subprocess.run([sys.executable, "-m", "jwcore", "--log-level", "WARNING", "run", str(uncal), "--stage",
                               "1", "-o", str(rate.parent), "--refs", str(data / "refs"), "--executor", "serial"],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not rate.exists():
            raise SystemExit(f"detector1 failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return rate


def select_refs(rate: Path, refs_dir: Path) -> dict:
    """Each image2 reference type -> the file jwcal's store selects for this exposure (or N/A)."""
    from jwcore.datamodel import read_meta
    from jwcore.datamodel.node import Node
    from jwcore.errors import ReferenceFileError
    from jwcore.plugins import get_plugin_manager
    from jwcore.refs import select_reference
    from jwcore.refs.store import LocalStore

    pm = get_plugin_manager()
    meta = Node(read_meta(rate), "meta")
    store = LocalStore(refs_dir)
    refs = {}
    for rt in IMAGE2_REFTYPES:
        try:
            sel = select_reference(pm, rt, meta, store=store)
        except ReferenceFileError:
            sel = None
        refs[rt] = str(sel.path) if sel else "N/A"
    return refs


def refs_used(cal: Path) -> dict:
    """``meta.ref_file.<type>.name`` of a product, for the image2 reference types."""
    from jwcore.datamodel import read_meta

    ref_file = read_meta(cal).get("ref_file", {})
    return {rt: (ref_file.get(rt) or {}).get("name", "N/A") for rt in IMAGE2_REFTYPES}


def product_diff(a_path, b_path, exts, dq=None) -> dict:
    """Per extension: largest |a - b| where both are finite, equal there, same NaN pattern; DQ identical."""
    import numpy as np
    from astropy.io import fits

    out = {}
    with fits.open(a_path) as a, fits.open(b_path) as b:
        for ext in exts:
            if ext not in a or ext not in b:
                out[ext] = {"missing": [ext not in a, ext not in b]}
                continue
            x, y = a[ext].data.astype(np.float64), b[ext].data.astype(np.float64)
            if x.shape != y.shape:
                out[ext] = {"shape": [x.shape, y.shape]}
                continue
            ok = np.isfinite(x) & np.isfinite(y)
            d = np.abs(x[ok] - y[ok])
            out[ext] = {"max_abs": float(d.max()) if d.size else 0.0,
                        "equal_where_finite": bool(np.array_equal(x[ok], y[ok])),
                        "nan_pattern_same": bool(np.array_equal(np.isnan(x), np.isnan(y))),
                        "n_finite_both": int(ok.sum())}
        if dq:
            x, y = a[dq].data, b[dq].data
            out[dq] = {"identical": bool(np.array_equal(x, y)), "n_differ": int(np.count_nonzero(x != y))}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default="/tmp/jwcal-bench2")
    ap.add_argument("--size", type=int, default=2048, choices=sorted(SIZES),
                    help="2048 = full frame; smaller = the square NIRCam subarray of that size")
    ap.add_argument("--ngroups", type=int, default=5)
    ap.add_argument("--skip-jwst", action="store_true")
    ap.add_argument("--threads", type=int, default=None, help="JWCAL_THREADS for the jwcal child (default: all cores)")
    ap.add_argument("--repeat", type=int, default=1, help="run each child N times; report the fastest (peak: largest)")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args()

    work = Path(args.workdir)
    subarray = SIZES[args.size]
    data = work / f"nircam_NRCA1_{subarray}_g{args.ngroups}"
    rate = make_rate(data, subarray, args.ngroups)
    refs = select_refs(rate, data / "refs")
    env = offline_crds_env(work)
    jwcal_env = dict(env)
    if args.threads:
        jwcal_env["JWCAL_THREADS"] = str(args.threads)

    out_a = work / f"out_jwcal_{data.name}"
    out_a.mkdir(parents=True, exist_ok=True)
    children = {"jwcal": (JWCAL_CHILD.format(rate=str(rate), out=str(out_a), refs=str(data / "refs")) + FOOTER,
                          jwcal_env)}
    if not args.skip_jwst:
        out_b = work / f"out_jwst_{data.name}"
        out_b.mkdir(parents=True, exist_ok=True)
        children["jwst"] = (JWST_CHILD.format(rate=str(rate), out=str(out_b), refs_json=json.dumps(refs))
                            + FOOTER, env)
    # repeats alternate jwcal and jwst, so a change in the machine's load hits both alike
    runs = {label: [] for label in children}
    for _ in range(args.repeat):
        for label, (code, child_env) in children.items():
            runs[label].append(run_child(code, child_env, label))

    def best(rs):
        out = dict(min(rs, key=lambda r: r["seconds"]))
        out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rs)
        out["all_seconds"] = [round(r["seconds"], 2) for r in rs]
        out["min_cpu_seconds"] = min(r["cpu_seconds"] for r in rs)
        out["all_cpu_seconds"] = [round(r["cpu_seconds"], 2) for r in rs]
        out["all_peak_rss_mb"] = [round(r["peak_rss_mb"]) for r in rs]
        return out

    results = {label: best(r) for label, r in runs.items()}
    results["load_average"] = os.getloadavg()
    results["references"] = refs

    from astropy.io import fits

    with fits.open(rate) as hdul:
        shape = tuple(hdul["SCI"].shape)
    print(f"\ninput: {rate.name}  (SCI {shape}); references: "
          + ", ".join(f"{k}={Path(v).name}" for k, v in refs.items()))
    used = refs_used(Path(results["jwcal"]["output"]))
    differ = {rt: (used[rt], Path(refs[rt]).name) for rt in IMAGE2_REFTYPES if used[rt] != Path(refs[rt]).name}
    if differ:
        print("WARNING: jwcal's _cal records other references than jwst was given (used, given):", differ)
    results["jwcal_ref_file"] = used

    print(f"{'':8} {'pipeline s':>11} {'CPU s':>7} {'process s':>10} {'peak RSS MB':>12}")
    for k in children:
        r = results[k]
        print(f"{k:8} {r['seconds']:11.2f} {r['min_cpu_seconds']:7.2f} {r['process_wall_s']:10.2f} "
              f"{r['peak_rss_mb']:12.0f}"
              + (f"   (all: {', '.join(f'{s:.2f}' for s in r['all_seconds'])} s)" if args.repeat > 1 else ""))
    names = list(dict.fromkeys([*results["jwcal"]["steps"], *results.get("jwst", {}).get("steps", {})]))
    print(f"\n{'step':16}" + "".join(f"{k + ' s':>10}" for k in children))
    for n in names:
        print(f"{n:16}" + "".join(f"{results[k]['steps'][n]:10.2f}" if n in results[k]["steps"] else f"{'-':>10}"
                                  for k in children))
    print(f"{'rest':16}" + "".join(f"{results[k]['seconds'] - sum(results[k]['steps'].values()):10.2f}"
                                   for k in children))
    print("load average at the end (1, 5, 15 min):", " ".join(f"{x:.2f}" for x in results["load_average"]))
    if "jwst" in results:
        a, b = results["jwcal"], results["jwst"]
        results["speedup"] = b["seconds"] / a["seconds"]
        results["memory_ratio"] = a["peak_rss_mb"] / b["peak_rss_mb"]
        pairs = [jb["seconds"] / ja["seconds"] for ja, jb in zip(runs["jwcal"], runs["jwst"])]
        results["speedup_per_repeat"] = pairs
        print(f"\nspeed-up (jwst/jwcal pipeline time): {results['speedup']:.2f}x (fastest of each)"
              + (f"; per repeat: {', '.join(f'{p:.2f}x' for p in pairs)}" if len(pairs) > 1 else ""))
        print(f"CPU time ratio (jwst/jwcal):         {b['min_cpu_seconds'] / a['min_cpu_seconds']:.2f}x"
              " (least CPU seconds of each, all threads)")
        print(f"process time ratio (jwst/jwcal):     {b['process_wall_s'] / a['process_wall_s']:.2f}x"
              " (child start to exit, with imports; the fastest pipeline run's)")
        print(f"memory (jwcal/jwst peak RSS):        {results['memory_ratio']:.3f}"
              f"  (jwst uses {1 / results['memory_ratio']:.2f}x jwcal's)")
        i2d_a = Path(a["output"]).with_name(Path(a["output"]).name.replace("_cal.fits", "_i2d.fits"))
        i2d_b = Path(b["output"]).with_name(Path(b["output"]).name.replace("_cal.fits", "_i2d.fits"))
        results["cal_difference"] = product_diff(a["output"], b["output"],
                                                 ("SCI", "ERR", "VAR_POISSON", "VAR_RNOISE", "VAR_FLAT"), dq="DQ")
        results["i2d_difference"] = product_diff(i2d_a, i2d_b,
                                                 ("SCI", "WHT", "ERR", "VAR_POISSON", "VAR_RNOISE", "VAR_FLAT"))
        for label in ("cal_difference", "i2d_difference"):
            print(f"{label[:3]} jwcal vs jwst:")
            for ext, d in results[label].items():
                print(f"  {ext:12} " + "  ".join(f"{k}={v}" for k, v in d.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
