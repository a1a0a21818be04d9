"""MIRI inputs shared by the MIRI step parity tests (firstframe, lastframe, reset, rscd)."""

import numpy as np

from jwcore import dq

from .stepkit import MIRI, science


def miri_ramp(tmp_path, *, nints, ngroups, shape=(16, 20), subarray="SUB64", readpatt="FASTR1", seed=20,
              saturate=True, extra=None):
    rng = np.random.default_rng(seed)
    full = (nints, ngroups) + shape
    data = np.cumsum(rng.uniform(10, 500, full), axis=1).astype(np.float32) + 5000
    gdq = np.zeros(full, np.uint8)
    if saturate:
        first_sat = rng.integers(0, ngroups + 3, (nints,) + shape)
        for g in range(ngroups):
            gdq[:, g][first_sat <= g] |= dq.SATURATED
    return science(tmp_path / "x_ramp.fits", kind="ramp", inst=MIRI, nints=nints, ngroups=ngroups, shape=shape,
                   subarray=subarray, data=data, groupdq=gdq, readpatt=readpatt, extra=extra)


def register_miri(pm):
    from jwcal_miri import plugin as miri_plugin

    pm.register_plugin(miri_plugin.plugin, name="miri", distribution="jwcal-miri")
    return pm
