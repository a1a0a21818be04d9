"""Outlier detection for imaging (``outlier_detection`` step): resampled median on disk,
blot, and the jwst flagging rule."""
