"""The NIRCam destriping methods: per-amplifier row medians and a robust PCA of row segments."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from jwcore.destripe import robust_pca, source_mask, stripe_profile

from .layout import read_order

DESTRIPE_METHODS = ("median", "pca")

__all__ = ["DESTRIPE_METHODS", "median_model", "pca_model", "destripe"]


def median_model(data: np.ndarray, mask: np.ndarray, labels: np.ndarray, *, per_amplifier: bool = True,
                 columns: bool = True, filter_scale: int = 0, min_pixels: int = 8, threads: int = 1) -> np.ndarray:
    """Stripe model from masked medians: each row segment of an amplifier (``labels``: the
    amplifier of each column), then, with ``columns``, each column of what is left.

    ``mask``: True for pixels to ignore.  ``filter_scale`` > 0 keeps structure larger than
    that many rows/columns (see :func:`jwcore.destripe.stripe_profile`).
    """
    groups = labels if per_amplifier else None
    model = stripe_profile(data, mask, along="rows", groups=groups, filter_scale=filter_scale,
                           min_pixels=min_pixels, threads=threads)
    if columns:
        model += stripe_profile(data - model, mask, along="columns", filter_scale=filter_scale,
                                min_pixels=min_pixels, threads=threads)
    return model


def _segments(data, mask, labels):
    """Row segments of each amplifier in read order, stacked as samples (padded with gaps)."""
    orders = read_order(labels)
    width = max(o.size for o in orders)
    ny = data.shape[0]
    X = np.zeros((len(orders), ny, width), np.float32)
    W = np.zeros((len(orders), ny, width), np.float32)
    for k, cols in enumerate(orders):
        X[k, :, :cols.size] = data[:, cols]
        W[k, :, :cols.size] = ~mask[:, cols]
    return orders, X.reshape(-1, width), W.reshape(-1, width)


def pca_model(data: np.ndarray, mask: np.ndarray, labels: np.ndarray, *, n_components: int = 4,
              columns: bool = True, filter_scale: int = 0, n_iter: int = 6, min_pixels: int = 8,
              threads: int = 1) -> np.ndarray:
    """Stripe model from a robust PCA of the amplifiers' row segments (in read order).

    The image is first levelled by its masked median; each segment is then fitted with the
    ``n_components`` leading components using its unmasked pixels only.  With ``columns`` a
    masked column median of the remainder is added; ``filter_scale`` > 0 removes from the
    model its running median over that many rows (keeping larger-scale emission).
    """
    data = np.asarray(data, np.float32)
    mask = np.asarray(mask, bool) | ~np.isfinite(data)
    good = data[~mask]
    level = float(np.median(good)) if good.size else 0.0
    orders, X, W = _segments(np.where(mask, 0.0, data - level), mask, labels)
    _, _, recon = robust_pca(X, W, n_components, n_iter=n_iter)
    ny = data.shape[0]
    recon = recon.reshape(len(orders), ny, -1)
    model = np.zeros(data.shape, np.float32)
    for k, cols in enumerate(orders):
        model[:, cols] = recon[k, :, :cols.size]
    if filter_scale and filter_scale > 1:
        model -= ndimage.median_filter(model, size=(int(filter_scale), 1), mode="nearest")
    if columns:
        model += stripe_profile(data - model, mask, along="columns", filter_scale=filter_scale,
                                min_pixels=min_pixels, threads=threads)
    return model


def destripe(data: np.ndarray, valid: np.ndarray | None = None, labels: np.ndarray | None = None, *,
             method: str = "median", nsigma: float = 3.0, dilate: int = 2, mask_box: int = 0,
             per_amplifier: bool = True, columns: bool = True, filter_scale: int = 0,
             n_components: int = 4, min_pixels: int = 8, threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove 1/f stripes from a 2-D NIRCam image.

    ``valid``: pixels that may be used to measure stripes (``None``: the finite ones);
    ``labels``: amplifier of each column (``None``: one amplifier).  Plain (unmasked) medians
    give a first stripe model; sources are then found with :func:`jwcore.destripe.source_mask`
    (``nsigma``, ``dilate``, ``mask_box``) on the image without it, so stripes neither hide
    nor fake sources, and the chosen method runs with that mask.

    Returns ``(cleaned, model, mask)``: ``cleaned = data - model`` (float32) and the source
    mask used (True = left out).  ``threads``: threads for the median sorts.
    """
    if method not in DESTRIPE_METHODS:
        raise ValueError(f"method must be one of {', '.join(DESTRIPE_METHODS)}, not {method!r}")
    data = np.asarray(data, np.float32)
    if data.ndim != 2:
        raise ValueError("destripe works on a 2-D image")
    ok = np.isfinite(data) if valid is None else (np.asarray(valid, bool) & np.isfinite(data))
    labels = np.zeros(data.shape[1], np.intp) if labels is None else np.asarray(labels, np.intp)
    common = dict(columns=columns, filter_scale=filter_scale, min_pixels=min_pixels, threads=threads)
    # plain medians first (robust enough to find the sources), so that a stripe cannot pass
    # for extended emission in the mask
    first = median_model(data, ~ok, labels, per_amplifier=per_amplifier, **common)
    mask = ~ok | source_mask(data - first, ok, nsigma=nsigma, dilate=dilate, box=mask_box)
    if method == "median":
        model = median_model(data, mask, labels, per_amplifier=per_amplifier, **common)
    else:
        model = pca_model(data, mask, labels, n_components=n_components, **common)
    return (data - model).astype(np.float32), model, mask
