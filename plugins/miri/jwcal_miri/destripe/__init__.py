"""MIRI imager destriping (pure functions on arrays).

MIRI images show horizontal and vertical stripes and a four-column pattern from the four
outputs that read interleaved columns.  Both are estimated on the source-masked image:

* ``median``: the masked median of each row (horizontal stripes), then of each column of the
  remainder (vertical stripes and the interleaved-output pattern);
* ``pca``: rows are samples of a robust, gappy PCA (:func:`jwcore.destripe.robust_pca`), so
  stripes that change along a row (brighter at one end) are followed; then column medians.

MIRI fields are often filled by extended emission: ``filter_scale`` keeps structure larger
than that many rows/columns (stripes are narrower), and ``mask_box`` removes a block
background before sources are masked.
"""

from .methods import DESTRIPE_METHODS, destripe

__all__ = ["DESTRIPE_METHODS", "destripe"]
