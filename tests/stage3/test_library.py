"""ModelLibrary: members changed by a step are seen by later opens; inputs are never touched."""

from __future__ import annotations

import numpy as np
import pytest

from jwcore.datamodel import ImageModel, open_model

from .synth import library


@pytest.fixture()
def members(tmp_path):
    paths = []
    for i in range(3):
        m = ImageModel(meta={"filename": f"e{i}_cal.fits", "instrument": {"name": "NIRCAM"},
                             "wcsinfo": {"ra_ref": 10.0 + i, "s_region": "old"}},
                       data=np.full((8, 9), float(i), np.float32))
        p = tmp_path / f"e{i}_cal.fits"
        m.save(p)
        paths.append(p)
    return tmp_path, paths


def test_update_meta_is_applied_on_every_open(members):
    folder, paths = members
    lib = library(paths, folder)
    assert lib.meta.wcsinfo.ra_ref == 10.0
    lib.update_meta(0, {"wcsinfo.s_region": "POLYGON new", "cal_step.tweakreg": "COMPLETE"})
    lib.update_meta(2, {"wcsinfo": {"ra_ref": 99.0}})
    assert lib.meta.wcsinfo.s_region == "POLYGON new"          # the cached first-member meta is refreshed
    with lib.open(0) as m:
        assert m.meta.wcsinfo.s_region == "POLYGON new" and m.meta.wcsinfo.ra_ref == 10.0
        assert m.meta.cal_step.tweakreg == "COMPLETE"
        m.meta.wcsinfo.s_region = "changed inside the block"    # not kept: the member is not replaced
    with lib.open(0) as m:
        assert m.meta.wcsinfo.s_region == "POLYGON new"
    with lib.open(2) as m:
        assert m.meta.wcsinfo.to_dict() == {"ra_ref": 99.0}
    assert lib.pending_meta(0)["cal_step.tweakreg"] == "COMPLETE"
    assert [m.meta.wcsinfo.ra_ref for m in lib] == [10.0, 11.0, 99.0]
    with open_model(paths[0]) as m:                            # the file is untouched
        assert m.meta.wcsinfo.s_region == "old" and "tweakreg" not in m.meta.cal_step


def test_replace_and_modify_write_a_scratch_copy(members):
    folder, paths = members
    lib = library(paths, folder)
    lib.update_meta(1, {"cal_step.skymatch": "COMPLETE"})
    with lib.open(1, modify=True) as m:
        m.data = m.data + 5.0
    assert lib.paths[1] != paths[1] and lib.paths[1].parent == lib.scratch
    assert lib.paths[1].name == paths[1].name and lib.pending_meta(1) == {}
    with lib.open(1) as m:
        assert np.all(m.data == 6.0) and m.meta.cal_step.skymatch == "COMPLETE"
    with lib.open(1, modify=True) as m:                        # again, from the scratch copy
        m.data = m.data * 2
    with lib.open(1) as m:
        assert np.all(m.data == 12.0)
    with open_model(paths[1]) as m:
        assert np.all(m.data == 1.0)
    # an error inside the block keeps the previous version
    with pytest.raises(RuntimeError):
        with lib.open(1, modify=True) as m:
            m.data = m.data * 0
            raise RuntimeError("boom")
    with lib.open(1) as m:
        assert np.all(m.data == 12.0)
    # replace() with a model built elsewhere gets the pending metadata
    lib.update_meta(2, {"cal_step.outlier_detection": "COMPLETE"})
    new = ImageModel(meta={"filename": "x.fits"}, data=np.zeros((8, 9), np.float32))
    lib.replace(2, new)
    with lib.open(2) as m:
        assert m.meta.cal_step.outlier_detection == "COMPLETE" and np.all(m.data == 0)
    scratch = lib.scratch
    lib.cleanup()
    assert not scratch.exists() and lib.paths == paths


def test_bad_index(members):
    folder, paths = members
    lib = library(paths, folder)
    with pytest.raises(IndexError):
        lib.update_meta(3, {})
    with pytest.raises(IndexError):
        with lib.open(5):
            pass
