"""gain_scale: GAINFACT rescaling of SCI/ERR/variances, parity with jwst (bit-identical)."""

import numpy as np
import pytest

from jwcore.steps.gain_scale import apply_gain_scale


def test_variances_scale_with_square():
    data = np.full((2, 3), 2.0, np.float32)
    err = np.full((2, 3), 1.0, np.float32)
    vp = np.full((2, 3), 4.0, np.float32)
    vr = np.full((2, 3), 9.0, np.float32)
    apply_gain_scale(data, err, 2.0, var_poisson=vp, var_rnoise=vr)
    assert np.all(data == 4.0) and np.all(err == 2.0)
    assert np.all(vp == 16.0) and np.all(vr == 36.0)


@pytest.mark.parity
@pytest.mark.parametrize("shape", [(32, 32), (2, 32, 32)])
def test_parity_with_jwst(shape):
    pytest.importorskip("jwst")
    from jwst.gain_scale.gain_scale import do_correction
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(2)
    arrays = {k: rng.uniform(0.1, 50, shape).astype(np.float32) for k in ("data", "err", "var_poisson", "var_rnoise")}
    cls = datamodels.ImageModel if len(shape) == 2 else datamodels.CubeModel
    model = cls(**{k: v.copy() for k, v in arrays.items()})
    factor = 2.0384
    do_correction(model, factor)

    mine = {k: v.copy() for k, v in arrays.items()}
    apply_gain_scale(mine["data"], mine["err"], factor, var_poisson=mine["var_poisson"], var_rnoise=mine["var_rnoise"])
    # tolerance: exact
    for k in arrays:
        np.testing.assert_array_equal(mine[k], getattr(model, k), err_msg=k)
        assert not np.array_equal(mine[k], arrays[k])
