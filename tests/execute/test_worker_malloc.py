"""Dask workers run with MALLOC_TRIM_THRESHOLD_=65536 (distributed's nanny default), which makes
glibc mmap/munmap every large array and fault its pages in again at each allocation.  The
worker set-up (``restore_malloc_defaults``) puts glibc's thresholds back.  Measured here by
page faults, not time: 40 allocations of a 16 MiB array."""

import subprocess
import sys

import pytest

CODE = r"""
import resource, sys
import numpy as np
from jwcore.execute.worker import restore_malloc_defaults
fixed = restore_malloc_defaults() if sys.argv[1] == "fix" else None
a = np.ones(4 * 1024 * 1024, np.float32); del a          # warm up
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):
    a = np.ones(4 * 1024 * 1024, np.float32)
    del a
print(fixed, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode, env_extra):
    import os

    env = dict(os.environ, **env_extra)
    out = subprocess.run([sys.executable, "-c", CODE, mode], env=env, capture_output=True, text=True, check=True)
    fixed, n = out.stdout.split()
    return fixed, int(n)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")
def test_restore_malloc_defaults_stops_page_faulting_large_arrays():
    trim = {"MALLOC_TRIM_THRESHOLD_": "65536"}
    fixed, with_fix = faults("fix", trim)
    _, without_fix = faults("none", trim)
    assert fixed == "True"
    # measured: 20800 faults without the fix (each allocation faults its memory in again;
    # the kernel maps in chunks), 0 with it
    assert without_fix > 40 * 100
    assert with_fix < without_fix / 20
    # without the variable there is nothing to undo
    assert faults("fix", {})[0] == "False"
