"""Pipelines declared as data: an ordered list of steps; the declared order is the run order.

A user's configuration may insert registered steps (``[steps.X] insert_after = "flat_field"``):
:class:`Pipeline` then runs a modified copy of the spec (:func:`jwcore.runner.config.apply_insertions`),
available as ``pipeline.spec``.

>>> spec = PipelineSpec("image2", stage=2, steps=("assign_wcs", "flat_field", "photom"), suffix="cal")
>>> spec.step_names
('assign_wcs', 'flat_field', 'photom')
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from ..errors import ParameterError
from .context import RunContext
from .params import Param
from .step import StepResult

log = logging.getLogger("jwcal.pipeline")


@dataclass(frozen=True)
class StepUse:
    """A step in a pipeline, with pipeline-specific default parameters (e.g. ``skip=True``)."""

    step: str
    defaults: dict = field(default_factory=dict)
    alias: str | None = None   # the name used under [steps.<alias>]; default: the step name

    @property
    def key(self) -> str:
        return self.alias or self.step


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline: name (jwst's), aliases, instrument (``None``: generic), stage, steps, suffix."""

    name: str
    steps: tuple = ()
    stage: int | None = None
    instrument: str | None = None
    aliases: tuple = ()
    suffix: str = "cal"
    class_alias: str = ""
    description: str = ""
    params: tuple = ()   # pipeline-level Params besides the common ones
    saves: tuple = ()    # optional intermediate products: (param, after step key, suffix)

    def __post_init__(self):
        uses = tuple(s if isinstance(s, StepUse) else StepUse(s) for s in self.steps)
        object.__setattr__(self, "steps", uses)
        keys = [u.key for u in uses]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise ParameterError(f"pipeline {self.name}: step(s) {', '.join(sorted(dup))} listed twice")

    @property
    def step_names(self) -> tuple:
        return tuple(u.step for u in self.steps)

    @property
    def step_keys(self) -> tuple:
        return tuple(u.key for u in self.steps)

    def derive(self, name: str, *, aliases: tuple = (), skip: tuple = (), class_alias: str | None = None) -> "PipelineSpec":
        """A variant of this pipeline under another name whose listed steps are skipped by
        default (e.g. calwebb_tso1: detector1 with ipc, lastframe and persistence skipped).

        >>> d1 = PipelineSpec("detector1", ("dq_init", "ipc", "jump"), stage=1)
        >>> [u.defaults for u in d1.derive("tso1", skip=("ipc",)).steps]
        [{}, {'skip': True}, {}]
        """
        unknown = set(skip) - set(self.step_keys)
        if unknown:
            raise ParameterError(f"pipeline {self.name}: cannot skip unknown step(s) {', '.join(sorted(unknown))}")
        steps = tuple(StepUse(u.step, {**u.defaults, "skip": True} if u.key in skip else dict(u.defaults), u.alias)
                      for u in self.steps)
        from dataclasses import replace

        return replace(self, name=name, aliases=tuple(aliases), steps=steps,
                       class_alias=class_alias if class_alias is not None else self.class_alias)

    def all_params(self) -> tuple:
        """Pipeline-level parameters: the common ones, ``params``, and one bool per ``saves``."""
        saves = tuple(Param(param, bool, False, f"Save the product after {after} as _{suffix}")
                      for param, after, suffix in self.saves)
        return (*PIPELINE_PARAMS, *self.params, *saves)


PIPELINE_PARAMS = (
    Param("save_results", bool, True, "Save the pipeline's final product"),
    Param("output_dir", str, None, "Folder for output files", nullable=True),
    Param("output_file", str, None, "Base name of output files", nullable=True),
    Param("skip", bool, False, "Skip the whole pipeline"),
    Param("suffix", str, None, "Suffix of the final product", nullable=True),
)


class Pipeline:
    """A configured pipeline: step instances in order, ready to run on models."""

    def __init__(self, spec: PipelineSpec, registry, config: dict | None = None, strict: bool = True):
        from .config import apply_insertions, split_config, step_params

        # steps inserted by configuration ([steps.X] insert_after = "...") make a new spec
        spec = apply_insertions(spec, config or {}, registry, strict)
        self.spec = spec
        pipeline_cfg, step_cfgs = split_config(config or {}, spec, registry, strict)
        for p in spec.all_params():
            setattr(self, p.name, p.convert(pipeline_cfg.get(p.name, p.default), f"pipeline {spec.name}")
                    if p.name in pipeline_cfg else p.default)
        self.steps = []
        for use in spec.steps:
            cls = registry.step(use.step)
            params = {**use.defaults, **step_params(step_cfgs.get(use.key, {}))}
            step = cls()
            step.configure(params, where=f"steps.{use.key}")
            self.steps.append(step)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def reference_file_types(self) -> list:
        out = []
        for step in self.steps:
            if not step.skip:
                out.extend(r for r in step.reference_file_types if r not in out)
        return out

    def _ints(self, model, suffix: str) -> str:
        """jwst's stage-2 naming: a per-integration product (a CubeModel, from a _rateints)
        is saved as ``_<suffix>ints`` (cal -> calints, bsub -> bsubints)."""
        if self.spec.stage == 2 and getattr(model, "model_type", None) == "CubeModel":
            return suffix + "ints"
        return suffix

    def run(self, model, ctx: RunContext) -> StepResult:
        """Run each step in declared order; save the final product (and extras) if asked."""
        t0 = time.perf_counter()
        log.info("Pipeline %s (%s) starting on %s", self.spec.name, self.spec.instrument or "generic",
                 ctx.input_path or model.meta.filename)
        if self.output_dir and ctx.output_dir is None:
            ctx.output_dir = self.output_dir
        if self.output_file and ctx.output_file is None:
            ctx.output_file = self.output_file
        extras: dict = {}
        current = model
        checkpoints = {after: (param, suffix) for param, after, suffix in self.spec.saves}
        for use, step in zip(self.spec.steps, self.steps):
            result = step.run(current, ctx)
            current = result.model
            if step.applies_to_extras:   # e.g. gain_scale also scales the rateints product
                extras = {k: step.run(v, ctx).model for k, v in extras.items()}
            extras.update(result.extras)
            if use.key in checkpoints and getattr(self, checkpoints[use.key][0]):
                ctx.save(current, self._ints(current, checkpoints[use.key][1]))
        if self.save_results:
            ctx.save(current, self.suffix or self._ints(current, self.spec.suffix))
            for suffix, extra in extras.items():
                ctx.save(extra, suffix)
        log.info("Pipeline %s done in %.2f s", self.spec.name, time.perf_counter() - t0)
        return StepResult(current, extras)
