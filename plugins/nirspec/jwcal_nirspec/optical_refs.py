"""Reading NIRSpec's optical-model references (ASDF): fpa, camera, collimator, fore, ote,
disperser and wavelengthrange.

Each transform file keeps an astropy model (with its fitted inverse) under ``model``; the
``fpa`` file keeps one model per detector (``nrs1_model``, ``nrs2_model``); ``disperser``
keeps the GWA angles and tilt-sensor calibration; ``wavelengthrange`` lists, per
``FILTER_GRATING`` configuration, the spectral order and wavelength range (m).
"""

from __future__ import annotations

import logging

import numpy as np

from jwcore.errors import ReferenceFileError
from jwcore.wcs.reffiles import open_reference_tree

log = logging.getLogger("jwcal.nirspec")

__all__ = ["load_transform", "load_fpa", "load_disperser", "spectral_order_range", "FULL_RANGE"]

# NIRSpec's whole spectral range (m): used when a configuration is in no wavelengthrange row.
FULL_RANGE = (0.6e-6, 5.3e-6)


def _model(tree: dict, key: str, path, reftype: str, n_in: int, n_out: int):
    model = tree.get(key)
    if model is None or not hasattr(model, "n_inputs"):
        raise ReferenceFileError(f"{path}: no '{key}' transform in this {reftype} reference")
    if (model.n_inputs, model.n_outputs) != (n_in, n_out):
        raise ReferenceFileError(f"{path}: the {reftype} '{key}' maps {model.n_inputs} -> {model.n_outputs} "
                                 f"coordinates, expected {n_in} -> {n_out}")
    return model


def load_transform(path, reftype: str):
    """The ``model`` of a camera/collimator/ote (2 -> 2) or fore (3 -> 2) reference."""
    n_in = 3 if reftype == "fore" else 2
    return _model(open_reference_tree(path, reftype), "model", path, reftype, n_in, 2)


def load_fpa(path, detector: str):
    """The FPA model of ``detector`` (1-based SCA pixel -> FPA position, m)."""
    return _model(open_reference_tree(path, "fpa"), f"{detector.lower()}_model", path, "fpa", 2, 2)


_DISPERSER_KEYS = ("theta_x", "theta_y", "theta_z", "tilt_y", "gwa_tiltx", "gwa_tilty")


def load_disperser(path) -> dict:
    """The GWA angles (deg) and tilt calibrations of a ``disperser`` reference."""
    tree = open_reference_tree(path, "disperser")
    missing = [k for k in _DISPERSER_KEYS if k not in tree]
    if missing:
        raise ReferenceFileError(f"{path}: disperser reference lacks {', '.join(missing)}")
    for k in _DISPERSER_KEYS[:4]:
        if not _is_number(tree[k]):
            raise ReferenceFileError(f"{path}: disperser angle {k} is {tree[k]!r}, not a number")
    for k in _DISPERSER_KEYS[4:]:
        tilt = tree[k]
        if not isinstance(tilt, dict) or not hasattr(tilt.get("tilt_model"), "n_inputs"):
            raise ReferenceFileError(f"{path}: disperser {k} has no 'tilt_model' transform")
        zero = tilt.get("zeroreadings")
        if np.ndim(zero) != 1 or len(zero) == 0 or not _is_number(zero[0]):
            raise ReferenceFileError(f"{path}: disperser {k} has no numeric 'zeroreadings'")
    return {k: tree[k] for k in tree if k not in ("meta", "asdf_library", "history")}


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (str, bytes, bool))


def spectral_order_range(path, *, filter_name, grating, lamp=None, use_lamp=False):
    """``(order, (lo, hi))`` of the ``FILTER_GRATING`` (or ``LAMP_GRATING``) configuration.

    A configuration missing from the file falls back to the first row with the same grating,
    then to order -1 over :data:`FULL_RANGE` (as jwst does), and says so in the log.
    """
    tree = open_reference_tree(path, "wavelengthrange")
    try:
        selectors = list(tree["waverange_selector"])
        orders = list(tree["order"])
        ranges = list(tree["wavelengthrange"])
    except KeyError as exc:
        raise ReferenceFileError(f"{path}: wavelengthrange reference lacks {exc}") from None
    except TypeError:
        raise ReferenceFileError(f"{path}: wavelengthrange waverange_selector, order and wavelengthrange "
                                 "must be lists") from None
    if not len(selectors) == len(orders) == len(ranges):
        raise ReferenceFileError(f"{path}: wavelengthrange lists differ in length (waverange_selector "
                                 f"{len(selectors)}, order {len(orders)}, wavelengthrange {len(ranges)})")
    for sel, order, wrange in zip(selectors, orders, ranges):
        if (not isinstance(sel, str) or not _is_number(order) or np.shape(wrange) != (2,)
                or not all(_is_number(v) for v in wrange)):
            raise ReferenceFileError(f"{path}: wavelengthrange row {sel!r} is not a name, an order and a "
                                     "(low, high) wavelength pair")
    key = f"{lamp if use_lamp else filter_name}_{grating}"
    if key in selectors:
        i = selectors.index(key)
        return int(orders[i]), tuple(float(v) for v in ranges[i])
    gratings = [s.split("_", 1)[1] if "_" in s else s for s in selectors]
    if grating in gratings:
        i = gratings.index(grating)
        order, wrange = int(orders[i]), tuple(float(v) for v in ranges[i])
    else:
        order, wrange = -1, FULL_RANGE
    log.info("Combination %s missing in wavelengthrange file, setting order to %s and range to %s",
             key, order, list(wrange))
    return order, wrange
