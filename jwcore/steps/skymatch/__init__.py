"""Sky background matching (``skymatch`` step): sky statistics, footprint overlaps and the
least-squares sky differences between overlapping exposures."""
