"""Benchmark jwcal's jump detection against stcal's on a NIRCam-like full-frame ramp.

Run manually (not part of the test suite)::

    PYTHONPATH=/work/main /work/venv-probe/bin/python benchmarks/bench_jump.py [--size 2048]
        [--ngroups 10] [--nints 1] [--workers 2] [--large-events] [--repeat 3] [--memory]

The ramp is synthetic: per-pixel flux, Gaussian shot and read noise, cosmic rays of several
sizes (single pixels and pixels with charge spilled into the 4 neighbours)
and snowballs (saturated cores with halos).  stcal is run the way jwst's JumpStep sets it up
(``maximum_cores='1'``).  Prints both wall times, the ratio and whether the DQ is identical
(``--memory``: also the peak traced allocations of one more run each).
"""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

import numpy as np

from jwcore import dq
from jwcore.steps.jump import detect_jumps


def make_ramp(nints, ngroups, size, seed=1):
    rng = np.random.default_rng(seed)
    ny = nx = size
    gain = (2.0 + 0.1 * rng.standard_normal((ny, nx))).astype(np.float32)
    rn = (7.0 + 0.7 * rng.standard_normal((ny, nx))).astype(np.float32)
    flux = rng.gamma(2.0, 15.0, (ny, nx)).astype(np.float32)  # e / group
    data = np.empty((nints, ngroups, ny, nx), np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    n_cr = int(2000 * (size / 2048) ** 2)
    n_snow = max(1, int(12 * (size / 2048) ** 2))
    yy, xx = np.mgrid[0:32, 0:32]
    for i in range(nints):
        e = np.empty((ngroups, ny, nx), np.float32)
        acc = np.zeros((ny, nx), np.float32)
        for g in range(ngroups):
            step = flux + np.sqrt(flux) * rng.standard_normal((ny, nx), dtype=np.float32)
            acc += step
            e[g] = acc
        for g in range(1, ngroups):
            ys = rng.integers(0, ny, n_cr)
            xs = rng.integers(0, nx, n_cr)
            amp = rng.choice(np.array([40, 150, 600, 3000, 15000], np.float32), n_cr)
            e[g:, ys, xs] += amp
            spill = rng.random(n_cr) < 0.4
            for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                y2 = np.clip(ys[spill] + dy, 0, ny - 1)
                x2 = np.clip(xs[spill] + dx, 0, nx - 1)
                e[g:, y2, x2] += 0.1 * amp[spill]
        for _ in range(n_snow):
            g = int(rng.integers(1, ngroups - 1))
            y0 = int(rng.integers(40, ny - 40))
            x0 = int(rng.integers(40, nx - 40))
            r = np.hypot(yy - 16, xx - 16)
            core = rng.uniform(2.0, 4.5)
            bump = np.where(r < core, 3e5, 3000 * np.exp(-(r - core) / 2.0) * (r < 4 * core))
            e[g:, y0 - 16 : y0 + 16, x0 - 16 : x0 + 16] += bump.astype(np.float32)
        dn = e / gain + rn / np.sqrt(np.float32(2)) * rng.standard_normal(e.shape, dtype=np.float32)
        sat = np.maximum.accumulate(dn > 60000.0, axis=0)
        data[i] = dn
        gdq[i][sat] |= dq.SATURATED
    pdq = np.zeros((ny, nx), np.uint32)
    return data, gdq, pdq, rn, gain


def run_stcal(data, gdq, pdq, rn, gain, group_time, nframes, large_events):
    from stcal.jump.jump import detect_jumps_data
    from stcal.jump.jump_class import JumpData

    model = SimpleNamespace(
        data=data,
        groupdq=gdq.copy(),
        pixeldq=pdq.copy(),
        meta=SimpleNamespace(exposure=SimpleNamespace(nframes=nframes)),
    )
    jd = JumpData(model, gain, rn, dq.PIXEL)
    jd.set_detection_settings(4.0, 6.0, 5.0, 1000.0, 10.0, True)
    jd.set_after_jump(0.0, 0, 0.0, 0)
    jd.set_snowball_info(large_events, 5.0, 1.0, 2.0, True, 2.5, 4, 25)
    jd.set_shower_info(False, 1.2, 90, 1.0, 2.6, 1.1, 10, 400)
    jd.set_sigma_clipping_info(3, 100, True)
    jd.max_cores = "1"
    jd.grps_masked_after_shower = int(15 // group_time)
    jd.mask_persist_grps_next_int = True
    jd.persist_grps_flagged = int(4000 // group_time)
    jd.max_shower_amplitude = jd.max_shower_amplitude * group_time
    return detect_jumps_data(jd)[0]


def peak_mib(fn):
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--ngroups", type=int, default=10)
    ap.add_argument("--nints", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--large-events", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-stcal", action="store_true")
    ap.add_argument("--memory", action="store_true", help="also trace peak memory (one extra run each)")
    args = ap.parse_args()

    group_time = 10.737
    t0 = time.perf_counter()
    data, gdq, pdq, rn, gain = make_ramp(args.nints, args.ngroups, args.size)
    print(f"ramp {data.shape} built in {time.perf_counter() - t0:.1f} s")

    def ours_once():
        return detect_jumps(
            data,
            gdq,
            pdq,
            rn,
            gain,
            frame_time=group_time,
            group_time=group_time,
            nframes=1,
            expand_large_events=args.large_events,
            max_workers=args.workers,
        )

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ours = ours_once()
        times.append(time.perf_counter() - t0)
    print(
        f"jwcal detect_jumps (workers={args.workers}): first {times[0]:.2f} s, "
        f"best of {len(times)} {min(times):.2f} s"
    )
    if args.memory:
        print(f"jwcal peak traced memory: {peak_mib(ours_once):.0f} MiB")
    if args.skip_stcal:
        return
    t0 = time.perf_counter()
    ref = run_stcal(data, gdq, pdq, rn, gain, group_time, 1, args.large_events)
    t_ref = time.perf_counter() - t0
    print(f"stcal detect_jumps_data: {t_ref:.2f} s")
    print(f"speed-up: {t_ref / min(times):.1f}x (vs best), {t_ref / times[0]:.1f}x (vs first call)")
    if args.memory:
        mib = peak_mib(lambda: run_stcal(data, gdq, pdq, rn, gain, group_time, 1, args.large_events))
        print(f"stcal peak traced memory: {mib:.0f} MiB")
    ndiff = int(np.count_nonzero(ref != ours))
    print(f"DQ identical: {ndiff == 0} ({ndiff} differing values; {int(np.count_nonzero(ref & 4))} JUMP flags)")


if __name__ == "__main__":
    main()
