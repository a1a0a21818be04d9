"""source_catalog: segmentation, deblending, aperture and isophotal photometry, AB/Vega
magnitudes and sky positions of the sources of a drizzled image (jwst 3.0's columns)."""

from .catalog import aperture_params, build_catalog, flux_to_abmag

__all__ = ["aperture_params", "build_catalog", "flux_to_abmag"]
