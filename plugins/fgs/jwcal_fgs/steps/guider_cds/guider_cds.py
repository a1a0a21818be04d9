"""Correlated-double-sample count rates of FGS guider ramps (pure numpy).

Rules per guiding mode (``exp_type``), with ``t`` the group time:

* ``FGS_ID-IMAGE`` / ``FGS_ID-STACK``: per integration group 2 minus group 1 of the first
  two integrations; the rate is the pixel-wise minimum of the two differences over ``t``
  (a single output plane).
* ``FGS_FINEGUIDE``: mean of the last 4 groups minus mean of the first 4, over ``t``.
* ``FGS_ACQ1`` / ``FGS_ACQ2`` / ``FGS_TRACK`` (and anything else): group 2 minus group 1,
  over ``t``.

Error: ``sqrt(var_rn + var_p)`` with ``var_rn = 2 (readnoise / t)**2`` and
``var_p = max(diff / (gain t), 0)``, where ``diff`` is the *undivided* difference (so the
Poisson term has the units ``jwst`` gives it).  Gain zeros give NaN/inf errors, as in jwst.
"""

from __future__ import annotations

import numpy as np

__all__ = ["guider_cds"]


def _differences(data: np.ndarray, exp_type: str) -> np.ndarray:
    """(nout, ny, nx) float32 undivided differences for the mode."""
    et = exp_type.upper()
    if et.startswith("FGS_ID"):
        if data.shape[0] < 2:
            raise ValueError("FGS ID data need two integrations")
        d0 = data[0, 1] - data[0, 0]
        d1 = data[1, 1] - data[1, 0]
        return np.minimum(d1, d0)[None]
    if et == "FGS_FINEGUIDE":
        # float32 means along the group axis (pairwise summation, like numpy's mean)
        return (data[:, -4:].mean(axis=1, dtype=np.float32)
                - data[:, :4].mean(axis=1, dtype=np.float32))
    return data[:, 1] - data[:, 0]


def guider_cds(data, group_time: float, exp_type: str, gain, readnoise):
    """Count rate and error of an FGS guider ramp.

    Parameters
    ----------
    data : ndarray (nints, ngroups, ny, nx), float32
    group_time : float
        Seconds per group (TGROUP).
    exp_type : str
        EXP_TYPE of the exposure (selects the rule, see module doc).
    gain, readnoise : ndarray (ny, nx)
        Reference arrays already cut to the data window.

    Returns
    -------
    (rate, err) : two float32 arrays of shape (nints, ny, nx), or (1, ny, nx) for ID modes.
    """
    data = np.asarray(data, dtype=np.float32)
    if data.ndim != 4:
        raise ValueError(f"guider data must be 4-D, got shape {data.shape}")
    t = np.float32(group_time)
    diff = _differences(data, exp_type).astype(np.float32, copy=False)
    gain = np.asarray(gain, dtype=np.float32)
    readnoise = np.asarray(readnoise, dtype=np.float32)
    rate = diff / t
    var_rn = np.float32(2) * (readnoise / t) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        var_p = diff / (gain * t)
    var_p[var_p < 0] = 0.0
    err = np.sqrt(var_rn + var_p).astype(np.float32, copy=False)
    return rate.astype(np.float32, copy=False), err
