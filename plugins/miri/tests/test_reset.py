"""MIRI reset-anomaly subtraction against jwst 3.0.0 reset_sub.

Tolerance: float32 rtol 1e-6 (measured bit-identical); DQ identical.
"""

import numpy as np
import pytest

from jwcore import dq
from jwcal_miri.algorithms.reset import subtract_reset


def make(nints, ngroups, rnints, rngroups, seed=0, ny=8, nx=10):
    rng = np.random.default_rng(seed)
    data = rng.normal(500, 30, size=(nints, ngroups, ny, nx)).astype(np.float32)
    pdq = np.zeros((ny, nx), np.uint32)
    pdq[rng.random((ny, nx)) < 0.2] = dq.HOT
    ref = rng.normal(0, 10, size=(rnints, rngroups, ny, nx)).astype(np.float32)
    ref[rng.random(ref.shape) < 0.05] = np.nan
    rdq = np.zeros((ny, nx), np.uint32)
    rdq[rng.random((ny, nx)) < 0.2] = dq.DO_NOT_USE | dq.UNRELIABLE_BIAS
    return data, pdq, ref, rdq


def jwst_reset(data, pdq, ref, rdq, integration_start=None):
    pytest.importorskip("jwst")
    from stdatamodels.jwst.datamodels import RampModel, ResetModel

    from jwst.reset import reset_sub

    model = RampModel(data=data.copy(), pixeldq=pdq.copy())
    model.meta.exposure.nints = data.shape[0]
    model.meta.exposure.ngroups = data.shape[1]
    if integration_start is not None:
        model.meta.exposure.integration_start = integration_start
        model.meta.exposure.integration_end = integration_start + data.shape[0] - 1
    rmodel = ResetModel(data=ref.copy(), dq=rdq.copy())
    rmodel.meta.exposure.nints = ref.shape[0]
    rmodel.meta.exposure.ngroups = ref.shape[1]
    model = reset_sub.do_correction(model, rmodel)
    return model.data, model.pixeldq


@pytest.mark.parity
@pytest.mark.parametrize(
    "nints,ngroups,rnints,rngroups,istart",
    [(1, 5, 2, 3, None), (3, 4, 2, 6, None), (2, 3, 1, 3, None), (2, 4, 3, 2, 2)],
)
def test_parity(nints, ngroups, rnints, rngroups, istart):
    data, pdq, ref, rdq = make(nints, ngroups, rnints, rngroups, seed=nints + ngroups)
    jd, jp = jwst_reset(data, pdq, ref, rdq, istart)
    od, op = data.copy(), pdq.copy()
    ref_before = ref.copy()
    subtract_reset(od, op, ref, rdq, integration_start=istart)
    np.testing.assert_allclose(od, jd, rtol=1e-6, atol=1e-6 * np.abs(jd).max())
    assert np.array_equal(op, jp)
    assert np.array_equal(ref, ref_before, equal_nan=True)  # reference not modified


def test_rules_without_jwst():
    data = np.full((3, 3, 1, 2), 10.0, np.float32)
    pdq = np.zeros((1, 2), np.uint32)
    ref = np.zeros((2, 2, 1, 2), np.float32)
    ref[0, 0] = 1.0
    ref[0, 1] = [2.0, np.nan]
    ref[1, 0] = 3.0
    rdq = np.array([[dq.HOT, 0]], np.uint32)
    subtract_reset(data, pdq, ref, rdq)
    assert np.all(data[0, 0] == 9.0)
    assert list(data[0, 1, 0]) == [8.0, 10.0]  # NaN counts as 0
    assert np.all(data[1:, 0] == 7.0)  # integrations past the reference use its last
    assert np.all(data[:, 2] == 10.0)  # groups past the reference untouched
    assert list(pdq[0]) == [dq.HOT, 0]
