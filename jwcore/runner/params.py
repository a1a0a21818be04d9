"""Typed step parameters (no spec strings).

>>> p = Param("rejection_threshold", float, 4.0, "Sigma above which a difference is a jump")
>>> p.convert("5")
5.0
>>> Param("flag_4_neighbors", bool, True, "").convert("false")
False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ParameterError

_TRUE = {"true", "t", "yes", "y", "1", "on"}
_FALSE = {"false", "f", "no", "n", "0", "off"}


@dataclass(frozen=True)
class Param:
    """One parameter: name, Python type, default, help; optional choices; ``None`` allowed."""

    name: str
    type: type
    default: Any
    help: str = ""
    choices: tuple | None = None
    nullable: bool = False

    def convert(self, value: Any, where: str = "") -> Any:
        """Coerce a value from a CLI string, TOML or ASDF to this parameter's type."""
        ctx = f" ({where})" if where else ""
        if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null") and self.nullable):
            if self.nullable or self.default is None:
                return None
            raise ParameterError(f"parameter {self.name} cannot be None{ctx}")
        try:
            if self.type is bool:
                if isinstance(value, bool):
                    out = value
                elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                    out = value.strip().lower() in _TRUE
                elif isinstance(value, (int,)) and value in (0, 1):
                    out = bool(value)
                else:
                    raise ValueError(value)
            elif self.type is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            elif self.type in (list, tuple) and isinstance(value, str):
                out = self.type(v.strip() for v in value.split(",") if v.strip())
            else:
                out = self.type(value)
        except (TypeError, ValueError):
            raise ParameterError(
                f"parameter {self.name}: {value!r} is not a valid {self.type.__name__}{ctx}") from None
        if self.choices is not None and out not in self.choices:
            raise ParameterError(f"parameter {self.name}: {out!r} is not one of {', '.join(map(str, self.choices))}{ctx}")
        return out


# Parameters every step has (the stpipe ones users know).
COMMON_PARAMS: tuple[Param, ...] = (
    Param("skip", bool, False, "Skip this step"),
    Param("save_results", bool, False, "Save this step's result to a file"),
    Param("output_dir", str, None, "Folder for output files", nullable=True),
    Param("output_file", str, None, "Base name of the output file (suffix is still added)", nullable=True),
    Param("suffix", str, None, "Suffix of the output file (default: the step's own)", nullable=True),
    Param("search_output_file", bool, True, "Use output_file of the input as base name"),
    Param("input_dir", str, None, "Folder to look for inputs in", nullable=True),
)


def override_param(reftype: str) -> Param:
    """The ``override_<reftype>`` parameter: a path, or ``"N/A"`` to use no reference."""
    return Param(f"override_{reftype}", str, None,
                 f"Use this {reftype} reference file instead of selecting one ('N/A' for none)", nullable=True)
