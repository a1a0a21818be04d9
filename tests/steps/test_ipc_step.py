"""ipc step: parity with jwst 3.0.0 IPCStep: 2-D kernel on near-IR and MIRI subarrays at
the detector corner (reference rows/columns from the readout layout), 4-D kernel cut to a
subarray.  SCI within 1e-6 relative (measured: identical), DQ untouched."""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.ipc import IPCStep  # noqa: E402

from jwcal_miri import plugin as miri_plugin  # noqa: E402
from jwcore.datamodel import open_model  # noqa: E402

from .stepkit import MIRI, assert_keywords, assert_ramp_parity, reference, run_jwcal, run_jwst, science  # noqa: E402

pytestmark = pytest.mark.parity

KERNEL = np.array([[0.0021, 0.0165, 0.0019], [0.0172, 0.9241, 0.0160], [0.0018, 0.0170, 0.0023]], np.float32)


def _ramp(tmp_path, nints, inst=None, **kw):
    kw = dict(kw, inst=inst) if inst else kw
    return science(tmp_path / "x_ramp.fits", kind="ramp", nints=nints, ngroups=3, **kw)


@pytest.mark.parametrize("nints", [1, 2])
def test_2d_kernel_nir_corner(jwcal_pm, tmp_path, nints):
    ipc = reference(tmp_path / "ipc.fits", "IPCModel", data=KERNEL)
    path = _ramp(tmp_path, nints, shape=(20, 24), xstart=1, ystart=2)
    theirs = run_jwst(IPCStep, path, override_ipc=ipc)
    mine = run_jwcal(jwcal_pm, "ipc", path, override_ipc=ipc)
    assert_ramp_parity(mine, theirs, rtol=1e-6)
    assert_keywords(mine, theirs, "ipc", ["ipc"])
    # the 3 reference rows at the bottom and 4 columns at the left are untouched, the rest is not
    before = np.asarray(open_model(path).data)
    np.testing.assert_array_equal(mine.data[..., :3, :], before[..., :3, :])
    np.testing.assert_array_equal(mine.data[..., :, :4], before[..., :, :4])
    assert not np.array_equal(mine.data[..., 3:, 4:], before[..., 3:, 4:])


def test_2d_kernel_miri_edge(jwcal_pm, tmp_path):
    jwcal_pm.register_plugin(miri_plugin.plugin, name="miri", distribution="jwcal-miri")
    ipc = reference(tmp_path / "ipc.fits", "IPCModel", data=KERNEL, inst=MIRI)
    path = _ramp(tmp_path, 2, inst=MIRI, shape=(16, 20), xstart=2, ystart=1, subarray="SUB64")
    theirs = run_jwst(IPCStep, path, override_ipc=ipc)
    mine = run_jwcal(jwcal_pm, "ipc", path, override_ipc=ipc)
    assert_ramp_parity(mine, theirs, rtol=1e-6)


def test_4d_kernel_subarray(jwcal_pm, tmp_path):
    rng = np.random.default_rng(5)
    k4 = np.broadcast_to(KERNEL[:, :, None, None], (3, 3, 48, 48)).copy()
    k4 *= rng.uniform(0.9, 1.1, k4.shape).astype(np.float32)
    ipc = reference(tmp_path / "ipc.fits", "IPCModel", data=k4)
    path = _ramp(tmp_path, 1, shape=(20, 24), xstart=3, ystart=2)
    theirs = run_jwst(IPCStep, path, override_ipc=ipc)
    mine = run_jwcal(jwcal_pm, "ipc", path, override_ipc=ipc)
    assert_ramp_parity(mine, theirs, rtol=1e-6)
