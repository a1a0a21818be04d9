"""Benchmark: jwcal ramp fitting (OLS, optimal weighting) against stcal's OLS_C.

Run manually (not part of the test suite)::

    PYTHONPATH=/work/main /work/venv-probe/bin/python benchmarks/bench_ramp_fit.py [--size 2048]
        [--ngroups 10] [--nints 1] [--workers 1 2] [--block-rows N] [--no-stcal]

A synthetic ramp (Poisson + read noise, ~5% of pixels with a flagged jump, ~2% of
pixels saturating mid-ramp) is fitted by both; times and the ratio are printed, with the
largest relative slope difference and the count of DQ mismatches as a sanity check.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from jwcore.steps.ramp_fitting import fit_ramps

FLAGS = {
    "GOOD": 0,
    "DO_NOT_USE": 1,
    "SATURATED": 2,
    "JUMP_DET": 4,
    "DROPOUT": 8,
    "PERSISTENCE": 32,
    "AD_FLOOR": 64,
    "CHARGELOSS": 128,
    "NO_GAIN_VALUE": 2**19,
    "UNRELIABLE_SLOPE": 2**24,
}


def make_ramp(nints, ngroups, ny, nx, group_time, seed=1):
    rng = np.random.default_rng(seed)
    gain = rng.uniform(1.8, 2.2, (ny, nx)).astype(np.float32)
    readnoise = rng.uniform(8.0, 14.0, (ny, nx)).astype(np.float32)
    flux = rng.exponential(2.0, (ny, nx)).astype(np.float32)  # DN/s
    data = np.empty((nints, ngroups, ny, nx), np.float32)
    groupdq = np.zeros(data.shape, np.uint8)
    for i in range(nints):
        acc = np.zeros((ny, nx), np.float32)
        for g in range(ngroups):
            acc += rng.poisson(flux * group_time * gain).astype(np.float32) / gain
            noise = rng.normal(0.0, 1.0, (ny, nx)).astype(np.float32) * readnoise / np.float32(np.sqrt(2))
            data[i, g] = acc + noise
        jumps = rng.random((ny, nx)) < 0.05
        jg = rng.integers(1, ngroups, (ny, nx))
        for g in range(1, ngroups):
            m = jumps & (jg == g)
            groupdq[i, g][m] |= FLAGS["JUMP_DET"]
            data[i, g:][:, m] += 250.0
        sat = rng.random((ny, nx)) < 0.02
        sg = rng.integers(0, ngroups, (ny, nx))
        for g in range(ngroups):
            groupdq[i, g][sat & (sg <= g)] |= FLAGS["SATURATED"]
    pixeldq = np.zeros((ny, nx), np.uint32)
    return data, groupdq, pixeldq, readnoise, gain


def run_stcal(data, groupdq, pixeldq, readnoise, gain, meta):
    from stcal.ramp_fitting import ramp_fit as rf
    from stcal.ramp_fitting.ramp_fit_class import RampData

    nints, ngroups, ny, nx = data.shape
    rd = RampData()
    rd.set_arrays(data, groupdq.copy(), pixeldq, np.zeros((ny, nx), np.float32))
    rd.set_meta("NIRCAM", meta["frame_time"], meta["group_time"], meta["groupgap"], meta["nframes"], 0)
    rd.algorithm = "OLS_C"
    rd.set_dqflags(FLAGS)
    rd.start_row, rd.num_rows = 0, ny
    rd.suppress_one_group_ramps = ngroups > 1
    t0 = time.perf_counter()
    # ramp_fit() suppresses one-good-group ramps and scales the read noise; so does this.
    out = rf.ramp_fit_data(rd, False, readnoise.copy(), gain, "OLS_C", "optimal", "none")
    return time.perf_counter() - t0, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--ngroups", type=int, default=10)
    ap.add_argument("--nints", type=int, default=1)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--block-rows", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-stcal", action="store_true")
    args = ap.parse_args()

    n = args.size
    meta = {"frame_time": 10.737, "group_time": 10.737, "nframes": 1, "groupgap": 0}
    print(f"ramp: nints={args.nints} ngroups={args.ngroups} {n}x{n}")
    data, groupdq, pixeldq, readnoise, gain = make_ramp(args.nints, args.ngroups, n, n, meta["group_time"])

    ours = {}
    result = None
    for w in args.workers:
        best = np.inf
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = fit_ramps(
                data, groupdq, pixeldq, readnoise, gain, **meta, max_workers=w, block_rows=args.block_rows
            )
            best = min(best, time.perf_counter() - t0)
        ours[w] = best
        print(f"jwcal fit_ramps, {w} thread(s): {best:.3f} s (best of {args.repeat})")

    if args.no_stcal:
        return
    t_st, (image, integ, _) = run_stcal(data, groupdq, pixeldq, readnoise, gain, meta)
    print(f"stcal ramp_fit OLS_C (C, 1 process): {t_st:.3f} s")
    for w, t in ours.items():
        print(f"ratio stcal / jwcal ({w} thread(s)): {t_st / t:.2f}x")

    a, b = result.image.slope, image["slope"]
    ok = np.isfinite(a) & np.isfinite(b) & (b != 0)
    rel = np.abs(a[ok].astype(np.float64) - b[ok]) / np.abs(b[ok])
    print(f"max relative slope difference: {rel.max():.2e}; "
          f"NaN pattern equal: {np.array_equal(np.isnan(a), np.isnan(b))}; "
          f"DQ mismatches: {np.count_nonzero(result.image.dq != image['dq'])}")


if __name__ == "__main__":
    main()
