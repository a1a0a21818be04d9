"""Discovery by entry-point metadata: listing, broken plugins, allow-list, autoload switch,
duplicate names."""

import importlib

import numpy as np
import sys
import textwrap

import pytest

from jwcore import hookimpl
from jwcore.errors import PluginError
from jwcore.plugins import make_plugin_manager
from jwcore.runner import Step

from . import toy_plugin


def make_distribution(site, dist, version, modules: dict, entry_points: dict):
    """A minimal installed distribution (dist-info + modules) under ``site``."""
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    eps = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[jwcal.plugins]\n{eps}\n")
    for name, code in modules.items():
        (site / f"{name}.py").write_text(textwrap.dedent(code))


@pytest.fixture
def site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("JWCAL_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("JWCAL_LOAD_PLUGINS", raising=False)
    yield site
    importlib.invalidate_caches()
    for mod in ("good_plugin", "broken_plugin", "other_plugin"):
        sys.modules.pop(mod, None)


GOOD = """
from jwcore import hookimpl
from jwcore.runner import Step

class HelloStep(Step):
    name = "hello"
    def process(self, model, refs):
        return model

@hookimpl
def jwcal_register_steps(register):
    register(HelloStep)

@hookimpl
def jwcal_register_exptypes(register):
    register("HELLO_IMAGE", "HELLOCAM", stage1=None, stage2=None, stage3=None)
"""


def test_discovery_lists_good_and_broken(site):
    make_distribution(site, "jwcal-good", "1.2.3", {"good_plugin": GOOD}, {"good": "good_plugin"})
    make_distribution(site, "jwcal-broken", "0.0.1", {"broken_plugin": "import does_not_exist_xyz\n"},
                      {"broken": "broken_plugin"})
    importlib.invalidate_caches()
    with pytest.warns(RuntimeWarning, match=r"jwcal-broken==0\.0\.1"):
        pm = make_plugin_manager()
    reg = pm.registry
    assert "hello" in reg.steps and reg.step_owner["hello"] == "jwcal-good==1.2.3"
    good, broken = pm.infos["good"], pm.infos["broken"]
    assert not good.broken and good.version == "1.2.3" and good.steps == ["hello"]
    assert good.instruments == ["HELLOCAM"] and good.exp_types == ["HELLO_IMAGE"]
    assert broken.broken and "does_not_exist_xyz" in broken.error


def test_allow_list_and_autoload_switch(site, monkeypatch):
    make_distribution(site, "jwcal-good", "1.0", {"good_plugin": GOOD}, {"good": "good_plugin"})
    importlib.invalidate_caches()
    monkeypatch.setenv("JWCAL_LOAD_PLUGINS", "")
    assert "good" not in make_plugin_manager().infos
    monkeypatch.setenv("JWCAL_LOAD_PLUGINS", "jwcal-good")
    assert "good" in make_plugin_manager().infos
    monkeypatch.delenv("JWCAL_LOAD_PLUGINS")
    monkeypatch.setenv("JWCAL_DISABLE_PLUGIN_AUTOLOAD", "1")
    pm = make_plugin_manager()
    assert "good" not in pm.infos
    assert all(i.builtin for i in pm.infos.values())


def test_duplicate_step_names_error_names_both(jwcal_pm):
    class Dup(Step):
        name = "toy_add"

        def process(self, model, refs):
            return model

    class Other:
        @hookimpl
        def jwcal_register_steps(self, register):
            register(Dup)

    jwcal_pm.register_plugin(toy_plugin, name="toy", distribution="jwcal-toy", version="1.0")
    jwcal_pm.register_plugin(Other(), name="other", distribution="jwcal-other", version="2.0")
    with pytest.raises(PluginError) as err:
        jwcal_pm.registry
    assert "jwcal-toy==1.0" in str(err.value) and "jwcal-other==2.0" in str(err.value)


def test_qualified_step_name(jwcal_pm):
    jwcal_pm.register_plugin(toy_plugin, name="toy", distribution="jwcal-toy", version="1.0")
    reg = jwcal_pm.registry
    assert reg.step("jwcal-toy::toy_add") is reg.step("toy_add")


def test_pipeline_with_unknown_step_marks_plugin_broken(jwcal_pm):
    from jwcore.runner import PipelineSpec

    class Bad:
        @hookimpl
        def jwcal_register_pipelines(self, register):
            register(PipelineSpec("bad1", ("no_such_step",), instrument="X", stage=1))

    with pytest.warns(RuntimeWarning, match="no_such_step"):
        jwcal_pm.register_plugin(Bad(), name="bad", distribution="jwcal-bad", version="0.1")
        reg = jwcal_pm.registry
    assert jwcal_pm.infos["bad"].broken and ("bad1", "X") not in reg.pipelines


def test_hook_signature_mismatch_is_broken(jwcal_pm):
    class Wrong:
        @hookimpl
        def jwcal_register_steps(self, register, extra_argument):
            pass

    with pytest.warns(RuntimeWarning, match="jwcal-wrong"):
        info = jwcal_pm.register_plugin(Wrong(), name="wrong", distribution="jwcal-wrong", version="0.1")
    assert info.broken


def test_instrument_plugins_are_entry_points():
    """The shipped instruments register like any third-party plugin (when installed)."""
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="jwcal.plugins")}
    if not names:
        pytest.skip("instrument plugins not installed in this environment")
    assert {"nircam", "niriss", "nirspec", "miri", "fgs"} <= names


def test_instrument_declares_not_applicable_reftypes(jwcal_pm):
    from jwcore.datamodel import ImageModel
    from jwcore.instrument import InstrumentPlugin
    from jwcore.refs import select_reference

    jwcal_pm.register_plugin(InstrumentPlugin("TOYCAM", not_applicable=frozenset({"reset"})), name="toycam")
    m = ImageModel(data=np.zeros((2, 2), np.float32))
    m.meta.instrument.name = "TOYCAM"
    assert select_reference(jwcal_pm, "reset", m.meta) is None          # N/A, not an error
    m.meta.instrument.name = "OTHERCAM"
    with pytest.raises(Exception, match="no reset reference"):
        select_reference(jwcal_pm, "reset", m.meta, store="/nonexistent-store")
