"""Steps: a name, typed parameters, the reference types it reads, and ``process``.

The runner (:meth:`Step.run`) does what stpipe users expect around ``process``: skip,
reference selection (``override_<reftype>`` first), before/after hooks, ``S_<STEP>``
status and ``R_<REFTYPE>`` keywords, timing and logging, and saving with the step's suffix.
``process`` itself only transforms models; the arithmetic lives in a pure module beside it.

Stage-3 steps take and return a library (:class:`jwcore.library.ModelLibrary`, or a view of
one) rather than a model.  The runner then does the same per member: the status and
reference keywords are recorded on every member as metadata changes of the library (no member
is opened for them), references are selected from the library's ``meta`` (its first
member's), and ``save_results`` writes every member as ``<member>_<asn_id>_<suffix>.fits``
(jwst's naming) -- when ``process`` returned, not when it raised :class:`SkipStep`.  A step
whose members fare differently gives some of them their own status with
:meth:`Step.set_member_status` (skymatch: SKIPPED where no sky could be measured).

Example::

    class GainScaleStep(Step):
        name = "gain_scale"
        class_alias = "GainScaleStep"
        spec = ()
        reference_file_types = ()

        def process(self, model, refs):
            from .gain_scale import scale
            ...
            return model
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import ParameterError
from .params import COMMON_PARAMS, Param, override_param

log = logging.getLogger("jwcal.step")


def is_library(obj) -> bool:
    """True for a stage-3 library (members opened by index: ``len()`` and ``open(i)``), not a model."""
    return hasattr(obj, "open") and hasattr(obj, "__len__") and not hasattr(obj, "array_specs")


class SkipStep(Exception):
    """Raise from ``process`` to mark the step SKIPPED (e.g. a reference is N/A)."""


@dataclass
class StepResult:
    """A step's output model plus extra products keyed by suffix (``{"rateints": cube}``)."""

    model: Any
    extras: dict = field(default_factory=dict)


class References:
    """The references a step selected, opened lazily and closed after the step."""

    def __init__(self, selections: dict):
        self.selections = selections   # reftype -> Selection | None
        self._open: dict = {}

    def path(self, reftype: str) -> str | None:
        sel = self.selections.get(reftype)
        return None if sel is None else sel.path

    def __contains__(self, reftype: str) -> bool:
        return self.selections.get(reftype) is not None

    def open(self, reftype: str):
        """The reference as a model (FITS) or an asdf tree (ASDF); ``None`` if N/A."""
        if reftype in self._open:
            return self._open[reftype]
        path = self.path(reftype)
        if path is None:
            return None
        if str(path).endswith(".asdf"):
            import asdf

            obj = asdf.open(path, lazy_load=False, memmap=False)
        else:
            from ..datamodel import open_model, reference_model_class

            obj = open_model(path, model_cls=reference_model_class(reftype))
        self._open[reftype] = obj
        return obj

    def close(self):
        for obj in self._open.values():
            try:
                obj.close()
            except Exception:
                pass
        self._open.clear()


class Step:
    """Base class of all steps.  Subclasses set the class attributes and ``process``."""

    name: ClassVar[str] = ""
    class_alias: ClassVar[str] = ""            # jwst's class name, for .asdf parameter files
    spec: ClassVar[tuple[Param, ...]] = ()
    reference_file_types: ClassVar[tuple[str, ...]] = ()
    cal_step: ClassVar[str | None] = None      # meta.cal_step key; default: name
    suffix: ClassVar[str | None] = None        # output suffix; default: name
    description: ClassVar[str] = ""
    input_model: ClassVar[str | None] = None   # e.g. "RampModel": inputs are converted to it
    optional_references: ClassVar[tuple[str, ...]] = ()  # no file found means N/A, not an error
    applies_to_extras: ClassVar[bool] = False  # in a pipeline, also run on extra products (rateints)
    saves_extras: ClassVar[bool] = False       # save_results writes the extras, not the model (catalogs)

    context = None   # the RunContext while run() is active
    _member_status = None   # library steps, during a run: member index (None: all) -> own status

    def __init__(self, **params: Any):
        for p in self.all_params():
            setattr(self, p.name, p.default)
        self.configure(params)

    # -- parameters --------------------------------------------------------------------
    @classmethod
    def all_params(cls) -> list[Param]:
        own = list(cls.spec)
        names = {p.name for p in own}
        common = [p for p in COMMON_PARAMS if p.name not in names]
        return own + common + [override_param(r) for r in cls.reference_file_types]

    @classmethod
    def param(cls, name: str) -> Param:
        for p in cls.all_params():
            if p.name == name:
                return p
        import difflib

        close = difflib.get_close_matches(name, [p.name for p in cls.all_params()], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ParameterError(f"step {cls.name!r} has no parameter {name!r}{hint}")

    def configure(self, params: dict, where: str = "") -> None:
        for key, value in params.items():
            setattr(self, key, self.param(key).convert(value, where))

    def parameters(self) -> dict:
        return {p.name: getattr(self, p.name) for p in self.all_params()}

    @property
    def pm(self):
        """The plugin manager of the current run (the process-wide one outside a run)."""
        if self.context is not None:
            return self.context.pm
        from ..plugins import get_plugin_manager

        return get_plugin_manager()

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"jwcal.step.{self.name}")

    def wanted_references(self, model) -> tuple:
        """The reference types this step reads for ``model`` (default: all it declares).

        Only ``model.meta`` may be consulted: the run coordinator also calls this with a
        metadata-only stand-in to select references before work is farmed out.
        """
        return tuple(self.reference_file_types)

    def require(self, refs, reftype: str):
        """The opened reference, or :class:`SkipStep` (as jwst) when it is N/A."""
        ref = refs.open(reftype)
        if ref is None:
            raise SkipStep(f"no {reftype.upper()} reference file (N/A); {self.name} step skipped")
        return ref

    @property
    def status_key(self) -> str:
        return self.cal_step or self.name

    @property
    def output_suffix(self) -> str:
        return self.suffix or type(self).suffix or self.name

    # -- the work ----------------------------------------------------------------------
    def process(self, model, refs: References):  # pragma: no cover - abstract
        raise NotImplementedError(f"step {self.name} has no process()")

    def run(self, model, ctx=None):
        """Run the step on ``model`` with the framework around it.  Returns a StepResult."""
        from .context import RunContext

        from ..datamodel.convert import ensure

        ctx = ctx or RunContext.default()
        if self.input_model is None and getattr(model, "model_type", None) == "Level1bModel":
            # a step on calibrated products given a raw _uncal ramp: a user mistake, not a crash
            from ..errors import BadInputError

            raise BadInputError(f"step {self.name} works on calibrated products, not a raw ramp "
                                f"(Level1bModel, e.g. an _uncal file); run stage 1 (detector1) first")
        model = ensure(model, self.input_model)
        self.context = ctx
        try:
            return self._run(model, ctx)
        finally:
            self.context = None

    def set_member_status(self, status: str, *indices: int) -> None:
        """From ``process`` of a library step: give the members ``indices`` (none given: every
        member) ``status`` instead of the step's own (e.g. ``"SKIPPED"`` for an exposure the step
        could not handle, or for all when there was nothing to do).  Ignored if the step is then
        skipped by :class:`SkipStep` (every member is SKIPPED)."""
        if self._member_status is None:
            self._member_status = {}
        for index in indices or (None,):
            self._member_status[index] = status

    def _run(self, model, ctx):
        slog = self.log
        self._member_status = {}
        if self.skip:
            slog.info("Step %s skipped", self.name)
            self._set_status(model, "SKIPPED")
            return StepResult(model)
        slog.info("Step %s running with %s", self.name,
                  ", ".join(f"{k}={v!r}" for k, v in self.parameters().items() if not k.startswith("override_") or v))
        refs = self.select_references(model, ctx)
        ctx.pm.hook.jwcal_before_step(step=self, model=model)
        t0 = time.perf_counter()
        try:
            out = self.process(model, refs)
            status = "COMPLETE"
        except SkipStep as why:
            slog.warning("Step %s skipped: %s", self.name, why)
            out, status = model, "SKIPPED"
            self._member_status = {}
        finally:
            refs.close()
        result = out if isinstance(out, StepResult) else StepResult(out)
        for target in [result.model, *result.extras.values()]:
            self._set_status(target, status)
            self._record_references(target, refs)
        elapsed = time.perf_counter() - t0
        ctx.note_step(self, status, elapsed)
        slog.info("Step %s done in %.2f s (%s)", self.name, elapsed, status)
        ctx.pm.hook.jwcal_after_step(step=self, model=model, result=result.model)
        if self.save_results:
            self._save(result, ctx, skipped=status == "SKIPPED")
        return result

    def _save(self, result: StepResult, ctx, skipped: bool) -> None:
        """``save_results``: the output model; or every member of an output library (unless
        the step was skipped); or, for a step whose products are its extras, those."""
        if self.saves_extras:
            for suffix, product in result.extras.items():
                ctx.save(product, suffix, step=self)
        elif is_library(result.model):
            if not skipped:
                self.save_library(result.model, ctx)
        else:
            ctx.save(result.model, self.output_suffix, step=self)

    def save_library(self, library, ctx=None, suffix: str | None = None) -> list:
        """Write every member of ``library`` (one open at a time) as
        ``<member>_<asn_id>_<suffix>.fits``; returns the paths."""
        from .naming import member_base

        ctx = ctx or self.context
        suffix = suffix or self.output_suffix
        out = []
        for i in range(len(library)):
            with library.open(i) as model:
                model.load_all()
                out.append(ctx.save(model, suffix, step=self, base=member_base(library, i)))
        return out

    def select_references(self, model, ctx) -> References:
        selections = {}
        for reftype in self.wanted_references(model):
            sel = self.select_one(reftype, model.meta, ctx)
            selections[reftype] = sel
            if sel is None:
                self.log.info("%s reference: N/A", reftype.upper())
            else:
                self.log.info("Using %s reference file %s (%s)", reftype.upper(), sel.path, sel.source)
        return References(selections)

    def select_one(self, reftype: str, meta, ctx):
        """One reference: the override, else the run's selection (``None`` for N/A).

        A reftype in ``optional_references`` for which no selector has a file is N/A (as CRDS
        answers for, e.g., FGS filter offsets); an explicit override is always honoured.
        """
        from ..errors import ReferenceFileError
        from ..refs import select_reference

        override = getattr(self, f"override_{reftype}")
        try:
            return ctx.reference(reftype, meta, override, select_reference)
        except ReferenceFileError as exc:
            if reftype not in self.optional_references or override is not None:
                raise
            self.log.info("%s reference: none found (%s); using N/A", reftype.upper(), exc)
            return None

    @staticmethod
    def _is_model(obj) -> bool:
        """A jwcal model (catalog tables among the extras get no status keywords)."""
        from ..datamodel import DataModel

        return isinstance(obj, DataModel)

    def _set_meta(self, target, values: dict, per_member: dict | None = None) -> None:
        """Set ``{dotted path under meta: value}`` on a model, or on every member of a library
        as recorded changes (``update_meta``; no member is opened).  ``per_member``: values of
        some members (index, or ``None`` for all) that replace those in ``values``."""
        if is_library(target):
            per_member = per_member or {}
            for i in range(len(target)):
                target.update_meta(i, {**values, **per_member.get(None, {}), **per_member.get(i, {})})
        elif self._is_model(target):
            for key, value in values.items():
                target.meta.set(key, value)

    def _set_status(self, target, status: str) -> None:
        key = f"cal_step.{self.status_key}"
        own = {i: {key: s} for i, s in (self._member_status or {}).items()}
        self._set_meta(target, {key: status}, own)

    def _record_references(self, target, refs: References) -> None:
        values = {}
        for reftype, sel in refs.selections.items():
            values[f"ref_file.{reftype}.name"] = "N/A" if sel is None else sel.header_value
            if sel is not None and sel.context:
                values["ref_file.crds.context_used"] = sel.context
        if values:
            self._set_meta(target, values)

    # -- convenience -------------------------------------------------------------------
    @classmethod
    def call(cls, input, ctx=None, **params):
        """Open ``input`` if it is a path, run a fresh instance, return the output model."""
        from ..datamodel import open_model
        from .context import RunContext

        model = open_model(input) if isinstance(input, (str, Path)) else input
        ctx = ctx or RunContext.default(input_path=input if isinstance(input, (str, Path)) else None)
        return cls(**params).run(model, ctx).model
