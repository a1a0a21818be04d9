"""How many threads a step may use right now.

A step that can split its work (row blocks of a ramp) asks :func:`threads`.  By default that
is every core; when the run executor already runs several units side by side it lowers the
budget (``with budget(n):``) so units x threads never oversubscribes the machine.
``JWCAL_THREADS`` overrides it.

>>> with budget(1):
...     threads()
1
"""

from __future__ import annotations

import contextlib
import contextvars
import os

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
