"""Multiply rate products by GAINFACT (and their variances by GAINFACT squared)."""

from __future__ import annotations

import numpy as np

from .._ramp_util import array_blocks, run_parallel

__all__ = ["apply_gain_scale"]


def apply_gain_scale(data, err, gain_factor, var_poisson=None, var_rnoise=None) -> None:
    """Scale SCI and ERR by ``gain_factor`` and VAR_POISSON/VAR_RNOISE by its square, in place.

    ``gain_factor`` is taken as a Python float and squared in double precision before
    being applied to the float32 arrays (the jwst arithmetic).  Variance arrays that are
    None or empty are skipped.
    """
    g = float(gain_factor)
    g2 = g**2
    jobs = [(b, g) for arr in (data, err) if arr is not None for b in array_blocks(arr)]
    for var in (var_poisson, var_rnoise):
        if var is not None and np.size(var) > 0:
            jobs.extend((b, g2) for b in array_blocks(var))

    def work(job):
        block, factor = job
        block *= factor

    run_parallel(work, jobs)
