"""jwcal vs jwst Image3Pipeline (skymatch, outlier_detection, resample) on 4 and 16 exposures.

    python benchmarks/bench_image3.py [--workdir /tmp/jwcal-bench3] [--size 1024] [--counts 4,16]
           [--skip-jwst] [--jwst-on-disk] [--json FILE]

Writes (once, cached in the workdir) ``N`` dithered NIRCam NRCA1 ``_cal`` exposures of
``size`` x ``size`` pixels (stars, sky pedestals, injected outliers; tests/stage3/_kit.py) and
their level-3 association, then runs in a fresh child process each: jwcal's image3 (the
registered generic pipeline) and jwst's Image3Pipeline, both with tweakreg and
source_catalog skipped (what is measured is the combination: sky matching, outlier flagging
with ``_crf`` products, drizzling to the ``_i2d``).  Prints wall time (pipeline call, and
the child process from start to exit), the child's peak RSS (``ru_maxrss``), the peak's
growth from 4 to 16 exposures, and how the two ``_i2d`` products differ.

jwst runs with its default ``in_memory=True`` (every exposure held in memory); with
``--jwst-on-disk`` also with ``in_memory=False`` (its temporary-file mode).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from _peer import CHILD_FOOTER, JWST_LOG_CAPTURE, offline_crds_env, run_child  # noqa: E402

JWCAL_CHILD = """
import time, logging
from pathlib import Path
from jwcore.asn import load
from jwcore.library import ModelLibrary
from jwcore.plugins import get_plugin_manager
from jwcore.runner import Pipeline, RunContext
logging.getLogger("jwcal").setLevel(logging.WARNING)
asn_path, out = Path({asn!r}), Path({out!r})
out.mkdir(parents=True, exist_ok=True)
pm = get_plugin_manager()
t0 = time.perf_counter()
asn = load(asn_path)
lib = ModelLibrary(asn)
spec = pm.registry.pipeline("image3", "NIRCAM")
config = {{"steps": {{k: {{"skip": True}} for k in ("tweakreg", "source_catalog") if k in spec.step_keys}}}}
ctx = RunContext(pm=pm, input_path=out / (asn.products[0].name + ".fits"), output_dir=out)
Pipeline(spec, pm.registry, config).run(lib, ctx)
seconds = time.perf_counter() - t0
steps = {{name: s for name, status, s in ctx.steps}}
output = out / (asn.products[0].name + "_i2d.fits")
"""

JWST_CHILD = """
import time
from pathlib import Path
from astropy.utils import iers
iers.conf.auto_download = False
from jwst.pipeline import Image3Pipeline
asn_path, out = Path({asn!r}), Path({out!r})
out.mkdir(parents=True, exist_ok=True)
""" + JWST_LOG_CAPTURE + """
t0 = time.perf_counter()
Image3Pipeline.call(str(asn_path), output_dir=str(out), save_results=True, in_memory={in_memory!r},
                    steps={{"tweakreg": {{"skip": True}}, "source_catalog": {{"skip": True}}}})
seconds = time.perf_counter() - t0
steps = jwst_step_times(_log_buf.getvalue(), "Image3Pipeline")
import json as _j
product = _j.loads(asn_path.read_text())["products"][0]["name"]
output = out / (product + "_i2d.fits")
"""


def make_data(work: Path, n: int, size: int) -> Path:
    folder = work / f"nircam_{size}_{n}"
    asns = sorted(folder.glob("*_asn.json"))
    if asns:
        return asns[0]
    sys.path.insert(0, str(ROOT))
    from tests.stage3 import _kit

    rng = __import__("numpy").random.default_rng(n)
    ex = _kit.make_exposures(folder, n=n, shape=(size, size), seed=5, n_stars=max(12, size // 8),
                             dither_arcsec=0.25, skies=list(rng.uniform(0.1, 0.4, n)),
                             n_outliers=size * size // 400)
    return _kit.write_asn(folder, ex)


def i2d_diff(a_path, b_path) -> dict:
    import numpy as np
    from astropy.io import fits

    out = {}
    with fits.open(a_path) as a, fits.open(b_path) as b:
        for ext in ("SCI", "WHT", "ERR", "VAR_RNOISE", "VAR_POISSON", "VAR_FLAT"):
            x, y = a[ext].data.astype(np.float64), b[ext].data.astype(np.float64)
            if x.shape != y.shape:
                out[ext] = {"shape": [x.shape, y.shape]}
                continue
            ok = np.isfinite(x) & np.isfinite(y)
            d = np.abs(x[ok] - y[ok])
            out[ext] = {"identical": bool(np.array_equal(x[ok], y[ok]) and np.array_equal(np.isnan(x), np.isnan(y))),
                        "max_abs": float(d.max()) if d.size else 0.0,
                        "max_rel_to_peak": float(d.max() / np.nanmax(np.abs(y))) if d.size else 0.0}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default="/tmp/jwcal-bench3")
    ap.add_argument("--size", type=int, default=1024, help="exposure size in pixels (square)")
    ap.add_argument("--counts", default="4,16", help="numbers of exposures to run")
    ap.add_argument("--skip-jwst", action="store_true")
    ap.add_argument("--jwst-on-disk", action="store_true", help="also run jwst with in_memory=False")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    work = Path(args.workdir)
    env = offline_crds_env(work)
    counts = [int(c) for c in args.counts.split(",")]
    results = {}
    for n in counts:
        asn = make_data(work, n, args.size)
        runs = {"jwcal": JWCAL_CHILD.format(asn=str(asn), out=str(work / f"out_jwcal_{args.size}_{n}"))}
        if not args.skip_jwst:
            runs["jwst"] = JWST_CHILD.format(asn=str(asn), out=str(work / f"out_jwst_{args.size}_{n}"), in_memory=True)
            if args.jwst_on_disk:
                runs["jwst_on_disk"] = JWST_CHILD.format(asn=str(asn), out=str(work / f"out_jwstdisk_{args.size}_{n}"),
                                                         in_memory=False)
        res = {}
        for label, code in runs.items():
            r = run_child(code + CHILD_FOOTER, env, f"{label} n={n}")
            res[label] = r
            print(f"n={n:3d} {label:13s} pipeline {r['seconds']:7.1f} s  process {r['process_wall_s']:7.1f} s  "
                  f"peak RSS {r['peak_rss_mb']:8.0f} MB", flush=True)
        if "jwst" in res:
            res["i2d_diff"] = i2d_diff(res["jwcal"]["output"], res["jwst"]["output"])
            same = {k: v.get("identical", v) for k, v in res["i2d_diff"].items()}
            print("      i2d jwcal vs jwst identical:", json.dumps(same))
        results[n] = res
    if len(counts) >= 2:
        lo, hi = counts[0], counts[-1]
        for label in results[lo]:
            if label == "i2d_diff":
                continue
            g = results[hi][label]["peak_rss_mb"] / results[lo][label]["peak_rss_mb"]
            print(f"peak RSS growth {lo} -> {hi} exposures, {label}: x{g:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"size": args.size, "results": results}, indent=2, default=str))


if __name__ == "__main__":
    main()
