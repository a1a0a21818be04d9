"""``jwcal plugin new NAME``: a ready-to-install plugin project (also documented in docs/plugins.md)."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import JwcalError

PYPROJECT = '''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "A jwcal plugin"
requires-python = ">=3.10"
dependencies = ["jwcal"]

[project.optional-dependencies]
test = ["pytest"]

[project.entry-points."jwcal.plugins"]
{short} = "{pkg}.plugin"

[tool.setuptools]
packages = ["{pkg}"]
'''

PLUGIN = '''"""{dist}: a jwcal plugin.  Hooks: see jwcal's docs/plugins.md."""

import numpy as np

from jwcore import hookimpl
from jwcore.runner import Param, Step


def scale_array(data, factor):
    """The pure algorithm: no I/O, no logging set-up."""
    return (data * np.float32(factor)).astype(np.float32)


class ScaleStep(Step):
    """Multiply SCI (and ERR) by a constant."""

    name = "{short}_scale"
    description = "Multiply SCI and ERR by a factor"
    spec = (Param("factor", float, 1.0, "Multiplier"),)

    def process(self, model, refs):
        model.data = scale_array(model.data, self.factor)
        if model.has("err"):
            model.err = scale_array(model.err, abs(self.factor))
        return model


@hookimpl
def jwcal_register_steps(register):
    register(ScaleStep)
'''

TEST = '''import numpy as np

from jwcore.datamodel import ImageModel
from {pkg}.plugin import ScaleStep
from {pkg} import plugin


def test_step_scales(jwcal_pm):
    jwcal_pm.register_plugin(plugin, name="{short}", distribution="{dist}")
    assert jwcal_pm.registry.step("{short}_scale") is ScaleStep
    model = ImageModel(data=np.ones((4, 4), np.float32))
    out = ScaleStep(factor=2.5).run(model).model
    assert np.allclose(out.data, 2.5)
    assert out.meta.cal_step.{short}_scale == "COMPLETE"
'''


def write_template(name: str, output_dir: Path) -> Path:
    short = re.sub(r"[^a-z0-9_]", "_", name.lower().removeprefix("jwcal-").removeprefix("jwcal_"))
    if not short or not short[0].isalpha():
        raise JwcalError(f"plugin name {name!r} must start with a letter")
    dist = f"jwcal-{short.replace('_', '-')}"
    pkg = f"jwcal_{short}"
    root = Path(output_dir) / dist
    if root.exists():
        raise JwcalError(f"{root} already exists")
    (root / pkg).mkdir(parents=True)
    (root / "tests").mkdir()
    fmt = {"dist": dist, "pkg": pkg, "short": short}
    (root / "pyproject.toml").write_text(PYPROJECT.format(**fmt))
    (root / pkg / "__init__.py").write_text(f'"""{dist}."""\n')
    (root / pkg / "plugin.py").write_text(PLUGIN.format(**fmt))
    (root / "tests" / f"test_{short}.py").write_text(TEST.format(**fmt))
    (root / "README.md").write_text(f"# {dist}\n\nA jwcal plugin. `pip install -e .` then `jwcal plugins`.\n")
    return root
