"""JWST data-quality flag values (the manual's "Data Quality Flags" table).

The values are those of today's ``jwst`` files, so DQ arrays written by jwcal and by
``jwst`` can be compared bit for bit.  ``PIXEL`` applies to ``DQ``/``PIXELDQ`` (uint32),
``GROUP`` to ``GROUPDQ`` (uint8).

>>> PIXEL["SATURATED"], SATURATED
(2, 2)
>>> interpret(SATURATED | JUMP_DET)
['SATURATED', 'JUMP_DET']
"""

from __future__ import annotations

PIXEL: dict[str, int] = {
    "GOOD": 0,
    "DO_NOT_USE": 1 << 0,
    "SATURATED": 1 << 1,
    "JUMP_DET": 1 << 2,
    "DROPOUT": 1 << 3,
    "OUTLIER": 1 << 4,
    "PERSISTENCE": 1 << 5,
    "AD_FLOOR": 1 << 6,
    "CHARGELOSS": 1 << 7,
    "RESERVED": 1 << 8,
    "NON_SCIENCE": 1 << 9,
    "DEAD": 1 << 10,
    "HOT": 1 << 11,
    "WARM": 1 << 12,
    "LOW_QE": 1 << 13,
    "RC": 1 << 14,
    "TELEGRAPH": 1 << 15,
    "NONLINEAR": 1 << 16,
    "BAD_REF_PIXEL": 1 << 17,
    "NO_FLAT_FIELD": 1 << 18,
    "NO_GAIN_VALUE": 1 << 19,
    "NO_LIN_CORR": 1 << 20,
    "NO_SAT_CHECK": 1 << 21,
    "UNRELIABLE_BIAS": 1 << 22,
    "UNRELIABLE_DARK": 1 << 23,
    "UNRELIABLE_SLOPE": 1 << 24,
    "UNRELIABLE_FLAT": 1 << 25,
    "OPEN": 1 << 26,
    "ADJ_OPEN": 1 << 27,
    "FLUX_ESTIMATED": 1 << 28,
    "MSA_FAILED_OPEN": 1 << 29,
    "OTHER_BAD_PIXEL": 1 << 30,
    "REFERENCE_PIXEL": 1 << 31,
}

GROUP: dict[str, int] = {
    k: PIXEL[k]
    for k in ("GOOD", "DO_NOT_USE", "SATURATED", "JUMP_DET", "DROPOUT", "PERSISTENCE", "AD_FLOOR", "CHARGELOSS")
}

globals().update(PIXEL)

# Reference files may use these aliases (the manual: "mnemonics in reference files").
ALIASES = {"UNRELIABLE_ERROR": "RESERVED"}


def flag(names) -> int:
    """Combine flag names (``"DEAD, HOT"`` or an iterable) into one integer value."""
    if isinstance(names, str):
        names = [n for n in names.replace("|", ",").split(",") if n.strip()]
    value = 0
    for name in names:
        key = ALIASES.get(name.strip().upper(), name.strip().upper())
        if key not in PIXEL:
            raise ValueError(f"unknown DQ flag name {name!r}")
        value |= PIXEL[key]
    return value


def interpret(value: int) -> list[str]:
    """Names of the flags set in ``value``, lowest bit first."""
    return [k for k, v in PIXEL.items() if v and value & v]
