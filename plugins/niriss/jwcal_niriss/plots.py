"""PNG plots for the commissioning analyses (matplotlib, optional: ``jwcal-niriss[plots]``).

matplotlib is imported only when a plot is made, and without pyplot (no global backend is
chosen).  Without matplotlib each function logs one line and returns None.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger("jwcal.niriss")


def _figure(figsize=(6.4, 4.8)):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        log.info("matplotlib is not installed: no plot written (pip install 'jwcal-niriss[plots]')")
        return None
    return Figure(figsize=figsize, layout="constrained")


def _save(fig, path) -> Path:
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    log.info("plot written: %s", path)
    return path


def plot_profiles(tables, path, *, column="ee", labels=None, title="", ylabel="", logy=False):
    """``column`` against radius for each table (the last one drawn thicker when several)."""
    fig = _figure()
    if fig is None:
        return None
    ax = fig.add_subplot()
    labels = labels or [str(t.meta.get("file", "")) for t in tables]
    err = f"{column}_err"
    for i, (t, lab) in enumerate(zip(tables, labels)):
        r = np.asarray(t["radius"], float)
        v = np.asarray(t[column], float)
        e = np.asarray(t[err], float) if err in t.colnames else None
        last = len(tables) > 1 and i == len(tables) - 1
        ax.errorbar(r, v, yerr=e, marker="o", ms=3, lw=1.5 if last else 1.0, ls="--" if last else "-",
                    color="k" if last else None, mfc="none" if last else None, label=lab, capsize=2)
    if logy:
        v = np.concatenate([np.asarray(t[column], float) for t in tables])
        if np.any(v > 0):
            ax.set_yscale("log")
    ax.set_xlabel("radius (pixels)")
    ax.set_ylabel(ylabel or column)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(tables) > 1 or any(labels):
        ax.legend(fontsize="small")
    return _save(fig, path)


def plot_offsets(result, path, *, title=""):
    """dx against dy of the matched sources, clipped ones marked, the clipped mean as a cross."""
    fig = _figure(figsize=(5.6, 5.2))
    if fig is None:
        return None
    ax = fig.add_subplot()
    used = result.keep_x & result.keep_y
    ax.scatter(result.dx[used], result.dy[used], s=12, label=f"used ({used.sum()})")
    if (~used).any():
        ax.scatter(result.dx[~used], result.dy[~used], s=16, marker="x", color="0.5",
                   label=f"clipped ({(~used).sum()})")
    mx, my = result.x.mean, result.y.mean
    ax.errorbar([mx], [my], xerr=[result.x.std], yerr=[result.y.std], color="r", marker="+", ms=14, capsize=3,
                label=f"mean ({mx:+.4f}, {my:+.4f}) px")
    ax.set_xlabel("dx (pixels)")
    ax.set_ylabel("dy (pixels)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)
