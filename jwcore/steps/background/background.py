"""Image-from-image background subtraction (non-WFSS modes), as jwst 3.0 documents it.

The average background of N background exposures:

* each background is cut to the window it shares with the target (subarray corners); pixels
  it does not cover are NaN (a background that does not overlap at all is all NaN);
* per-integration backgrounds (3-D) are first sigma-clipped along the integrations (SCI and
  ERR**2 separately) and averaged; their DQ is OR-ed over the integrations;
* the N SCI images are sigma-clipped pixel by pixel (astropy ``sigma_clip``, median centre,
  standard deviation) and the unclipped values averaged;
* ERR is ``sqrt(sum of unclipped ERR**2) / n_unclipped`` (the uncertainty of the mean);
* DQ is the bitwise OR of the backgrounds' DQ.

The target's SCI has the average subtracted and its DQ OR-ed with the average's; its ERR is
unchanged (the manual: "until full error propagation is implemented").

Quirk kept for parity: jwst puts the overlapping cut-out at the *start* of the target's pixel
grid, not at its offset; the two agree when target and backgrounds share a subarray.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["Window", "window_from_meta", "Background", "overlap_cutout", "average_background",
           "subtract_background"]


@dataclass(frozen=True)
class Window:
    """A subarray's place on the detector, 0-based, end-exclusive (rows j, columns i)."""

    jmin: int
    jmax: int
    imin: int
    imax: int

    def overlaps(self, other: "Window") -> bool:
        return not (self.imax <= other.imin or other.imax <= self.imin
                    or self.jmax <= other.jmin or other.jmax <= self.jmin)


def window_from_meta(meta, shape) -> Window:
    """The :class:`Window` of an exposure from SUBSTRT1/2 and SUBSIZE1/2.

    Missing keywords count as a full array at pixel (1, 1) (jwst accepts that only for
    full-frame arrays).
    """
    xs = meta.get("subarray.xstart") or 1
    ys = meta.get("subarray.ystart") or 1
    nx = meta.get("subarray.xsize") or shape[-1]
    ny = meta.get("subarray.ysize") or shape[-2]
    return Window(jmin=ys - 1, jmax=ys - 1 + ny, imin=xs - 1, imax=xs - 1 + nx)


@dataclass
class Background:
    """One background exposure: SCI, ERR, DQ and its :class:`Window`."""

    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    window: Window


def overlap_cutout(target: Window, target_shape, bkg: Background):
    """The background's SCI, ERR, DQ on the target's grid (NaN/0 where not covered)."""
    imin, imax = max(target.imin, bkg.window.imin), min(target.imax, bkg.window.imax)
    jmin, jmax = max(target.jmin, bkg.window.jmin), min(target.jmax, bkg.window.jmax)
    imax, jmax = max(imax, imin), max(jmax, jmin)
    shape = list(target_shape)
    if len(shape) == 3:
        shape[0] = bkg.data.shape[0]
    data = np.full(shape, np.nan, dtype=bkg.data.dtype)
    err = np.full(shape, np.nan, dtype=bkg.data.dtype)
    dq = np.zeros(shape, dtype=np.uint32)
    rows = slice(jmin - bkg.window.jmin, jmax - bkg.window.jmin)
    cols = slice(imin - bkg.window.imin, imax - bkg.window.imin)
    d, e, q = bkg.data[..., rows, cols], bkg.err[..., rows, cols], bkg.dq[..., rows, cols]
    h, w = d.shape[-2], d.shape[-1]
    data[..., :h, :w] = d
    err[..., :h, :w] = e
    dq[..., :h, :w] = q
    return data, err, dq


def _clip(values, sigma, maxiters):
    from astropy.stats import sigma_clip
    from astropy.utils.exceptions import AstropyUserWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=AstropyUserWarning, message=".*automatically clipped.*")
        return sigma_clip(values, sigma=sigma, maxiters=maxiters, axis=0)


def average_background(target: Window, target_shape, backgrounds, sigma=3.0, maxiters=None):
    """``(data float32, err float32, dq uint32)`` of the clipped mean background (2-D).

    ``target_shape``: the target's data shape; with 3 axes the backgrounds are taken as
    per-integration cubes.  ``backgrounds``: a sequence of :class:`Background`.
    """
    image_shape = tuple(target_shape[-2:])
    cube = len(target_shape) == 3
    n = len(backgrounds)
    cdata = np.zeros((n,) + image_shape)
    cerr = np.zeros((n,) + image_shape)
    out_dq = np.zeros(image_shape, dtype=np.uint32)
    int_dq = np.zeros(image_shape, dtype=np.uint32)
    for i, bkg in enumerate(backgrounds):
        if not bkg.window.overlaps(target):
            cdata[i] = np.nan
            cerr[i] = np.nan
            continue
        data, err, dq = overlap_cutout(target, target_shape, bkg)
        if not cube:
            cdata[i] = data
            cerr[i] = err * err
            out_dq |= dq
        else:
            cdata[i] = _clip(data, sigma, maxiters).mean(axis=0)
            cerr[i] = _clip(err * err, sigma, maxiters).mean(axis=0)
            int_dq |= np.bitwise_or.reduce(dq, axis=0)
            out_dq |= int_dq
    clipped = _clip(cdata, sigma, maxiters)
    mean = clipped.mean(axis=0).data
    kept_err2 = np.ma.masked_array(cerr, mask=clipped.mask)
    err = (np.sqrt(kept_err2.sum(axis=0)) / (n - kept_err2.mask.sum(axis=0))).data
    return mean.astype(np.float32), err.astype(np.float32), out_dq


def subtract_background(data, dq, bkg_data, bkg_dq) -> None:
    """``data -= background`` and ``dq |= background DQ``, in place (cubes per integration)."""
    data -= bkg_data
    dq |= bkg_dq
