"""Robust, gappy principal component analysis of a set of vectors.

Samples are rows of ``X`` (n_samples, n_features) with per-element weights ``W`` (0: missing,
e.g. a masked source pixel).  The basis is found by expectation-maximisation: gaps are filled
with the current reconstruction, the leading eigenvectors of the (sample-weighted) scatter
matrix give the basis, and each sample is refitted by weighted least squares over its own
usable elements.  Robustness comes from reweighting: elements whose residual exceeds
``clip`` sigma are dropped, and samples are down-weighted by a Cauchy function of their
residual rms (as the robust PCA of Budavari et al. 2009 weights its samples), so that a few
odd samples do not define the components.  The analysis is not centred (no mean vector): for
stripes, the first component is close to a constant (the row offset).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh

__all__ = ["pca_reconstruct", "robust_pca"]


def pca_reconstruct(X: np.ndarray, W: np.ndarray, basis: np.ndarray, ridge: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Fit each sample (row of ``X``) with ``basis`` (k, n_features) using only elements with
    ``W > 0`` (weighted least squares, a small ``ridge`` keeps nearly empty samples at ~0).

    Returns ``(coefficients (n, k), reconstruction (n, n_features))``.
    """
    X = np.asarray(X, np.float32)
    W = np.asarray(W, np.float32)
    B = np.asarray(basis, np.float32)
    k = B.shape[0]
    # G[s] = B diag(W[s]) B^T for every sample at once, as one matrix product
    pairs = (B[:, None, :] * B[None, :, :]).reshape(k * k, -1)
    G = (W @ pairs.T).reshape(-1, k, k)
    r = (W * np.where(W > 0, X, 0.0)) @ B.T
    scale = np.maximum(np.einsum("skk->s", G) / max(k, 1), 1e-12)
    G = G + (ridge * scale)[:, None, None] * np.eye(k, dtype=np.float32)
    coeffs = np.linalg.solve(G.astype(np.float64), r[..., None].astype(np.float64))[..., 0].astype(np.float32)
    return coeffs, coeffs @ B


def robust_pca(X: np.ndarray, W: np.ndarray | None = None, n_components: int = 4, *, n_iter: int = 6,
               clip: float = 4.0, cauchy: float = 3.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Robust principal components of the rows of ``X``.

    ``W``: element weights (``None``: 1 where finite).  Returns ``(basis (k, n_features),
    coefficients (n_samples, k), reconstruction (n_samples, n_features))``; the basis rows are
    orthonormal and ordered by decreasing variance.
    """
    X = np.asarray(X, np.float32)
    n, m = X.shape
    k = int(min(n_components, n, m))
    if k < 1:
        raise ValueError("n_components must be at least 1")
    W0 = np.isfinite(X).astype(np.float32) if W is None else (np.asarray(W, np.float32) * np.isfinite(X))
    Xz = np.where(W0 > 0, X, 0.0).astype(np.float32)
    Wc = W0.copy()
    filled = Xz.copy()
    sample_w = np.ones(n, np.float32)
    basis = None
    for _ in range(max(1, n_iter)):
        scatter = (filled * sample_w[:, None]).T @ filled
        # only the k leading eigenvectors (a full eigh costs far more, above all when BLAS
        # threads compete for busy cores)
        _, evecs = eigh(scatter.astype(np.float64), subset_by_index=[m - k, m - 1])
        basis = evecs[:, ::-1].T.astype(np.float32)
        coeffs, recon = pca_reconstruct(Xz, Wc, basis)
        resid = Xz - recon
        absres = np.abs(resid)
        used = absres[Wc > 0]
        if used.size == 0:
            break
        if used.size > 250_000:          # the median of a regular subsample is as good
            used = used[:: -(-used.size // 250_000)]
        sigma = 1.4826 * float(np.median(used))
        if not sigma > 0:
            break
        Wc = W0 * (absres <= clip * sigma)
        keep = Wc > 0
        nkeep = keep.sum(axis=1)
        rms = np.sqrt(np.where(keep, resid * resid, 0.0).sum(axis=1) / np.maximum(nkeep, 1))
        typical = float(np.median(rms[nkeep > 0])) if (nkeep > 0).any() else 1.0
        sample_w = (1.0 / (1.0 + (rms / (cauchy * max(typical, 1e-12))) ** 2)).astype(np.float32)
        filled = np.where(keep, Xz, recon).astype(np.float32)
    coeffs, recon = pca_reconstruct(Xz, Wc, basis)
    return basis, coeffs, recon
