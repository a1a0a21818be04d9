"""``lastframe`` step: flag the last group of MIRI ramps."""

from __future__ import annotations

from jwcore.runner import SkipStep
from jwcore.steps._stepbase import RampStep

from ..algorithms.lastframe import flag_last_group
from ._common import require_miri


class LastFrameStep(RampStep):
    """With more than two groups, the last group of every integration becomes DO_NOT_USE."""

    name = "lastframe"
    class_alias = "lastframe"
    description = "Set data quality flags for the last group in MIRI ramps"
    spec = ()
    reference_file_types = ()

    def process(self, model, refs):
        require_miri(model, "Last Frame")
        if flag_last_group(model.groupdq) != "COMPLETE":
            raise SkipStep("two groups or fewer: last frame not flagged")
        return model
