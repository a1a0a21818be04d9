"""FITS views of an imaging gwcs: the TAN-SIP approximation and the ``S_REGION`` footprint.

DS9 and other FITS tools cannot read a gwcs, so the SCI header also carries a FITS WCS fitted
to it (``gwcs.WCS.to_fits_sip``: CRPIX/CRVAL/CD and, when a polynomial is needed, the SIP
``A_p_q``/``B_p_q`` forward and ``AP_p_q``/``BP_p_q`` inverse coefficients), and the sky
polygon of the detector's bounding box as ``S_REGION``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_SIP_DEGREE", "sip_keywords", "apply_sip_keywords", "s_region"]

# Degrees tried when the caller lets the accuracy decide: 1..5 (as jwst 3.0).
MAX_SIP_DEGREE = 6

# wcsinfo entries a new fit replaces (the old linear terms and any earlier SIP terms).
_STALE = ("naxis", "cdelt1", "cdelt2", "pc1_1", "pc1_2", "pc2_1", "pc2_2",
          "a_order", "b_order", "ap_order", "bp_order")


def sip_keywords(wcs, *, crpix=None, max_pix_error=0.01, degree=None, max_inv_pix_error=0.01,
                 inv_degree=None, npoints=12, projection="TAN", bounding_box=None) -> dict:
    """FITS TAN-SIP keywords approximating ``wcs`` (lower-case names, no NAXISn).

    ``crpix``: 1-based reference pixel (``None``: near the centre of the bounding box).
    ``degree``/``inv_degree``: ``None`` tries 1..5 and keeps the lowest degree meeting
    ``max_pix_error``/``max_inv_pix_error`` (pixels); an int forces it.  Raises ValueError or
    RuntimeError (from gwcs) when the accuracy cannot be met.
    """
    if crpix is not None and None in crpix:
        crpix = None
    if degree is None:
        degree = range(1, MAX_SIP_DEGREE)
    if inv_degree is None:
        inv_degree = range(1, MAX_SIP_DEGREE)
    header = wcs.to_fits_sip(bounding_box=bounding_box, max_pix_error=max_pix_error, degree=degree,
                             max_inv_pix_error=max_inv_pix_error, inv_degree=inv_degree,
                             npoints=npoints, crpix=crpix, projection=projection)
    return {k.lower(): v for k, v in header.items() if not k.upper().startswith("NAXIS")}


def apply_sip_keywords(wcsinfo: dict, keywords: dict) -> None:
    """Replace the FITS WCS of a ``meta.wcsinfo`` dict by ``keywords`` (in place)."""
    for key in list(wcsinfo):
        k = key.lower()
        if k in _STALE or _is_sip_term(k):
            del wcsinfo[key]
    wcsinfo.update(keywords)


def _is_sip_term(key: str) -> bool:
    prefix, _, rest = key.partition("_")
    if prefix not in ("a", "b", "ap", "bp"):
        return False
    parts = rest.split("_")
    return len(parts) == 2 and all(p.isdigit() for p in parts)


def s_region(wcs, shape=None) -> str | None:
    """``POLYGON ICRS  ra1 dec1 ... ra4 dec4`` of the WCS bounding-box corners (pixel edges).

    ``shape`` gives the box when the WCS has none.  ``None`` if a corner has no sky position.
    """
    bbox = wcs.bounding_box
    if bbox is None:
        if shape is None:
            raise ValueError("the WCS has no bounding box; give the data shape")
        bbox = ((-0.5, shape[-1] - 0.5), (-0.5, shape[-2] - 0.5))
        wcs.bounding_box = bbox
    corners = np.asarray(wcs.footprint(bbox, center=False, axis_type="spatial"), dtype=float)
    corners = corners[:, :2].copy()
    corners[:, 0] = np.mod(corners[:, 0], 360)
    if not np.all(np.isfinite(corners)):
        return None
    return "POLYGON ICRS  " + " ".join(f"{v:.9f}" for v in corners.ravel())
