"""Products get the usual file mode (not mkstemp's private 0600), and a reference that does not
cover the exposure is a one-line ReferenceFileError naming the file (still a ValueError)."""

import os
import stat

import numpy as np
import pytest

from jwcore.atomic import atomic_path
from jwcore.errors import ReferenceFileError
from jwcore.steps._refs import cutout


def test_products_are_written_with_mode_from_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_path(tmp_path / "x_cal.fits") as tmp:
            tmp.write_bytes(b"data")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "x_cal.fits").stat().st_mode)
    assert mode == 0o640            # 0666 & ~0027; mkstemp alone would leave 0600


def test_reference_too_small_for_the_window_names_the_file():
    ref = np.zeros((10, 10), np.float32)
    ref_meta = {"filename": "jwst_nircam_gain_0001.fits", "subarray.xstart": 1, "subarray.ystart": 1}
    sci_meta = {"subarray.xstart": 1, "subarray.ystart": 1}
    with pytest.raises(ReferenceFileError, match="jwst_nircam_gain_0001.fits.*outside the reference") as info:
        cutout(ref, ref_meta, sci_meta, (64, 64))
    assert isinstance(info.value, ValueError)
    assert cutout(ref, ref_meta, sci_meta, (4, 4)).shape == (4, 4)
