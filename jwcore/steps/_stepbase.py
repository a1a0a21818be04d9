"""A common base for the detector1 (ramp) step wrappers.

:class:`RampStep` converts raw ``_uncal`` input to a float32 ``RampModel`` (``input_model``),
remembers the run's plugin manager while it runs (to find the exposure's
:class:`~jwcore.steps._layout.ReadoutLayout`), and selects references the way ``jwst`` asks
for them:

* :meth:`RampStep.wanted_references` - only the reference types the step will use for this
  exposure (``jwst`` asks for some only in some modes, e.g. ``refpix`` wants REFPIX only for
  IRS2 data); the others are neither selected nor recorded in ``R_<REFTYPE>``;
* ``optional_references`` - reference types whose absence means "N/A" (the step runs without
  them, as ``jwst`` does when CRDS answers N/A) instead of an error.  An explicit
  ``override_<reftype>`` is always honoured.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from ..errors import ReferenceFileError
from ..runner import References, SkipStep, Step
from ._layout import readout_layout

__all__ = ["RampStep", "threads_for"]


def threads_for(maximum_cores) -> int:
    """Worker threads for a ``maximum_cores`` value ('1', 'quarter', 'half', 'all' or a number).

    jwcal's results do not depend on the thread count.  The ``jwst`` default ``'1'`` (one
    process) uses the run's thread budget (:func:`jwcore.parallel.threads`); a larger number
    or a fraction of the cores is taken as asked, within that budget.
    """
    from ..parallel import cores, threads

    budget = threads()
    value = str(maximum_cores).strip().lower()
    fractions = {"quarter": 0.25, "half": 0.5, "all": 1.0}
    if value in fractions:
        return max(1, min(budget, int(cores() * fractions[value])))
    try:
        n = int(value)
    except ValueError:
        return budget
    return min(n, budget) if n > 1 else budget


class RampStep(Step):
    """Base class of the ramp steps (not registered itself)."""

    input_model = "RampModel"
    optional_references: ClassVar[tuple] = ()

    def run(self, model, ctx=None):
        from ..runner.context import RunContext

        ctx = ctx or RunContext.default()
        self._pm = ctx.pm
        self._ctx = ctx
        try:
            return super().run(model, ctx)
        finally:
            self._pm = None
            self._ctx = None

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"jwcal.step.{self.name}")

    def layout(self, model):
        """The exposure's readout layout (see :mod:`jwcore.steps._layout`)."""
        return readout_layout(model.meta, pm=getattr(self, "_pm", None))

    def wanted_references(self, model) -> tuple:
        """The reference types this step needs for ``model`` (default: all it declares)."""
        return tuple(self.reference_file_types)

    def select_references(self, model, ctx) -> References:
        from ..refs import select_reference

        selections = {}
        for reftype in self.wanted_references(model):
            override = getattr(self, f"override_{reftype}")
            try:
                sel = ctx.reference(reftype, model.meta, override, select_reference)
            except ReferenceFileError as exc:
                if reftype not in self.optional_references or override is not None:
                    raise
                self.log.info("%s reference: none found (%s); using N/A", reftype.upper(), exc)
                sel = None
            selections[reftype] = sel
            if sel is None:
                self.log.info("%s reference: N/A", reftype.upper())
            else:
                self.log.info("Using %s reference file %s (%s)", reftype.upper(), sel.path, sel.source)
        return References(selections)

    def require(self, refs, reftype: str):
        """The opened reference, or SkipStep (as jwst) when it is N/A."""
        ref = refs.open(reftype)
        if ref is None:
            raise SkipStep(f"no {reftype.upper()} reference file (N/A); {self.name} step skipped")
        return ref
