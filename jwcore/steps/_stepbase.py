"""The base of the detector1 (ramp) step wrappers, and the ``maximum_cores`` helper.

Reference handling that jwst does per mode (``wanted_references``, ``optional_references``)
is part of every :class:`~jwcore.runner.step.Step`; this base only adds the uncal -> ramp
conversion and the exposure's readout layout.
"""

from __future__ import annotations

from ..runner import Step
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
    """Base class of the ramp steps (not registered itself): uncal input becomes a float32
    ``RampModel``; :meth:`layout` gives the exposure's readout layout."""

    input_model = "RampModel"

    def layout(self, model):
        """The exposure's readout layout (see :mod:`jwcore.steps._layout`)."""
        return readout_layout(model.meta, pm=self.pm)
