"""Imaging photometric calibration: DN/s -> MJy/sr with the PHOTMJSR of one PHOTOM row.

* the conversion is the row's ``photmjsr`` (float32, as stored), divided by the product of
  any time-dependence corrections (linear, exponential, power law tables that run parallel to
  the PHOTOM table) when that product is not 1 (the division is then in double precision);
* SCI and ERR are multiplied by it, VAR_POISSON/VAR_RNOISE/VAR_FLAT by its square
  (``inverse=True`` divides); the scalar types follow jwst 3.0 so the float32 results agree
  bit for bit;
* NaN and ``DO_NOT_USE`` are then made consistent across the arrays.

PHOTUJA2 is PHOTMJSR in uJy/arcsec^2.  Which row applies is declared by the instrument
plugin (:mod:`jwcore.refs.rows`).
"""

from __future__ import annotations

import numpy as np

from ..flat_field.flat_field import match_nans_and_flags

__all__ = ["MJSR_TO_UJA2", "A2_TO_SR", "linear_loss", "exponential_loss", "powerlaw_loss",
           "time_correction", "conversion_factor", "apply_conversion"]


def _mjsr_to_uja2() -> float:
    from astropy import units as u

    return (u.MJy / u.sr).to(u.uJy / u.arcsec**2)


MJSR_TO_UJA2: float = _mjsr_to_uja2()      # a Python float, as jwst's
A2_TO_SR = (np.pi / (180.0 * 3600.0)) ** 2


def linear_loss(midtime, t0, lossperyear):
    """Relative throughput ``1 - lossperyear * (t - t0) / 365`` (table columns as arrays)."""
    return 1.0 - lossperyear * (midtime - t0) / 365.0


def exponential_loss(midtime, t0, amplitude, tau, const):
    """Relative throughput ``amplitude * exp(-(t - t0) / tau) + const``."""
    return amplitude * np.exp(-(midtime - t0) / tau) + const


def powerlaw_loss(midtime, t0, year1value, tsoft, alpha):
    """Relative throughput ``(t - t0 + tsoft)**alpha / ((365 + tsoft)**alpha / year1value)``."""
    norm = ((365.0 + tsoft) ** alpha) / year1value
    return ((midtime - t0 + tsoft) ** alpha) / norm


_LAWS = {
    "timecoeff_linear": (linear_loss, ("t0", "lossperyear")),
    "timecoeff_exponential": (exponential_loss, ("t0", "amplitude", "tau", "const")),
    "timecoeff_powerlaw": (powerlaw_loss, ("t0", "year1value", "tsoft", "alpha")),
}


def time_correction(nrows: int, tables: dict, midtime) -> np.ndarray:
    """Per-row product of the time-dependence corrections (1.0 where there are none).

    ``tables``: ``{"timecoeff_linear": table, ...}`` (structured arrays with as many rows as
    the PHOTOM table; absent or ``None`` entries are skipped).  The columns are used with
    their stored dtype, as jwst does.
    """
    out = np.full(nrows, 1.0)
    for name, (law, cols) in _LAWS.items():
        table = tables.get(name)
        if table is None:
            continue
        if midtime is None:
            raise ValueError("the exposure has no EXPMID (meta.exposure.mid_time) for the time correction")
        names = {n.lower(): n for n in table.dtype.names}
        out *= law(midtime, *(np.asarray(table[names[c]]) for c in cols))
    return out


def conversion_factor(photmjsr, correction=1.0):
    """The scalar applied to the data: ``photmjsr`` (its own float type) / ``correction``.

    A correction of exactly 1 leaves ``photmjsr`` (float32 in a PHOTOM table) untouched.
    """
    if correction is not None and correction != 1.0:
        return photmjsr / correction
    return photmjsr


def apply_conversion(conversion, data, err, dq=None, var_poisson=None, var_rnoise=None,
                     var_flat=None, inverse=False) -> None:
    """Scale SCI/ERR by ``conversion`` and the variances by its square, in place.

    Variances that are ``None`` or empty are skipped.  Afterwards NaN and ``DO_NOT_USE`` agree.
    """
    square = conversion * conversion
    if not inverse:
        data *= conversion
        err *= conversion
    else:
        data /= conversion
        err /= conversion
    for var in (var_poisson, var_rnoise, var_flat):
        if var is not None and np.size(var) > 0:
            if not inverse:
                var *= square
            else:
                var /= square
    match_nans_and_flags(data, dq, err, var_rnoise, var_poisson, var_flat)
