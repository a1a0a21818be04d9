"""Run one unit (in this process, a worker process, or a Dask worker).

References were resolved by the coordinator before fan-out and arrive in ``job.references``;
a worker never selects references or touches a shared cache itself.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import JwcalError

log = logging.getLogger("jwcal.run")

BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


@dataclass
class Job:
    unit: object
    config: dict
    output_dir: Path
    references: dict = field(default_factory=dict)   # reftype -> Selection | None
    threads: int = 1                                  # threads a step may use inside this job


@dataclass
class Outcome:
    unit_id: str
    status: str                 # "ok" | "failed" | "skipped" | "up-to-date"
    seconds: float = 0.0
    message: str = ""
    outputs: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    references: dict = field(default_factory=dict)   # reftype -> {"path", "source", "sha256"}


def limit_blas_threads(n: int = 1) -> None:
    """Keep BLAS/OpenMP from oversubscribing the cores our own workers already use."""
    for var in BLAS_VARS:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass


# glibc mallopt parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def restore_malloc_defaults() -> bool:
    """Undo ``MALLOC_TRIM_THRESHOLD_`` in this process (glibc only); True if it did.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``.  Setting any malloc
    threshold switches off glibc's dynamic mmap threshold, so every array above 128 KiB is
    then mmapped and unmapped again and its pages fault in at each allocation: a full-frame
    exposure through stages 1-2 took 13.4 s instead of 7.7 s (system time 6.2 s instead of
    1.0 s).  The thresholds are set to where glibc's dynamic rule settles (arrays up to
    32 MiB from the heap, 64 MiB kept before trimming).
    """
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return False
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, 64 * 1024 * 1024) == 1 and ok
    return ok


def execute(job: Job) -> Outcome:
    """Run ``job.unit``'s pipeline.  A user error or a crash fails this unit only."""
    from ..datamodel import open_model
    from ..plugins import get_plugin_manager
    from ..runner.context import RunContext
    from ..runner.pipeline import Pipeline

    unit = job.unit
    t0 = time.perf_counter()
    pm = get_plugin_manager()
    ctx = RunContext(pm=pm, input_path=Path(unit.input), output_dir=Path(job.output_dir), protect=_protected(unit))
    ctx.association = unit.association
    ctx.product = unit.product
    ctx.threads = job.threads
    for reftype, sel in job.references.items():
        ctx.references[(reftype, None)] = sel
    try:
        spec = pm.registry.pipeline(unit.pipeline, unit.instrument)
        pipeline = Pipeline(spec, pm.registry, job.config, strict=False)
        if unit.association is not None and unit.stage == 3:
            from ..library import ModelLibrary

            if not unit.association.path.exists():
                unit.association.write(unit.association.path)
            model = ModelLibrary(unit.association, unit.product)
            ctx.input_path = Path(job.output_dir) / f"{unit.product.name}.fits"
        else:
            model = open_model(unit.input)
        from ..parallel import budget

        with budget(job.threads):
            pipeline.run(model, ctx)
        status, message = "ok", ""
    except JwcalError as exc:
        status, message = "failed", str(exc)
        log.error("%s: %s", unit.name, message)
    except Exception as exc:  # a bug: keep the traceback in the log, go on with the others
        status, message = "failed", f"internal error {type(exc).__name__}: {exc}"
        log.error("%s failed with an internal error:\n%s", unit.name, traceback.format_exc())
    refs = {k[0]: ({"path": v.path, "source": v.source, "sha256": v.sha256} if v else None)
            for k, v in ctx.references.items()}
    return Outcome(unit.id, status, time.perf_counter() - t0, message, [str(p) for p in ctx.written],
                   list(ctx.steps), refs)


def _protected(unit) -> tuple:
    out = [Path(unit.input)]
    if unit.association is not None:
        for product in unit.association.products:
            for member in product.members:
                try:
                    out.append(unit.association.member_path(member))
                except JwcalError:
                    pass
    return tuple(out)
