"""Instrument-blind pieces of destriping (the NIRCam and MIRI plugins build on them).

Pure functions on numpy arrays: no I/O, no logging set-up.

* :func:`source_mask` - pixels of sources (and outliers) to leave out of stripe estimates;
* :func:`nanmedian_along` - a vectorised NaN-aware median along one axis;
* :func:`stripe_profile` - masked median profile of an image along rows or columns, optionally
  per group of columns/rows (amplifiers), high-pass filtered to keep large-scale emission;
* :func:`robust_pca` - gappy, outlier-resistant principal components (iteratively reweighted,
  in the spirit of Budavari et al. 2009, MNRAS 394, 1496 and Wild & Hewett 2005, MNRAS 358, 1083)
  and :func:`pca_reconstruct` - the per-sample fit with missing data.
"""

from .masking import robust_level, source_mask
from .profiles import nanmedian_along, stripe_profile
from .robust_pca import pca_reconstruct, robust_pca

__all__ = ["robust_level", "source_mask", "nanmedian_along", "stripe_profile", "robust_pca", "pca_reconstruct"]
