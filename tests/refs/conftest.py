"""Fixtures for the reference-selection tests."""

import pytest


@pytest.fixture
def inst_pm(jwcal_pm, monkeypatch):
    """An isolated plugin manager with the five instrument plugins; CRDS not configured."""
    from jwcal_fgs.plugin import plugin as fgs
    from jwcal_miri.plugin import plugin as miri
    from jwcal_nircam.plugin import plugin as nircam
    from jwcal_niriss.plugin import plugin as niriss
    from jwcal_nirspec.plugin import plugin as nirspec

    monkeypatch.delenv("CRDS_PATH", raising=False)
    monkeypatch.delenv("JWCAL_REFS", raising=False)
    for name, plugin in [("nircam", nircam), ("niriss", niriss), ("miri", miri), ("nirspec", nirspec), ("fgs", fgs)]:
        jwcal_pm.register_plugin(plugin, name=name, distribution=f"jwcal-{name}")
    return jwcal_pm
