"""jwcal vs jwst Detector1Pipeline on the same simulated exposure and the same references.

    python benchmarks/bench_detector1.py [--workdir /tmp/jwcal-bench] [--ngroups 10] [--nints 1]
           [--subarray FULL] [--jwst-maximum-cores 1]

Simulates (once, cached in the workdir) a NIRCam NRCA1 exposure and its reference set with
``jwcal simulate``, selects each reference through jwcal's local store, then runs, each in a
fresh child process of this one: jwcal's detector1 and jwst's Detector1Pipeline with every
reference given as an override.  Prints pipeline wall time, child peak RSS, their ratios, and
how the two rate products differ.  Results go in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _peer import CHILD_FOOTER, compare, offline_crds_env, run_child  # noqa: E402

JWCAL_CHILD = """
import time, logging
from pathlib import Path
from jwcore.plugins import get_plugin_manager
from jwcore.runner import Pipeline, RunContext
from jwcore.datamodel import open_model
from jwcore.refs.store import LocalStore
logging.getLogger("jwcal").setLevel(logging.WARNING)
uncal, out, refs = Path({uncal!r}), Path({out!r}), Path({refs!r})
pm = get_plugin_manager()
t0 = time.perf_counter()
model = open_model(uncal)
spec = pm.registry.pipeline("detector1", model.meta.instrument.name)
ctx = RunContext(pm=pm, input_path=uncal, output_dir=out, store=LocalStore(refs), protect=(uncal,))
Pipeline(spec, pm.registry, {{}}).run(model, ctx)
seconds = time.perf_counter() - t0
output = out / (uncal.name.replace("_uncal.fits", "_rate.fits"))
"""

JWST_CHILD = """
import time, logging
from pathlib import Path
from astropy.utils import iers
iers.conf.auto_download = False
from jwst.pipeline import Detector1Pipeline
uncal, out = Path({uncal!r}), Path({out!r})
refs = {refs_json}
steps = {{}}
for name, sdef in Detector1Pipeline.step_defs.items():
    for rt in getattr(sdef, "reference_file_types", []):
        steps.setdefault(name, {{}})["override_" + rt] = refs.get(rt, "N/A")
steps.setdefault("jump", {{}})["maximum_cores"] = {cores!r}
steps.setdefault("ramp_fit", {{}})["maximum_cores"] = {cores!r}
t0 = time.perf_counter()
Detector1Pipeline.call(str(uncal), steps=steps, save_results=True, output_dir=str(out))
seconds = time.perf_counter() - t0
output = out / (uncal.name.replace("_uncal.fits", "_rate.fits"))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default="/tmp/jwcal-bench")
    ap.add_argument("--ngroups", type=int, default=10)
    ap.add_argument("--nints", type=int, default=1)
    ap.add_argument("--subarray", default="FULL")
    ap.add_argument("--detector", default="NRCA1")
    ap.add_argument("--jwst-maximum-cores", default="1", help="jwst's jump/ramp_fit maximum_cores (its default is '1')")
    ap.add_argument("--skip-jwst", action="store_true")
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
        refs[rt] = sel.path if sel else "N/A"
    env = offline_crds_env(work)

    results = {}
    out_a = work / "out_jwcal"
    out_a.mkdir(parents=True, exist_ok=True)
    results["jwcal"] = run_child(JWCAL_CHILD.format(uncal=str(uncal), out=str(out_a), refs=str(refs_dir)) + CHILD_FOOTER,
                                 env, "jwcal")
    if not args.skip_jwst:
        out_b = work / "out_jwst"
        out_b.mkdir(parents=True, exist_ok=True)
        results["jwst"] = run_child(JWST_CHILD.format(uncal=str(uncal), out=str(out_b), refs_json=json.dumps(refs),
                                                      cores=args.jwst_maximum_cores) + CHILD_FOOTER, env, "jwst")
    ramp_gb = args.nints * args.ngroups * 2048 * 2048 * 4 / 1e9 if args.subarray == "FULL" else None
    print(f"\ninput: {uncal.name}  ({args.nints} int x {args.ngroups} groups, {args.subarray})")
    print(f"{'':8} {'pipeline s':>11} {'process s':>10} {'peak RSS MB':>12}")
    for k, r in results.items():
        print(f"{k:8} {r['seconds']:11.2f} {r['process_wall_s']:10.2f} {r['peak_rss_mb']:12.0f}")
    if "jwst" in results:
        a, b = results["jwcal"], results["jwst"]
        print(f"speed-up (jwst/jwcal pipeline time): {b['seconds'] / a['seconds']:.1f}x")
        print(f"memory (jwcal/jwst peak RSS):        {a['peak_rss_mb'] / b['peak_rss_mb']:.2f}")
        if ramp_gb:
            print(f"jwcal peak RSS / float32 ramp size:  {a['peak_rss_mb'] / 1e3 / ramp_gb:.2f}")
        print("output difference:", json.dumps(compare(a["output"], b["output"]), indent=1))


if __name__ == "__main__":
    main()
