"""Parameter precedence, in one place: defaults < parameter file < command line.

* defaults: each step's ``Param`` defaults, then the pipeline's own per-step defaults
  (``StepUse.defaults``, e.g. a TSO pipeline skipping a step);
* parameter file: TOML (top-level keys for the pipeline, ``[steps.<name>]`` tables for steps)
  or an stpipe ``.asdf`` parameter file (``parameters`` and ``steps: [{name, parameters}]``);
* command line: ``--steps.jump.rejection_threshold=5`` and ``--save_results=false``.

Unknown steps or parameters are errors with a "did you mean" hint, never silently ignored.

A ``[steps.<name>]`` table may also *insert* a registered step that the pipeline does not
list (see :func:`apply_insertions`)::

    [steps.nircam_destripe]
    insert_after = "flat_field"      # or insert_before = "photom"
    insert_in = ["image2"]           # optional: only these pipelines (names or aliases)
    method = "pca"                   # the step's own parameters, as usual

>>> parse_cli_overrides(["--steps.jump.rejection_threshold=5", "--output_dir", "out"])
{'steps': {'jump': {'rejection_threshold': '5'}}, 'output_dir': 'out'}
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path

from ..errors import ParameterError


def load_param_file(path) -> dict:
    """Read a TOML or stpipe-ASDF parameter file into ``{..., "steps": {name: {...}}}``."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"parameter file {path} does not exist")
    if path.suffix == ".asdf":
        return _from_stpipe_asdf(path)
    import tomllib

    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"parameter file {path}: not valid TOML ({exc})") from None
    if "steps" in data and not isinstance(data["steps"], dict):
        raise ParameterError(f"parameter file {path}: 'steps' must be a table of [steps.<name>] tables")
    return data


def _from_stpipe_asdf(path: Path) -> dict:
    import asdf

    try:
        with asdf.open(path, lazy_load=False) as af:
            tree = dict(af.tree)
    except Exception as exc:
        raise ParameterError(f"parameter file {path}: not a readable ASDF file ({exc})") from None
    out = dict(tree.get("parameters") or {})
    steps = {}
    for entry in tree.get("steps") or []:
        name = entry.get("name") or _alias_from_class(entry.get("class", ""))
        steps[name] = dict(entry.get("parameters") or {})
    if steps:
        out["steps"] = steps
    elif tree.get("name") or tree.get("class"):
        # a single step's parameter file: apply its parameters to that step
        name = tree.get("name") or _alias_from_class(tree.get("class", ""))
        out = {"steps": {name: dict(tree.get("parameters") or {})}}
    for section in [out, *out.get("steps", {}).values()]:
        for key in ("class", "name", "pre_hooks", "post_hooks"):
            section.pop(key, None)
        for k in [k for k, v in section.items() if isinstance(v, (list, dict)) and not v]:
            section.pop(k)
    return out


def _alias_from_class(classpath: str) -> str:
    """``jwst.jump.jump_step.JumpStep`` -> ``jump``."""
    cls = classpath.rsplit(".", 1)[-1]
    if cls.endswith("Step"):
        cls = cls[:-4]
    out = []
    for i, ch in enumerate(cls):
        if ch.isupper() and i and not cls[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def parse_cli_overrides(args) -> dict:
    """``--a.b.c=v`` / ``--a.b.c v`` strings into a nested dict (values stay strings)."""
    out: dict = {}
    args = list(args)
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise ParameterError(f"unexpected argument {arg!r} (parameters look like --steps.jump.rejection_threshold=5)")
        body = arg[2:]
        if "=" in body:
            key, value = body.split("=", 1)
        else:
            if i + 1 >= len(args):
                raise ParameterError(f"parameter {arg} needs a value")
            key, value = body, args[i + 1]
            i += 1
        key = key.replace("-", "_") if not key.startswith("steps.") else "steps." + key[6:]
        cur = out
        parts = key.split(".")
        for part in parts[:-1]:
            cur = cur.setdefault(part, {})
        cur[parts[-1]] = value
        i += 1
    return out


def merge(*layers: dict) -> dict:
    """Later layers win; ``steps`` tables merge per step."""
    out: dict = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if key == "steps":
                steps = out.setdefault("steps", {})
                for name, params in value.items():
                    steps.setdefault(name, {}).update(params)
            else:
                out[key] = value
    return out


# -- inserting steps by configuration ---------------------------------------------------
#: Keys of a [steps.<name>] table that place the step rather than configure it.
PLACEMENT_KEYS = ("insert_after", "insert_before", "insert_in", "step")


@dataclasses.dataclass(frozen=True)
class Insertion:
    """One ``[steps.<key>]`` table that inserts a step into pipelines.

    ``key``: the table's name (the step's name in this pipeline); ``step``: the registered
    step it runs (default: ``key``; set ``step = "..."`` to insert a second copy under another
    name); exactly one of ``after``/``before`` names the step it goes next to; ``pipelines``
    limits it to pipelines with these names or aliases (empty: every pipeline of the run that
    has the anchor step).
    """

    key: str
    step: str
    after: str | None = None
    before: str | None = None
    pipelines: tuple = ()

    @property
    def anchor(self) -> str:
        return self.after or self.before

    def describe(self) -> str:
        where = f"insert_after = {self.after!r}" if self.after else f"insert_before = {self.before!r}"
        return f"[steps.{self.key}] {where}"

    def targets(self, spec) -> bool:
        return not self.pipelines or bool({spec.name, *spec.aliases} & set(self.pipelines))


def _as_names(value, what: str) -> tuple:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ParameterError(f"{what} must be a name or a list of names, not {value!r}")


def insertions(config: dict) -> list[Insertion]:
    """The step insertions a merged config asks for, in the order of its ``[steps]`` tables."""
    out = []
    for key, params in (config.get("steps") or {}).items():
        if not isinstance(params, dict):
            continue
        after, before = params.get("insert_after"), params.get("insert_before")
        if after is None and before is None:
            stray = [k for k in ("insert_in", "step") if k in params]
            if stray:
                raise ParameterError(f"[steps.{key}] has {stray[0]} but neither insert_after nor insert_before")
            continue
        if after is not None and before is not None:
            raise ParameterError(f"[steps.{key}]: give insert_after or insert_before, not both")
        anchor = after if after is not None else before
        if not isinstance(anchor, str) or not anchor:
            raise ParameterError(f"[steps.{key}]: insert_after/insert_before must name a step, not {anchor!r}")
        step = params.get("step", key)
        if not isinstance(step, str) or not step:
            raise ParameterError(f"[steps.{key}]: step must be a registered step name, not {step!r}")
        if anchor == key:
            raise ParameterError(f"[steps.{key}]: a step cannot be inserted next to itself")
        pipes = _as_names(params["insert_in"], f"[steps.{key}] insert_in") if "insert_in" in params else ()
        out.append(Insertion(key, step, after, before, pipes))
    return out


def step_params(params: dict) -> dict:
    """A ``[steps.<name>]`` table without its placement keys (what the step itself takes)."""
    return {k: v for k, v in params.items() if k not in PLACEMENT_KEYS}


def apply_insertions(spec, config: dict, registry=None, strict: bool = True):
    """``spec`` with the steps that ``config`` inserts (a new :class:`PipelineSpec`; ``spec``
    itself is frozen and shared, so it is never changed).

    Insertions are applied in the order of the ``[steps]`` tables; one may be placed next to
    a step inserted before it, and several placed after the same step keep their order.
    An insertion whose anchor this pipeline lacks is passed over (another pipeline of the run
    may have it; :func:`validate_for` checks that every insertion lands somewhere) unless it
    names this pipeline in ``insert_in`` or ``strict`` is set, when it is an error.  With a
    ``registry``, the inserted step must be registered.
    """
    from .pipeline import StepUse

    wanted = [i for i in insertions(config) if i.targets(spec)]
    if not wanted:
        return spec
    uses = list(spec.steps)
    after_count: dict[str, int] = {}
    for ins in wanted:
        keys = [u.key for u in uses]
        if ins.anchor not in keys:
            if strict or ins.pipelines:
                raise ParameterError(f"{ins.describe()}: pipeline {spec.name} has no step {ins.anchor!r}"
                                     + _hint(ins.anchor, keys))
            continue
        if ins.key in keys:
            raise ParameterError(
                f"{ins.describe()}: pipeline {spec.name} already has a step {ins.key!r}; configure it with "
                f"[steps.{ins.key}] alone, or insert a copy under another name (e.g. [steps.{ins.key}_2] "
                f"with step = {ins.step!r})")
        if registry is not None:
            registry.step(ins.step)   # unknown step: ParameterError with a hint
        i = keys.index(ins.anchor)
        if ins.after:
            pos = i + 1 + after_count.get(ins.anchor, 0)
            after_count[ins.anchor] = after_count.get(ins.anchor, 0) + 1
        else:
            pos = i
        uses.insert(pos, StepUse(ins.step, alias=ins.key if ins.key != ins.step else None))
    return dataclasses.replace(spec, steps=tuple(uses))


def _hint(name, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3)
    return f"; did you mean {', '.join(close)}?" if close else ""


def split_config(config: dict, spec, registry, strict: bool = True) -> tuple[dict, dict]:
    """Validate a merged config against a pipeline; return (pipeline params, per-step params).

    ``strict=False`` ignores names this pipeline does not have (a run over several stages
    shares one config; :func:`validate_for` checks it once against all of them).
    """
    pipeline_names = {p.name for p in spec.all_params()}
    pipeline_cfg = {}
    for key, value in config.items():
        if key == "steps":
            continue
        if key not in pipeline_names:
            if not strict:
                continue
            close = difflib.get_close_matches(key, list(pipeline_names), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ParameterError(f"pipeline {spec.name} has no parameter {key!r}{hint}")
        pipeline_cfg[key] = value
    step_cfgs = config.get("steps", {})
    if not strict:
        step_cfgs = {k: v for k, v in step_cfgs.items() if k in spec.step_keys}
    for name, params in step_cfgs.items():
        if name not in spec.step_keys:
            close = difflib.get_close_matches(name, list(spec.step_keys), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ParameterError(f"pipeline {spec.name} has no step {name!r}{hint}")
        if not isinstance(params, dict):
            raise ParameterError(f"steps.{name} must be a table of parameters")
    return pipeline_cfg, step_cfgs


def validate_for(config: dict, specs, registry=None) -> None:
    """Check a run's config against every pipeline the run uses: each step and pipeline
    parameter must belong to at least one of them, and each step insertion must land in at
    least one of them (unknown names are errors with hints).  With a ``registry``, inserted
    steps must be registered."""
    specs = list(specs)
    if not specs:
        return
    before = specs
    specs = [apply_insertions(s, config, registry, strict=False) for s in specs]
    for ins in insertions(config):
        if not any(ins.key in new.step_keys and ins.key not in old.step_keys for old, new in zip(before, specs)):
            anchors = {k for s in specs if ins.targets(s) for k in s.step_keys}
            names = ", ".join(sorted({s.name for s in specs if ins.targets(s)})) or "none"
            raise ParameterError(f"{ins.describe()}: no pipeline of this run ({names}) has a step "
                                 f"{ins.anchor!r}" + _hint(ins.anchor, anchors))
    step_keys = {k for s in specs for k in s.step_keys}
    pipe_params = {p.name for s in specs for p in s.all_params()}
    names = ", ".join(sorted({s.name for s in specs}))
    for key in config:
        if key != "steps" and key not in pipe_params:
            close = difflib.get_close_matches(key, list(pipe_params), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ParameterError(f"no pipeline of this run ({names}) has a parameter {key!r}{hint}")
    for name in config.get("steps", {}):
        if name not in step_keys:
            close = difflib.get_close_matches(name, list(step_keys), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ParameterError(f"no pipeline of this run ({names}) has a step {name!r}{hint}")
