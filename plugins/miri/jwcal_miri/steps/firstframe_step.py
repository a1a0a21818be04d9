"""``firstframe`` step: flag the first group of MIRI ramps (deprecated in jwst; skipped by default)."""

from __future__ import annotations

from jwcore.runner import Param, SkipStep
from jwcore.steps._stepbase import RampStep

from ..algorithms.firstframe import flag_first_group
from ._common import require_miri


class FirstFrameStep(RampStep):
    """With more than three groups, group 1 becomes DO_NOT_USE (kept where group 3 saturates
    when ``bright_use_group1``; those pixels get FLUX_ESTIMATED).  ``jwst`` deprecates the
    step (the ``rscd`` step flags first groups now), so ``skip`` defaults to True."""

    name = "firstframe"
    class_alias = "firstframe"
    description = "Set data quality flags for the first group in MIRI ramps"
    spec = (
        Param("bright_use_group1", bool, True, "do not flag group1 if group3 is saturated"),
        Param("skip", bool, True, "Do not run this step."),
    )
    reference_file_types = ()

    def process(self, model, refs):
        self.log.warning("'FirstFrameStep' has been deprecated in jwst; flagging the first group is "
                         "done by the RSCD step")
        require_miri(model, "First Frame")
        status = flag_first_group(model.groupdq, model.pixeldq, bright_use_group1=self.bright_use_group1)
        if status != "COMPLETE":
            raise SkipStep("three groups or fewer: first frame not flagged")
        return model
