"""group_scale: FRMDIVSR/NFRAMES rescaling, parity with jwst (float32 bit-identical)."""

import numpy as np
import pytest

from jwcore.steps.group_scale import apply_group_scale, group_scale_factor


def test_factor_rules():
    # the step is needed only when both keywords exist and differ
    assert group_scale_factor(5, 4) == pytest.approx(0.8)
    assert group_scale_factor(3, 2) == pytest.approx(2 / 3)
    assert group_scale_factor(4, 4) is None
    assert group_scale_factor(None, 4) is None
    assert group_scale_factor(5, None) is None
    assert group_scale_factor(4, None) is None


def test_skip_leaves_data_alone():
    data = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    before = data.copy()
    assert apply_group_scale(data, 4, 4) is None
    np.testing.assert_array_equal(data, before)


@pytest.mark.parity
@pytest.mark.parametrize("nframes, divisor", [(5, 4), (3, 2), (7, 8)])
def test_parity_with_jwst(nframes, divisor):
    pytest.importorskip("jwst")
    from jwst.group_scale.group_scale import do_correction
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(1)
    data = rng.normal(1000, 300, (2, 5, 32, 32)).astype(np.float32)
    model = datamodels.RampModel(data=data.copy())
    model.meta.exposure.nframes = nframes
    model.meta.exposure.frame_divisor = divisor
    do_correction(model)

    mine = data.copy()
    assert apply_group_scale(mine, nframes, divisor) == pytest.approx(divisor / nframes)
    assert mine.dtype == np.float32
    # tolerance: exact (same float32 arithmetic)
    np.testing.assert_array_equal(mine, model.data)
    assert not np.array_equal(mine, data)
