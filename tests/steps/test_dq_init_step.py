"""dq_init step: parity with jwst 3.0.0 DQInitStep (uncal input, MASK with DQ_DEF cut to
the subarray, user-supplied DQ, N/A).  DQ identical, SCI untouched."""

import numpy as np
import pytest
from astropy.io import fits

pytest.importorskip("jwst")
from jwst.dq_init import DQInitStep  # noqa: E402

from jwcore import dq  # noqa: E402

from .stepkit import (  # noqa: E402
    MIRI, assert_keywords, assert_ramp_parity, file_dq, reference, run_jwcal, run_jwst, science,
)

pytestmark = pytest.mark.parity


def _mask(tmp_path, inst=None, shape=(64, 64), seed=1):
    rng = np.random.default_rng(seed)
    raw = file_dq(rng, shape, ["DO_NOT_USE", "DEAD", "HOT", "REFERENCE_PIXEL", "OTHER_BAD_PIXEL"])
    kw = {} if inst is None else {"inst": inst}
    return reference(tmp_path / "mask.fits", "MaskModel", dq=raw, **kw)


@pytest.mark.parametrize("nints", [1, 2])
def test_subarray_mask_like_jwst(jwcal_pm, tmp_path, nints):
    mask = _mask(tmp_path)
    path = science(tmp_path / "x_uncal.fits", nints=nints, ngroups=3, shape=(24, 40), xstart=9, ystart=5)
    theirs = run_jwst(DQInitStep, path, override_mask=mask)
    mine = run_jwcal(jwcal_pm, "dq_init", path, override_mask=mask)
    assert_ramp_parity(mine, theirs, rtol=0, arrays=("data", "groupdq", "pixeldq"))
    assert_keywords(mine, theirs, "dq_init", ["mask"])
    assert mine.meta.cal_step.dq_init == "COMPLETE"
    assert (mine.pixeldq & dq.DEAD).any() and (mine.groupdq & dq.DO_NOT_USE).any()
    assert (mine.pixeldq & dq.OTHER_BAD_PIXEL).any()


def test_user_supplied_dq_and_miri(jwcal_pm, tmp_path):
    mask = _mask(tmp_path, inst=MIRI, shape=(16, 20))
    user = np.zeros((16, 20), np.uint32)
    user[3, 4] = dq.HOT
    user[5, 6] = dq.DO_NOT_USE
    upath = tmp_path / "user_dq.fits"
    fits.PrimaryHDU(user).writeto(upath)
    path = science(tmp_path / "x_uncal.fits", inst=MIRI, nints=2, ngroups=4, shape=(16, 20), subarray="SUB64")
    theirs = run_jwst(DQInitStep, path, override_mask=mask, user_supplied_dq=str(upath))
    mine = run_jwcal(jwcal_pm, "dq_init", path, override_mask=mask, user_supplied_dq=str(upath))
    assert_ramp_parity(mine, theirs, rtol=0, arrays=("data", "groupdq", "pixeldq"))
    assert mine.pixeldq[3, 4] & dq.HOT and np.all(mine.groupdq[:, :, 5, 6] & dq.DO_NOT_USE)


def test_na_mask_skips(jwcal_pm, tmp_path):
    path = science(tmp_path / "x_uncal.fits", ngroups=3)
    theirs = run_jwst(DQInitStep, path, override_mask="N/A")
    mine = run_jwcal(jwcal_pm, "dq_init", path, override_mask="N/A")
    assert mine.meta.cal_step.dq_init == theirs.meta.cal_step.dq_init == "SKIPPED"
    assert_ramp_parity(mine, theirs, rtol=0, arrays=("data", "groupdq", "pixeldq"))


def test_guider_like_model_updates_its_dq(jwcal_pm, tmp_path):
    """A product declaring one DQ array and no PIXELDQ (FGS guiding modes) keeps its type and
    gets the mask in DQ, as jwst does for its FGS guide-star EXP_TYPEs (GuiderRawModel.dq)."""
    from jwcore.datamodel.models import ArraySpec, Level1bModel

    class GuiderLike(Level1bModel):
        model_type = "GuiderLikeForTest"
        array_specs = Level1bModel.array_specs + (ArraySpec("dq", "DQ", "uint32", 2),)

    mask = _mask(tmp_path, shape=(8, 8))
    model = GuiderLike(data=np.ones((2, 3, 8, 8), np.uint16))
    model.meta.instrument.name = "FGS"
    model.meta.instrument.detector = "GUIDER1"
    model.meta.subarray.xstart = model.meta.subarray.ystart = 1
    out = jwcal_pm.registry.step("dq_init")(override_mask=mask).run(model).model
    assert out is model and out.meta.cal_step.dq_init == "COMPLETE"
    from stdatamodels.jwst import datamodels as dm

    with dm.MaskModel(mask) as jw_mask:  # stdatamodels decodes the DQ_DEF layout
        np.testing.assert_array_equal(out.dq, jw_mask.dq)
    assert out.dq.any()
