"""Built-in plugin: the steps every instrument shares (dq_init, jump, ramp_fit, ...).

Each lives in ``jwcore/steps/<family>/``: a thin ``*_step.py`` and a pure algorithm module.
"""

from __future__ import annotations

import importlib

from ..hookspecs import hookimpl

# "module:Class" of each generic step, imported when the registry is built.
GENERIC_STEPS: tuple[str, ...] = ()


def step_classes() -> list:
    out = []
    for target in GENERIC_STEPS:
        module, _, name = target.partition(":")
        out.append(getattr(importlib.import_module(module), name))
    return out


@hookimpl
def jwcal_register_steps(register):
    for cls in step_classes():
        register(cls)
