"""pytest helpers for plugin authors (loaded as the ``jwcal`` pytest plugin).

Fixtures:

* ``jwcal_pm`` - an isolated plugin manager with jwcal's built-in plugins only (entry-point
  autoload blocked), installed as the process-wide manager for the test and restored after.
  Register your plugin on it: ``jwcal_pm.register_plugin(my_plugin, name="mine")``.
* ``jwcal_hook_calls`` - a list that records every hook call made through ``jwcal_pm`` as
  ``(hook_name, kwargs)``.

Example::

    from jwcore import hookimpl

    class MyPlugin:
        @hookimpl
        def jwcal_register_steps(register):
            register(MyStep)

    def test_registers(jwcal_pm):
        jwcal_pm.register_plugin(MyPlugin, name="mine", distribution="jwcal-mine")
        assert "my_step" in jwcal_pm.registry.steps
"""

from __future__ import annotations

import pytest

from .plugins import make_plugin_manager, set_plugin_manager


@pytest.fixture
def jwcal_pm(monkeypatch):
    monkeypatch.setenv("JWCAL_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("JWCAL_LOAD_PLUGINS", raising=False)
    pm = make_plugin_manager(autoload=False)
    old = set_plugin_manager(pm)
    try:
        yield pm
    finally:
        set_plugin_manager(old)


@pytest.fixture
def jwcal_hook_calls(jwcal_pm):
    calls: list = []

    def before(hook_name, hook_impls, kwargs):
        calls.append((hook_name, dict(kwargs)))

    def after(outcome, hook_name, hook_impls, kwargs):
        pass

    undo = jwcal_pm.add_hookcall_monitoring(before, after)
    try:
        yield calls
    finally:
        undo()
