"""NIRCam destriping of 1/f noise on rate/cal images (pure functions on arrays).

NIRCam's four outputs each read 512 columns of a row at the same time (alternate outputs in
opposite directions), so 1/f noise of the readout appears as horizontal stripes whose level
changes from row to row and, more weakly, from output to output and along a row.

* ``median``: per row and per amplifier, the masked median of the row segment (sources
  masked) is the stripe level; then, optionally, per column (vertical stripes).
* ``pca``: each row segment (put in read order) is a sample; a robust PCA with missing data
  (:func:`jwcore.destripe.robust_pca`) finds the few shapes the noise takes along a segment
  (a constant, slopes, ...), and each segment is fitted with them using only its unmasked
  pixels - this follows the noise within a row, not only its mean.

:func:`destripe` runs either method with the source masking around it.
"""

from .layout import amplifier_labels, read_order
from .methods import DESTRIPE_METHODS, destripe, median_model, pca_model

__all__ = ["amplifier_labels", "read_order", "DESTRIPE_METHODS", "destripe", "median_model", "pca_model"]
