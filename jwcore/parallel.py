"""How many threads a step may use right now.

A step that can split its work (row blocks of a ramp) asks :func:`threads`.  By default that
is every core; when the run executor already runs several units side by side it lowers the
budget (``with budget(n):``) so units x threads never oversubscribes the machine.
``JWCAL_THREADS`` overrides it.

OpenBLAS (numpy's BLAS) starts its own threads for a large ``np.dot``/``matmul`` (astropy's
3-D rotations in every gwcs sky transform use one).  Inside a step that already runs its
own row blocks on the budget's threads, those BLAS threads only compete with them for the
cores (and spin while waiting): :func:`blas_threads` caps them for the duration of a block.

>>> with budget(1):
...     threads()
1
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import os
import threading

_BUDGET: contextvars.ContextVar[int | None] = contextvars.ContextVar("jwcal_threads", default=None)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def threads() -> int:
    env = os.environ.get("JWCAL_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    value = _BUDGET.get()
    return value if value else cores()


@contextlib.contextmanager
def budget(n: int):
    token = _BUDGET.set(max(1, int(n)))
    try:
        yield
    finally:
        _BUDGET.reset(token)


# -- BLAS threads -------------------------------------------------------------------------
_BLAS_LOCK = threading.Lock()
_blas_state = {"depth": 0, "saved": None, "libs": None}
_OPENBLAS_NAMES = [(f"{p}_get_num_threads{s}", f"{p}_set_num_threads{s}")
                   for p in ("scipy_openblas", "openblas") for s in ("64_", "_64", "")]


def _openblas_controls() -> list:
    """``(get, set)`` ctypes functions of every OpenBLAS library loaded in this process."""
    if _blas_state["libs"] is not None:
        return _blas_state["libs"]
    found, paths = [], set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                fields = line.split(None, 5)
                if len(fields) == 6 and "openblas" in os.path.basename(fields[5].strip()).lower():
                    paths.add(fields[5].strip())
    except OSError:   # pragma: no cover - not Linux
        pass
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path, mode=getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_LOCAL)
        except OSError:
            continue
        for get_name, set_name in _OPENBLAS_NAMES:
            getter, setter = getattr(lib, get_name, None), getattr(lib, set_name, None)
            if getter is not None and setter is not None:
                getter.restype, getter.argtypes = ctypes.c_int, []
                setter.restype, setter.argtypes = None, [ctypes.c_int]
                found.append((getter, setter))
                break
    _blas_state["libs"] = found
    return found


@contextlib.contextmanager
def blas_threads(n: int = 1):
    """Cap numpy's BLAS (OpenBLAS) at ``n`` threads inside the block (process-wide; nested
    blocks keep the outermost cap).  A no-op where no OpenBLAS library is loaded.

    For code that runs its own threads over row blocks, so BLAS's threads do not
    oversubscribe the cores.  Only where the results do not depend on BLAS's thread count
    (a matrix product split by output columns does not; a long dot product's partial sums
    may).
    """
    with _BLAS_LOCK:
        if _blas_state["depth"] == 0:
            controls = _openblas_controls()
            _blas_state["saved"] = [(setter, getter()) for getter, setter in controls]
            for _, setter in controls:
                setter(max(1, int(n)))
        _blas_state["depth"] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _blas_state["depth"] -= 1
            if _blas_state["depth"] == 0:
                for setter, value in _blas_state["saved"] or ():
                    setter(value)
                _blas_state["saved"] = None
