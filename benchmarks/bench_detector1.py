"""jwcal vs jwst Detector1Pipeline on the same simulated exposure and the same references.

    python benchmarks/bench_detector1.py [--workdir /tmp/jwcal-bench] [--ngroups 10] [--nints 1]
           [--subarray FULL] [--jwst-maximum-cores 1] [--skip-jwst] [--threads N] [--repeat N]
           [--json FILE]

Simulates (once, cached in the workdir) a NIRCam NRCA1 exposure and its reference set with
``jwcal simulate``, selects each reference through jwcal's local store, then runs, each in a
fresh child process of this one: jwcal's detector1 and jwst's Detector1Pipeline with every
reference given as an override.  Prints pipeline wall time (read to written product), the
child's peak RSS (``ru_maxrss``), per-step times (jwcal: the run's step timings; jwst: the
"running"/"done" lines of its log), their ratios, and how the two rate products differ.
With ``--repeat N`` the two alternate (jwcal, jwst, jwcal, ...) so that the machine's load
hits both alike; the fastest of each is reported with the per-repeat ratios.  Results go in
docs/performance.md.

Long ramps and many integrations: ``--ngroups 100`` or ``--nints 20`` (add ``--skip-jwst``
to time jwcal alone); the peak is also given as a multiple of the float32 ramp size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _peer import CHILD_FOOTER, JWST_LOG_CAPTURE, PHASE_TIMER, compare, offline_crds_env, run_child  # noqa: E402

JWCAL_CHILD = """
import time, logging
from pathlib import Path
import jwcore.datamodel, jwcore.datamodel.convert as _conv
from jwcore.plugins import get_plugin_manager
from jwcore.runner import Pipeline, RunContext
from jwcore.datamodel import open_model
from jwcore.refs.store import LocalStore
logging.getLogger("jwcal").setLevel(logging.WARNING)
uncal, out, refs = Path({uncal!r}), Path({out!r}), Path({refs!r})
""" + PHASE_TIMER + """
jwcore.datamodel.write = _timed("write", jwcore.datamodel.write)
_conv.ensure = _timed("read+convert", _conv.ensure)
pm = get_plugin_manager()
t0 = time.perf_counter()
model = open_model(uncal)
phases["open"] = time.perf_counter() - t0
spec = pm.registry.pipeline("detector1", model.meta.instrument.name)
ctx = RunContext(pm=pm, input_path=uncal, output_dir=out, store=LocalStore(refs), protect=(uncal,))
Pipeline(spec, pm.registry, {{}}).run(model, ctx)
seconds = time.perf_counter() - t0
steps = {{name: s for name, status, s in ctx.steps if status == "COMPLETE"}}
steps.update(phases)
output = out / (uncal.name.replace("_uncal.fits", "_rate.fits"))
"""

JWST_CHILD = """
import time
from pathlib import Path
from astropy.utils import iers
iers.conf.auto_download = False
from jwst.pipeline import Detector1Pipeline
uncal, out = Path({uncal!r}), Path({out!r})
refs = {refs_json}
""" + JWST_LOG_CAPTURE + """
steps = jwst_overrides(Detector1Pipeline, refs)
steps.setdefault("jump", {{}})["maximum_cores"] = {cores!r}
steps.setdefault("ramp_fit", {{}})["maximum_cores"] = {cores!r}
t0 = time.perf_counter()
Detector1Pipeline.call(str(uncal), steps=steps, save_results=True, output_dir=str(out))
seconds = time.perf_counter() - t0
steps = jwst_step_times(_log_buf.getvalue(), "Detector1Pipeline")
output = out / (uncal.name.replace("_uncal.fits", "_rate.fits"))
"""


def jwst_linearity_copy(path: Path, work: Path) -> Path:
    """A LINEARITY reference jwst can read.

    stdatamodels gives a LINEARITY file without a DQ extension a default DQ shaped like
    COEFFS (3-D), and jwst's linearity step then fails assigning it to the 2-D PIXELDQ.  If
    the simulated reference has no DQ, jwst gets a copy with an all-zero 2-D DQ (the same
    correction: no flags); jwcal reads the original through its store.
    """
    import numpy as np
    from astropy.io import fits

    with fits.open(path) as hdul:
        if "DQ" in hdul:
            return path
        ny, nx = hdul["COEFFS"].data.shape[-2:]
        dst = work / "refs_jwst" / path.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        hdus = [h.copy() for h in hdul]
        hdus.insert(2, fits.ImageHDU(np.zeros((ny, nx), np.uint32), name="DQ"))
        fits.HDUList(hdus).writeto(dst, overwrite=True)
    print(f"note: {path.name} has no DQ extension; jwst gets {dst} (same, with a zero DQ)")
    return dst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default="/tmp/jwcal-bench")
    ap.add_argument("--ngroups", type=int, default=10)
    ap.add_argument("--nints", type=int, default=1)
    ap.add_argument("--subarray", default="FULL")
    ap.add_argument("--detector", default="NRCA1")
    ap.add_argument("--jwst-maximum-cores", default="1", help="jwst's jump/ramp_fit maximum_cores (its default is '1')")
    ap.add_argument("--skip-jwst", action="store_true")
    ap.add_argument("--threads", type=int, default=None, help="JWCAL_THREADS for the jwcal child (default: all cores)")
    ap.add_argument("--repeat", type=int, default=1, help="run each child N times; report the fastest (peak: largest)")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args()

    work = Path(args.workdir)
    data = work / f"nircam_{args.detector}_{args.subarray}_g{args.ngroups}_i{args.nints}"
    if not list(data.glob("*_uncal.fits")):
        subprocess.run([sys.executable, "-m", "jwcore", "--log-level", "WARNING", "simulate", str(data),
                        "-i", "nircam", "-d", args.detector, "--ngroups", str(args.ngroups), "--nints",
                        str(args.nints), "--subarray", args.subarray, "--seed", "7"], check=True)
    uncal = sorted(data.glob("*_uncal.fits"))[0]
    refs_dir = data / "refs"

    # the references jwcal selects are the ones both pipelines get
    from astropy.io import fits

    from jwcore.datamodel import read_meta
    from jwcore.datamodel.node import Node
    from jwcore.plugins import get_plugin_manager
    from jwcore.refs import select_reference
    from jwcore.refs.store import LocalStore

    pm = get_plugin_manager()
    meta = Node(read_meta(uncal), "meta")
    store = LocalStore(refs_dir)
    refs = {}
    for rt in ("mask", "saturation", "superbias", "linearity", "dark", "gain", "readnoise", "ipc"):
        sel = select_reference(pm, rt, meta, store=store)
        refs[rt] = str(sel.path) if sel else "N/A"
    jwst_refs = dict(refs)
    if refs["linearity"] != "N/A":
        jwst_refs["linearity"] = str(jwst_linearity_copy(Path(refs["linearity"]), data))
    with fits.open(uncal) as hdul:
        ramp_shape = tuple(hdul["SCI"].shape)
    ramp_gb = 4 * float(__import__("numpy").prod(ramp_shape)) / 1e9
    env = offline_crds_env(work)
    jwcal_env = dict(env)
    if args.threads:
        jwcal_env["JWCAL_THREADS"] = str(args.threads)

    def best(runs):
        out = min(runs, key=lambda r: r["seconds"])
        out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
        out["all_seconds"] = [round(r["seconds"], 2) for r in runs]
        return out

    out_a = work / f"out_jwcal_{data.name}"   # per configuration: all simulations share one file name
    out_a.mkdir(parents=True, exist_ok=True)
    children = {"jwcal": (JWCAL_CHILD.format(uncal=str(uncal), out=str(out_a), refs=str(refs_dir)) + CHILD_FOOTER,
                          jwcal_env)}
    if not args.skip_jwst:
        out_b = work / f"out_jwst_{data.name}"
        out_b.mkdir(parents=True, exist_ok=True)
        children["jwst"] = (JWST_CHILD.format(uncal=str(uncal), out=str(out_b), refs_json=json.dumps(jwst_refs),
                                              cores=args.jwst_maximum_cores) + CHILD_FOOTER, env)
    # repeats alternate jwcal and jwst, so a change in the machine's load hits both alike
    runs = {label: [] for label in children}
    for _ in range(args.repeat):
        for label, (code, child_env) in children.items():
            runs[label].append(run_child(code, child_env, label))
    results = {label: best(r) for label, r in runs.items()}
    results["load_average"] = os.getloadavg()

    print(f"\ninput: {uncal.name}  (SCI {ramp_shape}: float32 ramp {ramp_gb * 1e3:.0f} MB)")
    print(f"{'':8} {'pipeline s':>11} {'process s':>10} {'peak RSS MB':>12} {'peak/ramp':>10}")
    for k, r in [(k, results[k]) for k in children]:
        print(f"{k:8} {r['seconds']:11.2f} {r['process_wall_s']:10.2f} {r['peak_rss_mb']:12.0f} "
              f"{r['peak_rss_mb'] / 1e3 / ramp_gb:10.2f}")
    names = list(dict.fromkeys([*results["jwcal"]["steps"], *results.get("jwst", {}).get("steps", {})]))
    print(f"\n{'step':16}" + "".join(f"{k + ' s':>10}" for k in children))
    for n in names:
        print(f"{n:16}" + "".join(f"{results[k]['steps'][n]:10.2f}" if n in results[k]["steps"] else f"{'-':>10}"
                                  for k in children))
    print("load average at the end (1, 5, 15 min):", " ".join(f"{x:.2f}" for x in results["load_average"]))
    if "jwst" in results:
        a, b = results["jwcal"], results["jwst"]
        results["speedup"] = b["seconds"] / a["seconds"]
        results["memory_ratio"] = a["peak_rss_mb"] / b["peak_rss_mb"]
        pairs = [jb["seconds"] / ja["seconds"] for ja, jb in zip(runs["jwcal"], runs["jwst"])]
        results["speedup_per_repeat"] = pairs
        print(f"\nspeed-up (jwst/jwcal pipeline time): {results['speedup']:.1f}x (fastest of each)"
              + (f"; per repeat: {', '.join(f'{p:.1f}x' for p in pairs)}" if len(pairs) > 1 else ""))
        print(f"memory (jwcal/jwst peak RSS):        {results['memory_ratio']:.3f}"
              f"  (jwst uses {1 / results['memory_ratio']:.1f}x jwcal's)")
        results["difference"] = compare(a["output"], b["output"])
        print("output difference:", json.dumps(results["difference"], indent=1))
    results["ramp_shape"] = ramp_shape
    results["ramp_gb"] = ramp_gb
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
