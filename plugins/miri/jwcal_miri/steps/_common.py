"""What the MIRI step wrappers share."""

from __future__ import annotations

from jwcore.runner import SkipStep


def require_miri(model, step_name: str) -> None:
    """SKIPPED (as jwst) when the exposure's detector is not a MIRI one (DETECTOR 'MIR...')."""
    detector = str(model.meta.instrument.detector or "")
    if not detector.upper().startswith("MIR"):
        raise SkipStep(f"{step_name} correction is only for MIRI data")
