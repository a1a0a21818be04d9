"""The plugin manager: built-in features, installed plugins, discovery and isolation.

* ``DEFAULT_PLUGINS`` are jwcal's own features (generic steps, the local reference store);
  they register through the same hooks as any third-party plugin.
* Installed plugins are found by entry-point metadata in the group ``jwcal.plugins`` (the
  instrument plugins ``jwcal-nircam`` ... are ordinary such distributions).
* A plugin that fails to import or to register is listed as *broken* with its error and a
  warning naming ``package==version``; the others load and the CLI keeps working.
* ``JWCAL_LOAD_PLUGINS=a,b`` loads only those entry points (by entry-point or distribution
  name; empty: none); ``JWCAL_DISABLE_PLUGIN_AUTOLOAD=1`` loads no entry point at all;
  ``JWCAL_TRACE_PLUGINS=1`` logs every hook call.

The manager is created lazily, once per process (:func:`get_plugin_manager`).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import warnings
from dataclasses import dataclass, field

import pluggy

from . import hookspecs
from .hookspecs import PROJECT

log = logging.getLogger("jwcal.plugins")

ENTRY_POINT_GROUP = "jwcal.plugins"
DEFAULT_PLUGINS = (
    "jwcore.builtin.generic_steps",
    "jwcore.builtin.generic_pipelines",
    "jwcore.refs.local_store",
    "jwcore.refs.crds_selector",
)


@dataclass
class PluginInfo:
    """One loaded (or broken) plugin, as ``jwcal plugins`` shows it."""

    name: str
    distribution: str
    version: str
    module: str
    builtin: bool = False
    error: str | None = None
    steps: list[str] = field(default_factory=list)
    pipelines: list[str] = field(default_factory=list)
    exp_types: list[str] = field(default_factory=list)
    instruments: list[str] = field(default_factory=list)

    @property
    def broken(self) -> bool:
        return self.error is not None

    @property
    def label(self) -> str:
        return f"{self.distribution}=={self.version}"


class JwcalPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers where each plugin came from."""

    def __init__(self):
        super().__init__(PROJECT)
        self.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self._registry = None

    # -- loading -----------------------------------------------------------------------
    def register_plugin(self, plugin, name: str, distribution: str = "jwcal", version: str | None = None,
                        builtin: bool = False) -> PluginInfo:
        """Register ``plugin`` (module or object) under ``name``, recording its distribution."""
        from . import __version__

        info = PluginInfo(name=name, distribution=distribution, version=version or __version__,
                          module=getattr(plugin, "__name__", None) or type(plugin).__module__, builtin=builtin)
        try:
            self.register(plugin, name=name)
        except Exception as exc:  # pluggy validation errors, duplicate names
            info.error = f"{type(exc).__name__}: {exc}"
            _warn_broken(info)
        self.infos[name] = info
        self._registry = None
        return info

    def unregister_plugin(self, name: str) -> None:
        plugin = self.get_plugin(name)
        if plugin is not None:
            self.unregister(plugin, name=name)
        self.infos.pop(name, None)
        self._registry = None

    def load_defaults(self) -> None:
        for modname in DEFAULT_PLUGINS:
            module = importlib.import_module(modname)
            self.register_plugin(module, name=modname, builtin=True)

    def load_entrypoints(self) -> None:
        """Load the ``jwcal.plugins`` entry points that the environment allows."""
        if os.environ.get("JWCAL_DISABLE_PLUGIN_AUTOLOAD"):
            return
        allow = os.environ.get("JWCAL_LOAD_PLUGINS")
        allowed = None if allow is None else {a.strip() for a in allow.split(",") if a.strip()}
        for ep, dist_name, version in _entry_points():
            if allowed is not None and ep.name not in allowed and dist_name not in allowed:
                continue
            if self.get_plugin(ep.name) is not None or ep.name in self.infos:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                info = PluginInfo(name=ep.name, distribution=dist_name, version=version, module=ep.value,
                                  error=f"{type(exc).__name__}: {exc}")
                self.infos[ep.name] = info
                _warn_broken(info)
                continue
            self.register_plugin(plugin, name=ep.name, distribution=dist_name, version=version)

    # -- what plugins registered -------------------------------------------------------
    @property
    def registry(self):
        """Steps, pipelines and EXP_TYPE routes from all plugins (built on first use)."""
        if self._registry is None:
            from .registry import Registry

            self._registry = Registry.collect(self)
        return self._registry

    def plugin_name_of(self, impl_plugin) -> str:
        for name, plugin in self.list_name_plugin():
            if plugin is impl_plugin:
                return name
        return "?"


def _entry_points():
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        name = dist.metadata["Name"] if dist is not None else ep.module.split(".")[0]
        version = dist.version if dist is not None else "unknown"
        yield ep, name, version


def _warn_broken(info: PluginInfo) -> None:
    msg = f"jwcal plugin {info.label} ({info.name}) failed to load and is disabled: {info.error}"
    log.warning(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=3)


_PM: JwcalPluginManager | None = None


def make_plugin_manager(autoload: bool = True) -> JwcalPluginManager:
    """A new manager with the built-in plugins and (if ``autoload``) the installed ones."""
    pm = JwcalPluginManager()
    if os.environ.get("JWCAL_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda s: sys.stderr.write(s))
        pm.enable_tracing()
    pm.load_defaults()
    if autoload:
        pm.load_entrypoints()
    pm.check_pending()
    return pm


def get_plugin_manager() -> JwcalPluginManager:
    """The process-wide manager, created on first call."""
    global _PM
    if _PM is None:
        _PM = make_plugin_manager()
    return _PM


def set_plugin_manager(pm: JwcalPluginManager | None) -> JwcalPluginManager | None:
    """Swap the process-wide manager (used by ``jwcore.testing``); returns the old one."""
    global _PM
    old, _PM = _PM, pm
    return old
