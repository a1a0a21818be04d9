"""Built-in plugin: pipelines that are the same for every instrument that uses them
(stage-2 and stage-3 imaging).  Instrument plugins may register their own variant of the
same name, which then wins for that instrument."""

from __future__ import annotations

from ..hookspecs import hookimpl

GENERIC_PIPELINES: tuple = ()


@hookimpl
def jwcal_register_pipelines(register):
    for spec in GENERIC_PIPELINES:
        register(spec)
