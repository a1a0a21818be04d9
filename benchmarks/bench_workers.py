"""Speed-up from 1 to 2 workers for a batch of exposures (jwcal run, stage 1 and 2).

    python benchmarks/bench_workers.py [--workdir /tmp/jwcal-bench-workers] [--exposures 6]
           [--subarray FULL] [--ngroups 5]

Simulates the batch once (cached), then runs ``jwcal run RAW --to-stage 2`` as child processes
of this one with: 1 worker (serial; steps may use both cores through threads), 2 local worker
processes, and a 2-worker Dask LocalCluster.  Each run starts from an empty output folder.
Prints wall times and speed-ups; the figures are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default="/tmp/jwcal-bench-workers")
    ap.add_argument("--exposures", type=int, default=6)
    ap.add_argument("--subarray", default="FULL")
    ap.add_argument("--ngroups", type=int, default=5)
    args = ap.parse_args()
    work = Path(args.workdir)
    raw = work / f"raw_{args.subarray}_{args.exposures}x{args.ngroups}"
    if len(list(raw.glob("*_uncal.fits"))) < args.exposures:
        subprocess.run([sys.executable, "-m", "jwcore", "--log-level", "WARNING", "simulate", str(raw), "-i", "nircam",
                        "-d", "NRCA1", "--filter", "F200W", "--subarray", args.subarray, "--ngroups",
                        str(args.ngroups), "--dithers", str(args.exposures), "--seed", "3"], check=True)
    runs = [("1 worker (serial, 2 threads/step)", ["--executor", "serial"]),
            ("2 worker processes", ["-j", "2"]),
            ("Dask LocalCluster, 2 workers", ["--executor", "dask", "-j", "2"])]
    times = {}
    for label, extra in runs:
        out = work / "out"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "jwcore", "--log-level", "WARNING", "run", str(raw), "-o", str(out),
                        "--to-stage", "2", "--refs", str(raw / "refs"), *extra], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[label] = time.perf_counter() - t0
    base = times[runs[0][0]]
    print(f"\n{args.exposures} NIRCam {args.subarray} exposures x {args.ngroups} groups, stages 1-2")
    for label, t in times.items():
        print(f"{label:36} {t:7.1f} s   speed-up {base / t:4.2f}x")


if __name__ == "__main__":
    main()
