"""MIRI destriping: masked row/column medians, or a robust PCA of rows plus column medians."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from jwcore.destripe import robust_pca, source_mask, stripe_profile

DESTRIPE_METHODS = ("median", "pca")

__all__ = ["DESTRIPE_METHODS", "destripe", "stripe_model"]


def stripe_model(data: np.ndarray, mask: np.ndarray, *, method: str = "median", rows: bool = True,
                 columns: bool = True, filter_scale: int = 0, n_components: int = 4, min_pixels: int = 8,
                 threads: int = 1) -> np.ndarray:
    """The stripe model of one image (``mask``: True = ignore), to subtract from it."""
    data = np.asarray(data, np.float32)
    mask = np.asarray(mask, bool) | ~np.isfinite(data)
    model = np.zeros(data.shape, np.float32)
    if rows and method == "median":
        model += stripe_profile(data, mask, along="rows", filter_scale=filter_scale, min_pixels=min_pixels,
                                threads=threads)
    elif rows:
        good = data[~mask]
        level = float(np.median(good)) if good.size else 0.0
        X = np.where(mask, 0.0, data - level).astype(np.float32)
        _, _, recon = robust_pca(X, (~mask).astype(np.float32), n_components)
        if filter_scale and filter_scale > 1:
            recon -= ndimage.median_filter(recon, size=(int(filter_scale), 1), mode="nearest")
        model += recon
    if columns:
        model += stripe_profile(data - model, mask, along="columns", filter_scale=filter_scale,
                                min_pixels=min_pixels, threads=threads)
    return model


def destripe(data: np.ndarray, valid: np.ndarray | None = None, *, method: str = "median",
             nsigma: float = 3.0, dilate: int = 2, mask_box: int = 0, rows: bool = True, columns: bool = True,
             filter_scale: int = 0, n_components: int = 4, min_pixels: int = 8,
             threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove row and column stripes from a 2-D MIRI image.

    ``valid``: pixels usable for the estimates (``None``: finite ones; reference columns and
    NON_SCIENCE areas should be left out by the caller).  Sources are masked on the image
    without a first, plain-median stripe model.  Returns ``(cleaned, model, mask)``.
    """
    if method not in DESTRIPE_METHODS:
        raise ValueError(f"method must be one of {', '.join(DESTRIPE_METHODS)}, not {method!r}")
    data = np.asarray(data, np.float32)
    if data.ndim != 2:
        raise ValueError("destripe works on a 2-D image")
    ok = np.isfinite(data) if valid is None else (np.asarray(valid, bool) & np.isfinite(data))
    opts = dict(rows=rows, columns=columns, filter_scale=filter_scale, min_pixels=min_pixels, threads=threads)
    first = stripe_model(data, ~ok, method="median", **opts)   # plain medians find the sources
    mask = ~ok | source_mask(data - first, ok, nsigma=nsigma, dilate=dilate, box=mask_box)
    model = stripe_model(data, mask, method=method, n_components=n_components, **opts)
    return (data - model).astype(np.float32), model, mask
