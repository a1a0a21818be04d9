"""Parameter precedence, in one place: defaults < parameter file < command line.

* defaults: each step's ``Param`` defaults, then the pipeline's own per-step defaults
  (``StepUse.defaults``, e.g. a TSO pipeline skipping a step);
* parameter file: TOML (top-level keys for the pipeline, ``[steps.<name>]`` tables for steps)
  or an stpipe ``.asdf`` parameter file (``parameters`` and ``steps: [{name, parameters}]``);
* command line: ``--steps.jump.rejection_threshold=5`` and ``--save_results=false``.

Unknown steps or parameters are errors with a "did you mean" hint, never silently ignored.

>>> parse_cli_overrides(["--steps.jump.rejection_threshold=5", "--output_dir", "out"])
{'steps': {'jump': {'rejection_threshold': '5'}}, 'output_dir': 'out'}
"""

from __future__ import annotations

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


def validate_for(config: dict, specs) -> None:
    """Check a run's config against every pipeline the run uses: each step and pipeline
    parameter must belong to at least one of them (unknown names are errors with hints)."""
    specs = list(specs)
    if not specs:
        return
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
