"""Sky statistics of a set of pixel values: clipped mean, median, IRAF-style ``midpt`` and
``mode``, as jwst's skymatch computes them (the ``stsci.imagestats`` definitions).

1. The values are float32.  Starting from the range [lower, upper] (default: the data's min and
   max), ``nclip`` times: mean and standard deviation of the values inside the range, then the
   range becomes [max(lower, mean - lsig*std), min(upper, mean + usig*std)].  A last mean and
   std are computed over the final range (also its min and max).
2. ``mean``: that mean.  ``median``: the median of the values in the final range.
3. ``mode``/``midpt``: a histogram of *all* values from the final min with bins of
   ``binwidth * std`` (the number of bins from that width; the bin edges then spread evenly up
   to the max).  ``mode`` is the peak bin refined by a parabola through its neighbours;
   ``midpt`` is where the cumulative histogram crosses one half, interpolated in the bin.

The arithmetic follows the reference's float32/float64 choices so results agree to float32
rounding (sums in float64, mean and std rounded to float32, histogram indices in float32).
The returned value's type follows the reference too (a Python float, or a numpy float64 /
float32 scalar): subtracting it from a float32 image then rounds exactly as jwst does.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SkyStats", "sky_statistics", "STATISTICS"]

STATISTICS = ("mean", "median", "mode", "midpt")
_F32_EPS = np.float32(np.finfo(np.float32).eps)


def _clipped_moments(values, lo, hi):
    """(n, mean, std, min, max) of float32 ``values`` within [lo, hi] (float32 bounds)."""
    lo, hi = np.float32(lo), np.float32(hi)
    sel = values[(values >= lo) & (values <= hi)]
    n = sel.size
    if n == 0:
        return 0, 0.0, 0.0, lo, hi
    # the reference starts its running min/max from the first value clamped to the range, so
    # a first value below (above) the range reports the range limit as the min (max)
    vmin = lo if values[0] < lo else sel.min()
    vmax = hi if values[0] > hi else sel.max()
    mean = np.float32(np.sum(sel, dtype=np.float64) / n)
    d = sel - mean
    sumdiff = np.sum(np.multiply(d, d, dtype=np.float32), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.float32(np.sqrt(sumdiff / (n - 1)))
    return n, float(mean), float(std), vmin, vmax


def _histogram(values, nbins, width, vmin):
    """Counts of ``values`` in ``nbins`` bins of ``width`` from ``vmin`` (float32 arithmetic)."""
    width = np.float32(width)
    vmin = np.float32(vmin)
    vmax = np.float32(vmin + np.float32(width * np.float32(nbins)))
    f = np.float32(1.0) / width
    edge = np.float32(vmin + np.float32(width * np.float32(nbins)))
    allow_equal = int(f * np.float32(edge - vmin)) == nbins
    if allow_equal:
        edge = np.float32(edge * np.float32(1.0 - _F32_EPS))
    vmax = min(vmax, edge)
    inside = (values >= vmin) & ((values <= vmax) if allow_equal else (values < vmax))
    idx = (f * (values[inside] - vmin)).astype(np.int64)
    np.clip(idx, 0, nbins - 1, out=idx)
    return np.bincount(idx, minlength=nbins).astype(np.uint32)


def sky_statistics(values, statistic="mode", lower=None, upper=None, nclip=5, lsig=4.0, usig=4.0,
                   binwidth=0.1) -> tuple[float, int]:
    """(statistic, number of values used) of a 1-D set of pixel values.

    Raises ValueError when no value is usable (empty input, empty range).
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {', '.join(STATISTICS)}, not {statistic!r}")
    values = np.asarray(values, dtype=np.float32).ravel()
    if values.size == 0:
        raise ValueError("no pixels to compute statistics on")
    if nclip < 0 or lsig <= 0 or usig <= 0 or binwidth <= 0:
        raise ValueError("nclip must be >= 0 and lsig, usig, binwidth > 0")
    dmin, dmax = values.min(), values.max()
    if lower is None:
        lower = dmin
    elif lower > dmax:
        raise ValueError("lower limit above the largest value")
    if upper is None:
        upper = dmax
    elif upper < dmin:
        raise ValueError("upper limit below the smallest value")
    if lower is not None and upper is not None and lower > upper:
        raise ValueError("lower limit above the upper limit")
    lo, hi = lower, upper
    for it in range(nclip + 1):
        n, mean, std, vmin, vmax = _clipped_moments(values, lo, hi)
        if n <= 0:
            raise ValueError("no pixels inside the clipping range")
        if it < nclip:
            lo = max(lower, mean - lsig * std)
            hi = min(upper, mean + usig * std)
    if statistic == "mean":
        return mean, n
    if statistic == "median":
        sel = values[(values <= np.float32(hi)) & (values >= np.float32(lo))] if nclip > 0 else values
        return np.median(sel), n
    hwidth = binwidth * std
    drange = float(vmax) - float(vmin)
    tiny = 10.0 * float(_F32_EPS)
    if hwidth < tiny or abs(drange) < tiny or hwidth > drange:
        nbins, dz = 1, drange
    else:
        nbins = int(drange / hwidth) + 1
        dz = drange / float(nbins - 1)
    vmin = float(vmin)
    bins = _histogram(values, nbins, dz, vmin)
    if statistic == "mode":
        if nbins == 1:
            return vmin + 0.5 * hwidth, n
        if nbins == 2:
            if bins[0] > bins[1]:
                return vmin + 0.5 * hwidth, n
            if bins[0] < bins[1]:
                return vmin + 1.5 * hwidth, n
            return vmin + hwidth, n
        peak = int(np.argmax(bins))
        if peak == 0:
            return vmin + 0.5 * hwidth, n
        if peak == nbins - 1:
            return vmin + (nbins - 0.5) * hwidth, n
        dh1 = int(bins[peak]) - int(bins[peak - 1])
        dh2 = int(bins[peak]) - int(bins[peak + 1])
        denom = dh1 + dh2
        if denom == 0:
            return vmin + (peak + 0.5) * hwidth, n
        pos = peak + 1 + 0.5 * (dh1 - dh2) / np.uint32(denom)
        return vmin + (pos - 0.5) * hwidth, n
    # midpt
    if bins.size <= 1:
        return np.float64(bins[0]), n
    cum = np.cumsum(bins).astype(np.float32)
    cum = cum / cum[-1]
    lo_i = int(np.nonzero(cum >= 0.5)[0][0])
    h1 = np.float64(vmin + lo_i * hwidth)   # a float64, as the reference's (numpy int index)
    hdiff = cum[lo_i] if lo_i == 0 else cum[lo_i] - cum[lo_i - 1]
    if hdiff == 0:
        return h1, n
    if lo_i == 0:
        return h1 + 0.5 / hdiff * hwidth, n
    return h1 + (0.5 - cum[lo_i - 1]) / hdiff * hwidth, n


class SkyStats:
    """The statistic with fixed settings: ``SkyStats("mode", nclip=5)(values) -> (sky, npix)``."""

    def __init__(self, skystat="mode", lower=None, upper=None, nclip=5, lsig=4.0, usig=4.0, binwidth=0.1):
        if skystat not in STATISTICS:
            raise ValueError(f"skystat must be one of {', '.join(STATISTICS)}, not {skystat!r}")
        self.skystat = skystat
        self.kw = dict(lower=lower, upper=upper, nclip=nclip, lsig=lsig, usig=usig, binwidth=binwidth)

    def __call__(self, values):
        return sky_statistics(values, self.skystat, **self.kw)
