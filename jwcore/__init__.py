"""jwcal core: hook specs, plugin manager, data models, step/pipeline runner, CLI."""

from .hookspecs import hookimpl

try:
    from importlib.metadata import version as _version

    __version__ = _version("jwcal")
except Exception:  # running from a source tree that is not installed
    __version__ = "0.1.0.dev0"

__all__ = ["hookimpl", "__version__"]
