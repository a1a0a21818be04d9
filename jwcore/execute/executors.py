"""Where units run: in this process, in local worker processes, or on a Dask cluster.

All three take the same :class:`~jwcore.execute.worker.Job` objects and return
:class:`~jwcore.execute.worker.Outcome` objects; the coordinator (``orchestrate.py``) decides
what runs when.  Dask is optional (``pip install jwcal[dask]``): with ``--scheduler ADDRESS``
jwcal connects to an existing cluster (e.g. one started by dask-jobqueue on SLURM, or on
Kubernetes); without it a LocalCluster bound to 127.0.0.1 is started for the run.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os

from ..errors import JwcalError
from .worker import execute, limit_blas_threads, restore_malloc_defaults


class SerialExecutor:
    """Runs one job at a time in this process, when the coordinator waits for it (so each
    finished unit is recorded before the next starts)."""

    name = "serial"
    workers = 1

    def __init__(self):
        self._jobs: dict = {}

    def submit(self, job):
        fut = cf.Future()
        self._jobs[fut] = job
        return fut

    def wait_any(self, futures):
        fut = next(f for f in self._jobs if f in futures)
        job = self._jobs.pop(fut)
        try:
            fut.set_result(execute(job))
        except Exception as exc:  # pragma: no cover - execute() catches everything
            fut.set_exception(exc)
        return {fut}, set(futures) - {fut}

    def close(self):
        pass


class ProcessExecutor:
    name = "processes"

    def __init__(self, workers: int):
        self.workers = workers
        ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
        self.pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=limit_blas_threads)

    def submit(self, job):
        return self.pool.submit(execute, job)

    def wait_any(self, futures):
        done, pending = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        return done, pending

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    name = "dask"

    def __init__(self, workers: int, scheduler: str | None = None, processes: bool = True):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise JwcalError("--executor dask needs dask.distributed: pip install 'jwcal[dask]'") from None
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="20s")
            except Exception as exc:
                raise JwcalError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None
        else:
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                                         host="127.0.0.1", dashboard_address=None)
            self.client = Client(self._cluster)
        self.client.run(limit_blas_threads)
        self.client.run(restore_malloc_defaults)
        self.workers = len(self.client.scheduler_info().get("workers", {})) or workers

    def submit(self, job):
        return self.client.submit(execute, job, pure=False)

    def wait_any(self, futures):
        from distributed import wait

        result = wait(list(futures), return_when="FIRST_COMPLETED")
        return set(result.done), set(result.not_done)

    def close(self):
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str, jobs: int | None, scheduler: str | None = None):
    jobs = jobs or os.cpu_count() or 1
    if kind == "dask":
        return DaskExecutor(jobs, scheduler)
    if kind == "serial" or jobs <= 1:
        return SerialExecutor()
    return ProcessExecutor(jobs)
