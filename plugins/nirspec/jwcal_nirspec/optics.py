"""NIRSpec optical-model building blocks as plain astropy models (pure: numbers in, models out).

NIRSpec's WCS follows light through the spectrograph: detector -> FPA -> camera -> grating
wheel (GWA) -> collimator -> MSA plane -> fore optics -> OTE image plane -> V2, V3.  Between
the camera and the collimator, rays are *direction cosines* and the GWA element turns them by
a sequence of small rotations about the x, y, z, y axes.  jwst expresses those steps with
custom model classes; here every piece is composed from astropy's own models (``Mapping``,
``Scale``, ``Polynomial2D``, arithmetic compound operators), so that a WCS made of them is
written to ASDF with the standard transform tags and any gwcs reader (stdatamodels and jwst
included) evaluates it without jwcal installed.

The conventions are those of the NIRSpec instrument model the reference files describe:

* an elementary rotation by ``theta`` about one axis updates the two other components
  linearly and then *recomputes* ``z = sqrt(1 - x**2 - y**2)`` (the ray stays a unit vector
  pointing forward);
* the GWA rotation sequence uses the angles ``theta_x, theta_y, theta_z, tilt_y`` (deg) of the
  ``disperser`` reference about the axes ``x, y, z, y``; its inverse applies the negated
  angles in reverse order;
* a tangent-plane vector ``(x, y)`` and the direction cosines of ``(x, y, 1)`` convert into
  each other.

Example::

    >>> rot = gwa_rotation([0.03, -0.27, -0.14, 24.29])
    >>> cosines = unitless_to_dircos()(0.01, -0.02)
    >>> back = rot.inverse(*rot(*cosines))           # round trip to ~1e-16
"""

from __future__ import annotations

import math

from astropy.modeling import models as am

__all__ = ["axis_rotation", "gwa_rotation", "unitless_to_dircos", "dircos_to_unitless",
           "mirror_reflection", "tilt_correction", "corrected_gwa_angles"]

_AXES = "xyz"


def _pick(i: int, n: int):
    return am.Mapping((i,), n_inputs=n)


def _linear(coeffs) -> am.Mapping:
    """``sum(c_i * input_i)`` of three inputs as a 3 -> 1 model (zero terms left out)."""
    terms = []
    for i, c in enumerate(coeffs):
        if c == 0.0:
            continue
        term = _pick(i, 3) if c == 1.0 else _pick(i, 3) | am.Scale(c)
        terms.append(term)
    if not terms:
        return _pick(0, 3) | am.Scale(0.0)
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def _unit_z() -> am.Mapping:
    """``(a, b) -> (a, b, sqrt(1 - a**2 - b**2))``."""
    one_minus = am.Polynomial2D(2, c0_0=1.0, c2_0=-1.0, c0_2=-1.0)
    z = one_minus ** am.Polynomial2D(0, c0_0=0.5)
    return am.Mapping((0, 1, 0, 1)) | am.Identity(2) & z


def axis_rotation(axis: str, angle_deg: float):
    """One elementary rotation of direction cosines ``(x, y, z)`` about ``axis`` (3 -> 3).

    About x: ``y' = y cos t + z sin t``; about y: ``x' = x cos t - z sin t``; about z:
    ``x' = x cos t + y sin t``, ``y' = -x sin t + y cos t``; the untouched component is kept
    and ``z'`` is recomputed from the unit norm.
    """
    t = math.radians(angle_deg)
    c, s = math.cos(t), math.sin(t)
    if axis == "x":
        rows = ((1.0, 0.0, 0.0), (0.0, c, s))
    elif axis == "y":
        rows = ((c, 0.0, -s), (0.0, 1.0, 0.0))
    elif axis == "z":
        rows = ((c, s, 0.0), (-s, c, 0.0))
    else:
        raise ValueError(f"rotation axis must be one of x, y, z, not {axis!r}")
    xy = am.Mapping((0, 1, 2, 0, 1, 2)) | _linear(rows[0]) & _linear(rows[1])
    model = xy | _unit_z()
    model.name = f"rot_{axis}"
    return model


def _sequence(angles, axes):
    model = None
    for ang, ax in zip(angles, axes):
        step = axis_rotation(ax, ang)
        model = step if model is None else model | step
    return model


def gwa_rotation(angles, axes: str = "xyzy"):
    """The GWA rotation sequence (3 -> 3) with its inverse attached.

    ``angles`` (deg) pair with ``axes``; the inverse rotates by the negated angles in reverse
    order (as the instrument model defines it, so that forward then inverse is the identity
    for forward-pointing rays).
    """
    angles = [float(a) for a in angles]
    if len(angles) != len(axes) or not angles:
        raise ValueError("gwa_rotation needs one angle per axis")
    if set(axes) - set(_AXES):
        raise ValueError(f"rotation axes must be x, y or z, not {axes!r}")
    forward = _sequence(angles, axes)
    backward = _sequence([-a for a in reversed(angles)], axes[::-1])
    forward.inverse = backward
    backward.inverse = forward
    forward.name = "rotation"
    return forward


def _to_dircos():
    """``(x, y) -> (x, y, 1) / sqrt(1 + x**2 + y**2)`` (2 -> 3), no inverse attached."""
    norm = am.Polynomial2D(2, c0_0=1.0, c2_0=1.0, c0_2=1.0) ** am.Polynomial2D(0, c0_0=0.5)
    return (am.Mapping((0, 1, 0, 1, 0, 1))
            | (_pick(0, 2) / norm) & (_pick(1, 2) / norm) & (am.Polynomial2D(0, c0_0=1.0) / norm))


def _to_unitless():
    """``(x, y, z) -> (x / z, y / z)`` (3 -> 2), no inverse attached."""
    ratio = _pick(0, 2) / _pick(1, 2)
    return am.Mapping((0, 2, 1, 2)) | ratio & ratio


def _paired(make_forward, make_backward, name):
    """``make_forward()`` with ``make_backward()`` as its inverse, whose own inverse is a fresh
    forward model (no cycle between the two)."""
    forward, backward = make_forward(), make_backward()
    backward.inverse = make_forward()
    forward.inverse = backward
    forward.name = name
    return forward


def unitless_to_dircos():
    """``(x, y) -> (x, y, 1) / |(x, y, 1)|`` (2 -> 3), inverse attached."""
    return _paired(_to_dircos, _to_unitless, "unitless2directional_cosines")


def dircos_to_unitless():
    """``(x, y, z) -> (x / z, y / z)`` (3 -> 2), inverse attached."""
    return _paired(_to_unitless, _to_dircos, "directional_cosines2unitless")


def mirror_reflection():
    """The GWA mirror turns a ray around: ``(x, y, z) -> (-x, -y, z)`` (its own inverse)."""
    model = am.Scale(-1.0) & am.Scale(-1.0) & am.Identity(1)
    model.name = "gwa_through"
    return model


def tilt_correction(tilt: dict, reading) -> float:
    """Change of a GWA angle (deg) for a measured tilt-sensor ``reading``.

    ``tilt``: the ``gwa_tiltx``/``gwa_tilty`` entry of a ``disperser`` reference
    (``tilt_model``: sensor reading -> angle in arcsec; ``zeroreadings``: the calibration
    reading).  The mechanism angle moves by half the mirror-angle change (reflection doubles
    it): ``0.5 * (model(reading) - model(zeroreading)) / 3600``.
    """
    model = tilt["tilt_model"]
    zero = tilt["zeroreadings"][0]
    return 0.5 * (float(model(reading)) - float(model(zero))) / 3600.0


def corrected_gwa_angles(disperser: dict, xtilt, ytilt) -> list:
    """``[theta_x, theta_y, theta_z, tilt_y]`` (deg) after the GWA tilt-sensor correction.

    GWA_XTIL corrects ``theta_y`` (through ``gwa_tiltx``) and GWA_YTIL corrects ``theta_x``
    (through ``gwa_tilty``); a missing reading leaves its angle as the reference gives it.
    """
    theta_x = float(disperser["theta_x"])
    theta_y = float(disperser["theta_y"])
    if xtilt is not None:
        theta_y = theta_y + tilt_correction(disperser["gwa_tiltx"], xtilt)
    if ytilt is not None:
        theta_x = theta_x + tilt_correction(disperser["gwa_tilty"], ytilt)
    return [theta_x, theta_y, float(disperser["theta_z"]), float(disperser["tilt_y"])]

