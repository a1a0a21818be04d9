"""`jwcal plugin new` writes a plugin that installs, is discovered, and whose test passes."""

import importlib
import subprocess
import sys

import pytest

from jwcore.plugin_template import write_template


def test_template_registers_through_fixture(tmp_path, jwcal_pm, monkeypatch):
    root = write_template("destripe", tmp_path)
    assert (root / "pyproject.toml").read_text().count('destripe = "jwcal_destripe.plugin"') == 1
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    plugin = importlib.import_module("jwcal_destripe.plugin")
    jwcal_pm.register_plugin(plugin, name="destripe", distribution="jwcal-destripe")
    assert "destripe_scale" in jwcal_pm.registry.steps
    sys.modules.pop("jwcal_destripe.plugin", None)
    sys.modules.pop("jwcal_destripe", None)


@pytest.mark.slow
def test_template_installs_and_is_discovered(tmp_path):
    root = write_template("hello", tmp_path)
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--target", str(target), str(root)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    code = ("import sys; sys.path.insert(0, %r); from jwcore.plugins import make_plugin_manager; "
            "pm = make_plugin_manager(); print(pm.infos['hello'].label, pm.registry.step('hello_scale').name)") % str(target)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "jwcal-hello==0.1.0 hello_scale" in r.stdout
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
                       capture_output=True, text=True, timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(target)})
    assert r.returncode == 0, r.stdout + r.stderr
