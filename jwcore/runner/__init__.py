"""Step and pipeline runner."""

from .context import RunContext
from .params import Param
from .pipeline import Pipeline, PipelineSpec, StepUse
from .step import References, SkipStep, Step, StepResult

__all__ = ["Param", "Pipeline", "PipelineSpec", "References", "RunContext", "SkipStep", "Step",
           "StepResult", "StepUse"]
