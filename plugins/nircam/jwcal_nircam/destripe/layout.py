"""Which amplifier (output) owns each column of a NIRCam image, and its read direction."""

from __future__ import annotations

import numpy as np

FULL_WIDTH = 2048
AMP_WIDTH = 512

__all__ = ["amplifier_labels", "read_order"]


def amplifier_labels(nx: int, xstart: int | None = 1, noutputs: int | None = None) -> np.ndarray:
    """Output index (0..3) of each of the ``nx`` columns of an image starting at 1-based
    full-frame column ``xstart``; one output (all 0) when the exposure was read with a single
    output (``noutputs == 1``, most subarrays).  ``noutputs=None`` guesses from the width
    (four outputs only for full-width images)."""
    x0 = int(xstart or 1) - 1
    if noutputs is None:
        noutputs = 4 if nx >= FULL_WIDTH else 1
    if int(noutputs) < 4:
        return np.zeros(nx, np.intp)
    cols = x0 + np.arange(nx)
    return np.clip(cols // AMP_WIDTH, 0, 3).astype(np.intp)


def read_order(labels: np.ndarray) -> list[np.ndarray]:
    """Column indices of each amplifier in read (time) order: outputs alternate direction,
    so every second one is reversed.  One array per distinct label, in label order."""
    out = []
    for k, g in enumerate(np.unique(labels)):
        cols = np.flatnonzero(labels == g)
        out.append(cols[::-1] if g % 2 else cols)
    return out
