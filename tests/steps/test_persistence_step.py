"""persistence step: parity with jwst 3.0.0 PersistenceStep (its 3.0 algorithm: flag groups in
a persistence window opened by saturation or ``dn_threshold``).  jwst ignores ``skip`` when a
step is called on its own, so jwcal runs with ``skip=False`` here; by default it is SKIPPED.
GROUPDQ identical; saved persistence arrays identical."""

import asdf
import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.persistence import PersistenceStep  # noqa: E402

from jwcore import dq  # noqa: E402

from .stepkit import assert_ramp_parity, run_jwcal, run_jwst, science  # noqa: E402

pytestmark = pytest.mark.parity


def _ramp(tmp_path, nints=2, ngroups=6, name="x_ramp.fits"):
    rng = np.random.default_rng(50)
    shape = (16, 20)
    full = (nints, ngroups) + shape
    data = np.cumsum(rng.uniform(10, 4000, full), axis=1).astype(np.float32)
    gdq = np.zeros(full, np.uint8)
    first = rng.integers(0, ngroups + 4, (nints,) + shape)
    for g in range(ngroups):
        gdq[:, g][first <= g] |= dq.SATURATED
    return science(tmp_path / name, kind="ramp", nints=nints, ngroups=ngroups, shape=shape, data=data, groupdq=gdq)


@pytest.mark.parametrize("nints,params", [
    (1, {"persistence_time": 30}),
    (2, {"persistence_time": 100, "dn_threshold": 15000.0}),
    (2, {"persistence_time": 1000, "persistence_dnu": True}),
])
def test_flags_like_jwst(jwcal_pm, tmp_path, nints, params):
    path = _ramp(tmp_path, nints=nints)
    theirs = run_jwst(PersistenceStep, path, **params)
    mine = run_jwcal(jwcal_pm, "persistence", path, skip=False, **params)
    assert_ramp_parity(mine, theirs, rtol=0)
    assert mine.meta.cal_step.persistence == theirs.meta.cal_step.persistence == "COMPLETE"
    assert (mine.groupdq & dq.PERSISTENCE).any()


def test_persistence_array_carried_between_exposures(jwcal_pm, tmp_path):
    first = _ramp(tmp_path, nints=1, name="a_ramp.fits")
    second = science(tmp_path / "b_ramp.fits", kind="ramp", nints=1, ngroups=4, shape=(16, 20),
                     start_time=60000.5 + 200 / 86400)
    for who, run in (("jwst", lambda p, **k: run_jwst(PersistenceStep, p, **k)),
                     ("jwcal", lambda p, **k: run_jwcal(jwcal_pm, "persistence", p, skip=False, **k))):
        store = str(tmp_path / f"{who}_pers.asdf")
        run(first, persistence_time=1000, save_persistence=store)
        out = run(second, persistence_time=1000, persistence_array_file=store)
        if who == "jwst":
            theirs = out
            with asdf.open(store) as af:
                their_tree = {k: np.asarray(af.tree["NRCA1"][k]) for k in ("rows", "cols", "vals")}
        else:
            mine = out
            with asdf.open(store) as af:
                for k, v in their_tree.items():
                    np.testing.assert_array_equal(np.asarray(af.tree["NRCA1"][k]), v)
    assert_ramp_parity(mine, theirs, rtol=0)
    assert (mine.groupdq & dq.PERSISTENCE).any()


def test_default_skip_and_failed(jwcal_pm, tmp_path):
    path = _ramp(tmp_path, nints=1)
    assert run_jwcal(jwcal_pm, "persistence", path).meta.cal_step.persistence == "SKIPPED"
    theirs = run_jwst(PersistenceStep, path)
    mine = run_jwcal(jwcal_pm, "persistence", path, skip=False)
    assert mine.meta.cal_step.persistence == theirs.meta.cal_step.persistence == "FAILED"
