"""dark_current step: parity with jwst 3.0.0 DarkCurrentStep: 3-D dark (matched, frame
averaged with GROUPGAP, extrapolated when short), 4-D MIRI dark, DQ_DEF, average dark
current (parameter / keyword), dark_output.  SCI within 1e-6 relative, DQ identical."""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.dark_current import DarkCurrentStep  # noqa: E402

from jwcore import dq  # noqa: E402
from jwcore.datamodel import DarkModel, open_model  # noqa: E402

from .stepkit import (  # noqa: E402
    MIRI, assert_keywords, assert_ramp_parity, file_dq, reference, run_jwcal, run_jwst, science,
)

pytestmark = pytest.mark.parity


def _dark3(tmp_path, rng, ngroups, shape=(24, 40), **meta):
    # jwst does not cut darks to the subarray (CRDS selects one per SUBARRAY): same window
    d = np.cumsum(rng.uniform(0, 2, (ngroups,) + shape), axis=0).astype(np.float32)
    d[:, 3, 3] = np.nan
    return reference(tmp_path / "dark.fits", "DarkModel", data=d,
                     dq=file_dq(rng, shape, ["UNRELIABLE_DARK", "HOT"]), xstart=9, ystart=5,
                     meta={"exposure.nframes": 1, "exposure.groupgap": 0, "exposure.ngroups": ngroups, **meta})


@pytest.mark.parametrize("nints,nframes,groupgap,dark_groups", [(1, 1, 0, 12), (2, 4, 1, 30), (2, 2, 0, 6)])
def test_nir_like_jwst(jwcal_pm, tmp_path, nints, nframes, groupgap, dark_groups):
    rng = np.random.default_rng(7)
    dark = _dark3(tmp_path, rng, dark_groups, **{"exposure.average_dark_current": 0.02})
    path = science(tmp_path / "x_ramp.fits", kind="ramp", nints=nints, ngroups=5, shape=(24, 40), xstart=9,
                   ystart=5, nframes=nframes, groupgap=groupgap, readpatt="BRIGHT2" if nframes == 2 else None)
    theirs = run_jwst(DarkCurrentStep, path, override_dark=dark)
    mine = run_jwcal(jwcal_pm, "dark_current", path, override_dark=dark)
    assert_ramp_parity(mine, theirs, rtol=1e-6)
    assert_keywords(mine, theirs, "dark_sub", ["dark"])
    assert mine.meta.cal_step.dark_sub == "COMPLETE"
    assert (mine.pixeldq & dq.UNRELIABLE_DARK).any()
    np.testing.assert_array_equal(mine.average_dark_current, theirs.average_dark_current)
    assert mine.average_dark_current[0, 0] == np.float32(0.02)


def test_miri_4d_dark_and_outputs(jwcal_pm, tmp_path):
    rng = np.random.default_rng(8)
    shape = (16, 20)
    d = np.cumsum(rng.uniform(0, 2, (2, 8) + shape), axis=1).astype(np.float32)
    dqa = np.zeros((2, 8) + shape, np.uint32)
    dqa[1, 0, 2, 2] = dq.UNRELIABLE_DARK
    dark = reference(tmp_path / "dark.fits", "DarkMIRIModel", data=d, dq=dqa, inst=MIRI,
                     meta={"exposure.nframes": 1, "exposure.groupgap": 0})
    path = science(tmp_path / "x_ramp.fits", kind="ramp", inst=MIRI, nints=3, ngroups=4, shape=shape,
                   subarray="SUB64")
    params = dict(override_dark=dark, average_dark_current=0.5, output_dir=str(tmp_path))
    theirs = run_jwst(DarkCurrentStep, path, dark_output="jwst_dark.fits", **params)
    mine = run_jwcal(jwcal_pm, "dark_current", path, dark_output="jwcal_dark.fits", **params)
    assert_ramp_parity(mine, theirs, rtol=1e-6)
    np.testing.assert_array_equal(mine.average_dark_current, theirs.average_dark_current)
    assert mine.pixeldq[2, 2] & dq.UNRELIABLE_DARK
    written = open_model(tmp_path / "jwcal_dark.fits", model_cls=DarkModel)
    expected = open_model(tmp_path / "jwst_dark.fits", model_cls=DarkModel)
    np.testing.assert_allclose(written.data, expected.data, rtol=1e-6)
    assert written.data.shape == expected.data.shape


def test_na_and_bigger_nframes_skip(jwcal_pm, tmp_path):
    rng = np.random.default_rng(9)
    dark = _dark3(tmp_path, rng, 12, **{"exposure.nframes": 4})
    path = science(tmp_path / "x_ramp.fits", kind="ramp", ngroups=3, shape=(24, 40), xstart=9, ystart=5)
    for override in ("N/A", dark):
        theirs = run_jwst(DarkCurrentStep, path, override_dark=override)
        mine = run_jwcal(jwcal_pm, "dark_current", path, override_dark=override)
        assert mine.meta.cal_step.dark_sub == theirs.meta.cal_step.dark_sub == "SKIPPED"
        assert_ramp_parity(mine, theirs, rtol=0)
