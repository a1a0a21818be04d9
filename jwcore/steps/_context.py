"""A step base for the stage-2 steps that call plugin hooks or read the association
(``assign_wcs`` asks the instrument plugins for the WCS, ``photom`` for its PHOTOM row keys,
``bkg_subtract`` reads the level-2 association's background members).

It also lets a step name ``optional_references``: reference types whose absence from every
selector means "N/A" (as CRDS answers for, e.g., FGS filter offsets), not an error.  An
explicit ``override_<reftype>`` is always honoured.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from ..errors import ReferenceFileError
from ..runner.step import References, Step


class ContextStep(Step):
    """:class:`~jwcore.runner.step.Step` whose ``process`` can use ``self.context``/``self.pm``."""

    context = None
    optional_references: ClassVar[tuple] = ()

    def run(self, model, ctx=None):
        from ..runner.context import RunContext

        ctx = ctx or RunContext.default()
        self.context = ctx
        try:
            return super().run(model, ctx)
        finally:
            self.context = None

    @property
    def pm(self):
        """The plugin manager of the current run (the process-wide one outside a run)."""
        if self.context is not None:
            return self.context.pm
        from ..plugins import get_plugin_manager

        return get_plugin_manager()

    def select_references(self, model, ctx) -> References:
        from ..refs import select_reference

        slog = logging.getLogger(f"jwcal.step.{self.name}")
        selections = {}
        for reftype in self.reference_file_types:
            override = getattr(self, f"override_{reftype}")
            try:
                sel = ctx.reference(reftype, model.meta, override, select_reference)
            except ReferenceFileError as exc:
                if reftype not in self.optional_references or override is not None:
                    raise
                slog.info("%s reference: none found (%s); using N/A", reftype.upper(), exc)
                sel = None
            selections[reftype] = sel
            if sel is None:
                slog.info("%s reference: N/A", reftype.upper())
            else:
                slog.info("Using %s reference file %s (%s)", reftype.upper(), sel.path, sel.source)
        return References(selections)
