"""Every hook spec has a docstring with an example and a section in docs/plugins.md."""

import inspect
import re
from pathlib import Path

from jwcore import hookspecs

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def _specs():
    return [(n, f) for n, f in vars(hookspecs).items()
            if n.startswith("jwcal_") and callable(f) and hasattr(f, "jwcal_spec")]


def test_there_are_hooks():
    names = {n for n, _ in _specs()}
    assert {"jwcal_register_steps", "jwcal_register_pipelines", "jwcal_register_exptypes",
            "jwcal_select_reference", "jwcal_build_wcs", "jwcal_register_commands",
            "jwcal_before_step", "jwcal_after_step", "jwcal_reference_match_keys"} <= names


def test_every_hook_has_docstring_with_example():
    for name, func in _specs():
        doc = inspect.getdoc(func) or ""
        assert len(doc) > 80, f"{name} has no real docstring"
        assert "Example" in doc and "hookimpl" in doc, f"{name}'s docstring has no example"
        for param in inspect.signature(func).parameters:
            assert param in doc, f"{name}'s docstring does not describe {param!r}"


def test_every_hook_is_in_plugins_md_with_its_signature():
    text = DOC.read_text()
    for name, func in _specs():
        sig = f"{name}({', '.join(inspect.signature(func).parameters)})"
        assert re.search(rf"^#+ .*{re.escape(sig)}", text, re.M), f"docs/plugins.md lacks a heading '{sig}'"
