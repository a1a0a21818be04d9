"""Expected count rates of a source spectrum through a filter's total throughput.

``rate = area / (h c) * integral(F_lambda(lambda) * T(lambda) * lambda d lambda)`` photons
(= electrons, when T includes the detector QE) per second; wavelengths in Angstrom,
F_lambda in erg s^-1 cm^-2 A^-1 and the collecting area in cm^2.  With ``engine="auto"``
synphot does the integration when it is installed; ``"numpy"`` integrates with the
trapezoid rule on the merged wavelength grid of spectrum and throughput.
"""

from __future__ import annotations

import numpy as np

HC_ERG_ANGSTROM = 6.62607015e-27 * 2.99792458e18     # h c in erg * Angstrom
JWST_AREA_CM2 = 25.4e4                                # nominal JWST collecting area (25.4 m^2)


def _check_coverage(wave, flux, tw, thr):
    if wave.size < 2 or tw.size < 2:
        raise ValueError("a spectrum and a throughput curve need at least two points each")
    if np.any(np.diff(wave) <= 0) or np.any(np.diff(tw) <= 0):
        raise ValueError("wavelengths must increase")
    band = tw[thr > 1e-3 * thr.max()] if thr.max() > 0 else tw
    if band.size and (band[0] < wave[0] or band[-1] > wave[-1]):
        raise ValueError(f"the spectrum ({wave[0]:.6g}-{wave[-1]:.6g} A) does not cover the bandpass "
                         f"({band[0]:.6g}-{band[-1]:.6g} A)")


def countrate_numpy(wave, flux, tw, thr, area: float = JWST_AREA_CM2) -> float:
    """Photons per second, by trapezoid integration on the merged grid."""
    wave, flux, tw, thr = (np.asarray(a, dtype=np.float64) for a in (wave, flux, tw, thr))
    _check_coverage(wave, flux, tw, thr)
    lo, hi = max(wave[0], tw[0]), min(wave[-1], tw[-1])
    grid = np.union1d(wave[(wave >= lo) & (wave <= hi)], tw[(tw >= lo) & (tw <= hi)])
    f = np.interp(grid, wave, flux)
    t = np.interp(grid, tw, thr, left=0.0, right=0.0)
    return float(area / HC_ERG_ANGSTROM * np.trapezoid(f * t * grid, grid))


def countrate_synphot(wave, flux, tw, thr, area: float = JWST_AREA_CM2) -> float:
    """Photons per second from synphot's ``Observation.countrate`` (synphot must be installed)."""
    import astropy.units as u
    from synphot import Observation, SourceSpectrum, SpectralElement, units
    from synphot.models import Empirical1D

    wave, flux, tw, thr = (np.asarray(a, dtype=np.float64) for a in (wave, flux, tw, thr))
    _check_coverage(wave, flux, tw, thr)
    sp = SourceSpectrum(Empirical1D, points=wave * u.AA, lookup_table=flux * units.FLAM, keep_neg=True)
    bp = SpectralElement(Empirical1D, points=tw * u.AA, lookup_table=thr)
    obs = Observation(sp, bp, force="taper")
    return float(obs.countrate(area=area * u.cm ** 2).value)


def synphot_available() -> bool:
    try:
        import synphot  # noqa: F401
    except ImportError:
        return False
    return True


def expected_countrate(wave, flux, tw, thr, *, area: float = JWST_AREA_CM2, engine: str = "auto") -> tuple[float, str]:
    """(photons per second, the engine used: "synphot" or "numpy")."""
    if engine not in ("auto", "numpy", "synphot"):
        raise ValueError("engine must be auto, numpy or synphot")
    if engine == "synphot" or (engine == "auto" and synphot_available()):
        return countrate_synphot(wave, flux, tw, thr, area), "synphot"
    return countrate_numpy(wave, flux, tw, thr, area), "numpy"
