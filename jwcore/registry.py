"""What the plugins registered: steps, pipelines and the EXP_TYPE -> pipeline table.

Each registration hook is called once per plugin with a ``register`` callback that knows
which plugin is calling, so every error names the distribution(s) involved.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass, field

from .errors import ParameterError, PluginError


@dataclass(frozen=True)
class ExpTypeRoute:
    """Which pipeline runs each stage for one EXP_TYPE (the manual's Pipeline Modules table)."""

    exp_type: str
    instrument: str
    stages: dict
    plugin: str = ""        # distribution==version
    plugin_name: str = ""   # the plugin's registered name
    per_integration: bool = False   # stage 2 takes the _rateints (TSO, coronagraphy, AMI)

    def pipeline_for(self, stage: int):
        return self.stages.get(stage)


@dataclass
class Registry:
    steps: dict = field(default_factory=dict)            # name -> Step class
    step_owner: dict = field(default_factory=dict)       # name -> plugin label
    pipelines: dict = field(default_factory=dict)        # (name, instrument|None) -> PipelineSpec
    pipeline_owner: dict = field(default_factory=dict)
    pipeline_aliases: dict = field(default_factory=dict)  # alias -> name
    routes: dict = field(default_factory=dict)           # EXP_TYPE -> ExpTypeRoute
    step_plugin: dict = field(default_factory=dict)      # name -> plugin name
    pipeline_plugin: dict = field(default_factory=dict)

    # -- collection ------------------------------------------------------------------
    @classmethod
    def collect(cls, pm) -> "Registry":
        """Call every registration hook; a plugin that turns out broken is left out entirely."""
        while True:
            broken_before = {n for n, i in pm.infos.items() if i.broken}
            reg = cls._collect_once(pm)
            if {n for n, i in pm.infos.items() if i.broken} == broken_before:
                return reg

    @classmethod
    def _collect_once(cls, pm) -> "Registry":
        reg = cls()
        for hook, method in (("jwcal_register_steps", reg._add_step),
                             ("jwcal_register_pipelines", reg._add_pipeline),
                             ("jwcal_register_exptypes", reg._add_route)):
            for impl in getattr(pm.hook, hook).get_hookimpls():
                name = impl.plugin_name
                info = pm.infos.get(name)
                if info is not None and info.broken:
                    continue
                label = info.label if info else name

                def register(*args, _m=method, _l=label, _n=name, **kwargs):
                    return _m(_l, _n, *args, **kwargs)

                try:
                    impl.function(register)
                except PluginError:
                    raise
                except Exception as exc:
                    if info is not None:
                        info.error = f"{hook} raised {type(exc).__name__}: {exc}"
                        from .plugins import _warn_broken

                        _warn_broken(info)
                    else:
                        raise
        reg._validate_pipelines(pm)
        reg._stamp(pm)
        return reg

    def _add_step(self, label, plugin, step_cls):
        from .runner.step import Step

        if not (inspect.isclass(step_cls) and issubclass(step_cls, Step)):
            raise PluginError(f"{label} registered {step_cls!r}, which is not a Step subclass")
        name = step_cls.name
        if not name:
            raise PluginError(f"{label} registered step class {step_cls.__name__} without a name")
        if name in self.steps and self.steps[name] is not step_cls:
            raise PluginError(
                f"step name {name!r} is registered by both {self.step_owner[name]} and {label}; "
                f"refer to one as '<distribution>::{name}'")
        self.steps[name] = step_cls
        self.step_owner[name] = label
        self.step_plugin[name] = plugin
        dist = label.split("==")[0]
        self.steps[f"{dist}::{name}"] = step_cls

    def _add_pipeline(self, label, plugin, spec):
        key = (spec.name, spec.instrument)
        if key in self.pipelines and self.pipelines[key] is not spec:
            raise PluginError(
                f"pipeline {spec.name!r} for {spec.instrument or 'any instrument'} is registered by both "
                f"{self.pipeline_owner[key]} and {label}")
        self.pipelines[key] = spec
        self.pipeline_owner[key] = label
        self.pipeline_plugin[key] = plugin
        for alias in (spec.name, *spec.aliases):
            self.pipeline_aliases[alias] = spec.name

    def _add_route(self, label, plugin, exp_type, instrument, stage1=None, stage2=None, stage3=None,
                   per_integration=False):
        exp_type = exp_type.upper()
        if exp_type in self.routes and self.routes[exp_type].plugin_name != plugin:
            raise PluginError(f"EXP_TYPE {exp_type} is claimed by both {self.routes[exp_type].plugin} and {label}")
        self.routes[exp_type] = ExpTypeRoute(exp_type, instrument.upper(), {1: stage1, 2: stage2, 3: stage3}, label,
                                             plugin, bool(per_integration))

    def _validate_pipelines(self, pm):
        """A pipeline naming an unknown step is dropped and its plugin reported broken."""
        for key, spec in list(self.pipelines.items()):
            missing = [s for s in spec.step_names if s not in self.steps]
            if not missing:
                continue
            self.pipeline_owner.pop(key)
            plugin = self.pipeline_plugin.pop(key)
            del self.pipelines[key]
            msg = (f"pipeline {spec.name!r} names unknown step(s) {', '.join(map(repr, missing))}"
                   + _suggest(missing[0], self.steps))
            info = pm.infos.get(plugin)
            if info is not None:
                info.error = msg
                from .plugins import _warn_broken

                _warn_broken(info)

    def _stamp(self, pm):
        for name, info in pm.infos.items():
            info.steps = sorted(n for n, o in self.step_plugin.items() if o == name and "::" not in n)
            info.pipelines = sorted({f"{k[0]}[{k[1] or '*'}]" for k, o in self.pipeline_plugin.items() if o == name})
            info.exp_types = sorted(r.exp_type for r in self.routes.values() if r.plugin_name == name)
            info.instruments = sorted({r.instrument for r in self.routes.values() if r.plugin_name == name})

    # -- lookup ------------------------------------------------------------------------
    def step(self, name: str):
        try:
            return self.steps[name]
        except KeyError:
            raise ParameterError(f"unknown step {name!r}" + _suggest(name, self.steps)) from None

    def pipeline(self, name: str, instrument: str | None = None):
        canonical = self.pipeline_aliases.get(name)
        if canonical is None:
            raise ParameterError(f"unknown pipeline {name!r}" + _suggest(name, self.pipeline_aliases))
        inst = instrument.upper() if instrument else None
        spec = self.pipelines.get((canonical, inst)) or self.pipelines.get((canonical, None))
        if spec is None:
            have = sorted(i for (n, i) in self.pipelines if n == canonical and i)
            raise ParameterError(
                f"pipeline {canonical!r} has no variant for instrument {instrument!r} "
                f"(installed: {', '.join(have) or 'none'}); is the instrument's plugin installed?")
        return spec

    def route(self, exp_type: str) -> ExpTypeRoute:
        route = self.routes.get((exp_type or "").upper())
        if route is None:
            raise ParameterError(
                f"no installed plugin handles EXP_TYPE {exp_type!r}; installed EXP_TYPEs: "
                f"{', '.join(sorted(self.routes)) or 'none'} (see 'jwcal plugins')")
        return route


def _suggest(name, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
