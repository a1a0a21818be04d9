"""refpix for NIRSpec IRS2 readouts: parity with jwst 3.0.0 (``RefPixStep`` IRS2 branch and
``jwst.refpix.irs2_subtract_reference``).

Pieces (fast, small arrays): the IRS2 masks, the bad-reference-row flagging and replacing
(``flag_bad_refpix``), the REFPIX DQ-table clobbering (``clobber_ref``).

Whole step (jwst's IRS2 code needs a full 3200 x 2048 frame and a 2 x 712 x 2048-row table):
a synthetic NRSIRS2RAPID ramp with a few bad interleaved reference rows (noisy, offset, one
read off, one flagged beforehand) and a normal row flagged BAD_REF_PIXEL, a synthetic IRS2
REFPIX reference (alpha/beta low-pass spectra and a DQ table) written with stdatamodels, both
steps on the same file.  SCI within rtol 1e-6 (measured: bit-identical, max difference 0 --
jwcal calls numpy's single-precision FFTs on the same time lines as jwst), PIXELDQ/GROUPDQ
identical, shapes identical (2048 rows, or 3200 with ``preserve_irs2_refpix``).
"""

from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.refpix import RefPixStep  # noqa: E402
from jwst.refpix import irs2_subtract_reference as jirs2  # noqa: E402
from stdatamodels.jwst import datamodels as dm  # noqa: E402

from jwcore import dq  # noqa: E402
from jwcore.steps._irs2 import irs2_normal_rows  # noqa: E402
from jwcore.steps.refpix import irs2  # noqa: E402

from .stepkit import max_rel, run_jwcal, run_jwst  # noqa: E402

pytestmark = pytest.mark.parity

AXES = {"NRS1": (2, 1), "NRS2": (-2, -1)}
RTOL = 1e-6


# ------------------------------------------------------------------------------ pieces
@pytest.mark.parametrize("n,r", [(16, 4), (16, 2), (8, 4)])
def test_masks_match_jwst(n, r):
    mine = irs2.irs2_normal_mask(3200, 2048, n, r)
    np.testing.assert_array_equal(mine, jirs2.make_irs2_mask(3200, 2048, n, r))
    if (n, r) == (16, 4):
        assert mine.sum() == 2048
        np.testing.assert_array_equal(mine, irs2_normal_rows(3200, n, r))
        np.testing.assert_array_equal(irs2.irs2_dms_rows(-2), mine[::-1])


def _ref_rows(n=16, r=4):
    return np.flatnonzero(~irs2.irs2_normal_mask(3200, 2048, n, r)[640:]) + 640


def _small_ramp(rng, nints=2, ngroups=3, ncols=48):
    data = rng.normal(1000, 4, (nints, ngroups, 3200, ncols)).astype(np.float32)
    pdq = np.zeros((3200, ncols), np.uint32)
    refrows = np.flatnonzero(~irs2.irs2_normal_mask())
    data[:, :, 1288, :] += rng.normal(0, 200, (nints, ngroups, ncols)).astype(np.float32)  # noisy
    data[:, :, 1930, :] += 300.0        # offset pair (1930, 1931)
    data[:, :, 1931, :] += 300.0
    data[-1, :, 2610, :] += 90.0        # one read of a pair off, last integration only
    data[:, :, 28, :] += 150.0          # in the reference output
    pdq[1310, 7] |= dq.BAD_REF_PIXEL    # flagged beforehand (interleaved row)
    pdq[2000, 3] |= dq.BAD_REF_PIXEL    # a normal row flagged: jwst replaces it too
    assert 1310 in refrows and 2000 not in refrows
    return data, pdq


def test_flag_and_replace_bad_refpix_match_jwst():
    rng = np.random.default_rng(1)
    data, pdq = _small_ramp(rng)
    theirs = SimpleNamespace(data=data.copy(), pixeldq=pdq.copy(),
                             meta=SimpleNamespace(exposure=SimpleNamespace(nrs_normal=16, nrs_reference=4)))
    jirs2.flag_bad_refpix(theirs, n_sigma=3.0, flag_only=True)
    mine_d, mine_p = data.copy(), pdq.copy()
    bad = irs2.flag_bad_refpix(mine_d, mine_p, n_sigma=3.0)
    np.testing.assert_array_equal(mine_p, theirs.pixeldq)
    np.testing.assert_array_equal(mine_d, data)           # flagging does not touch the data
    for row in (1288, 1289, 1930, 1931, 2610, 2611, 28, 29, 1310, 2000):
        assert bad[row], row
    assert bad.sum() < 30

    jirs2.flag_bad_refpix(theirs, replace_only=True)
    count = irs2.replace_bad_refpix(mine_d, mine_p)
    assert count == bad.sum()
    np.testing.assert_array_equal(mine_d, theirs.data)
    assert not np.array_equal(mine_d, data)


@pytest.mark.parametrize("detector", ["NRS1", "NRS2"])
def test_clobber_matches_jwst(detector):
    rng = np.random.default_rng(2)
    data, pdq = _small_ramp(rng, nints=1, ngroups=2, ncols=16)
    pdq[:] = 0
    pdq[1290, 0] |= dq.BAD_REF_PIXEL   # already flagged: left alone by the DQ table
    output = np.array([1, 1, 2, 2, 3, 4], np.uint16)
    odd_even = np.array([1, 2, 1, 2, 2, 1], np.uint16)
    mask = np.array([0b101, 1 << 31, 1 << 3 | 1, 0, 1 << 7 | 1 << 8, 1 << 30], np.uint32)

    det = irs2._to_detector(data.copy(), *AXES[detector])
    pdq_det = irs2._to_detector(pdq, *AXES[detector])
    flags = np.any(pdq_det & dq.BAD_REF_PIXEL, axis=0)
    is_ref = ~jirs2.make_irs2_mask(3200, 16, 16, 4)
    is_ref[:640] = is_ref[1280:1920]
    jirs2.clobber_ref(det, output, odd_even, mask, flags, is_ref)

    mine = data.copy()
    irs2.clobber_bad_refpix(mine, pdq, output, odd_even, mask, fastaxis=AXES[detector][0],
                             slowaxis=AXES[detector][1])
    np.testing.assert_array_equal(irs2._to_detector(mine, *AXES[detector]), det)
    assert not np.array_equal(mine, data)


@pytest.mark.parametrize("detector,odd_even", [("NRS1", True), ("NRS2", False)])
def test_mean_subtraction_matches_jwst(detector, odd_even):
    """``irs2_mean_subtraction``: jwst's near-IR top/bottom correction on IRS2 sections."""
    from jwst.refpix import reference_pixels

    rng = np.random.default_rng(4)
    data = rng.normal(1000, 5, (1, 1, 3200, 2048)).astype(np.float32)
    data += np.repeat(rng.normal(0, 30, 5), 640).astype(np.float32)[None, None, :, None]  # per output
    data[..., 1::4, :] += 7.0          # odd/even structure
    pdq = np.zeros((3200, 2048), np.uint32)
    pdq[:, :4] |= dq.REFERENCE_PIXEL
    pdq[:, -4:] |= dq.REFERENCE_PIXEL
    pdq[::13, 2] |= dq.DO_NOT_USE
    data[0, 0, ::13, 2] = 1e6          # unusable and wild
    m = dm.RampModel(data=data.copy())
    m.pixeldq = pdq.copy()
    m.meta.instrument.name = "NIRSPEC"
    m.meta.instrument.detector = detector
    m.meta.exposure.nrs_normal, m.meta.exposure.nrs_reference = 16, 4
    m.meta.subarray.xstart = m.meta.subarray.ystart = 1
    m.meta.subarray.xsize, m.meta.subarray.ysize = 2048, 2048
    m.meta.subarray.fastaxis, m.meta.subarray.slowaxis = AXES[detector]
    kernel = dict(refpix_algorithm="median", sirs_kernel_model=None, sigreject=4.0, gaussmooth=1.0, halfwidth=30)
    reference_pixels.correct_model(m, odd_even, False, 11, 1.0, True, kernel, 3.0)

    mine = data.copy()
    irs2.mean_subtract_irs2(mine, pdq, fastaxis=AXES[detector][0], slowaxis=AXES[detector][1],
                            odd_even_columns=odd_even, siglimit=3.0)
    np.testing.assert_array_equal(mine, m.data)
    assert np.abs(mine - data).max() > 10


# -------------------------------------------------------------------------- whole step
def _irs2_reference(path):
    """Synthetic IRS2 REFPIX reference (the IRS2Model layout: an IRS2 table of interleaved real
    and imaginary alpha/beta parts, a DQ table), written with astropy: smooth low-pass
    spectra, beta ~ 1 and alpha ~ -0.3 at low frequencies."""
    from astropy.io import fits

    rng = np.random.default_rng(7)
    n = 712 * 2048
    f = np.abs(np.fft.fftfreq(n)).astype(np.float32)
    lowpass = np.exp(-((f / np.float32(0.02)) ** 2)) + np.float32(0.02)
    columns = []
    for name, scale in (("alpha", -0.3), ("beta", 0.9)):
        for k in range(4):
            phase = np.float32(rng.uniform(-0.3, 0.3)) + np.float32(0.1) * np.sin(f * np.float32(40 * (k + 1)))
            amp = np.float32(scale + 0.05 * k) * lowpass
            inter = np.empty(2 * n, np.float32)
            inter[0::2], inter[1::2] = amp * np.cos(phase), amp * np.sin(phase)
            columns.append(fits.Column(name=f"{name}_{k}", format="E", array=inter))
    dq_rows = [(1, 1, 0b1001), (1, 2, 0), (2, 1, 1 << 20), (2, 2, 1 << 5 | 1 << 6), (3, 1, 0), (3, 2, 1 << 31),
               (4, 1, 0), (4, 2, 1 << 12)]
    out, odd_even, mask = (np.array(c) for c in zip(*dq_rows))
    dq_cols = [fits.Column(name="OUTPUT", format="I", bzero=32768, array=out.astype(np.uint16)),
               fits.Column(name="ODD_EVEN", format="I", bzero=32768, array=odd_even.astype(np.uint16)),
               fits.Column(name="MASK", format="J", bzero=2**31, array=mask.astype(np.uint32))]
    primary = fits.PrimaryHDU()
    for key, value in (("DATAMODL", "IRS2Model"), ("TELESCOP", "JWST"), ("INSTRUME", "NIRSPEC"), ("DETECTOR", "ANY"),
                       ("READPATT", "ANY"), ("REFTYPE", "REFPIX"), ("USEAFTER", "2020-01-01T00:00:00"),
                       ("PEDIGREE", "DUMMY"), ("AUTHOR", "jwcal tests"), ("DESCRIP", "synthetic IRS2 reference")):
        primary.header[key] = value
    hdus = [primary, fits.BinTableHDU.from_columns(columns, name="IRS2"),
            fits.BinTableHDU.from_columns(dq_cols, name="DQ")]
    fits.HDUList(hdus).writeto(str(path), overwrite=True)
    return str(path)


@pytest.fixture(scope="module")
def irs2_ref(tmp_path_factory):
    return _irs2_reference(tmp_path_factory.mktemp("irs2ref") / "irs2_refpix.fits")


def _irs2_ramp(path, detector, *, nints=1, ngroups=2, seed=0):
    rng = np.random.default_rng(seed)
    shape = (nints, ngroups, 3200, 2048)
    normal = irs2.irs2_dms_rows(AXES[detector][0])
    data = rng.normal(0, 6, shape).astype(np.float32)
    data += (12000 + rng.normal(0, 40, (3200, 2048))).astype(np.float32)           # bias pattern
    data += rng.normal(0, 8, (nints, ngroups, 1, 2048)).astype(np.float32)        # noise per detector row
    ramp = np.arange(1, ngroups + 1, dtype=np.float32)[None, :, None, None]
    flux = rng.uniform(5, 60, (3200, 2048)).astype(np.float32)
    data[:, :, normal, :] += (ramp * flux[None, None])[:, :, normal, :]
    refs = np.flatnonzero(~normal[640:3200] if detector == "NRS1" else ~normal[:2560])
    refs = refs + (640 if detector == "NRS1" else 0)
    pairs = refs[::2]
    data[:, :, pairs[5], :] += rng.normal(0, 300, (nints, ngroups, 2048)).astype(np.float32)
    data[:, :, pairs[40] : pairs[40] + 2, :] += 400.0
    data[:, -1, pairs[77], :] += 120.0
    pdq = np.zeros((3200, 2048), np.uint32)
    pdq[:, :4] |= dq.REFERENCE_PIXEL
    pdq[:, -4:] |= dq.REFERENCE_PIXEL
    pdq[::97, 1] |= dq.DO_NOT_USE
    pdq[pairs[100], 9] |= dq.BAD_REF_PIXEL
    pdq[np.flatnonzero(normal)[700], 2] |= dq.BAD_REF_PIXEL
    pdq[rng.random((3200, 2048)) < 0.001] |= dq.HOT
    gdq = np.zeros(shape, np.uint8)
    gdq[rng.random(shape) < 0.001] = dq.GROUP["SATURATED"]

    m = dm.RampModel(data=data)
    m.pixeldq = pdq
    m.groupdq = gdq
    meta = m.meta
    meta.instrument.name = "NIRSPEC"
    meta.instrument.detector = detector
    meta.instrument.filter = "F290LP"
    meta.instrument.grating = "G395H"
    meta.exposure.type = "NRS_FIXEDSLIT"
    meta.exposure.readpatt = "NRSIRS2RAPID"
    meta.exposure.nrs_normal = 16
    meta.exposure.nrs_reference = 4
    meta.exposure.nints = nints
    meta.exposure.ngroups = ngroups
    meta.exposure.nframes = 1
    meta.exposure.groupgap = 0
    meta.exposure.noutputs = 4
    meta.exposure.frame_time = 14.5889
    meta.exposure.group_time = 14.5889
    meta.exposure.start_time = 60000.5
    meta.exposure.end_time = 60000.51
    meta.exposure.zero_frame = False
    meta.subarray.name = "FULL"
    meta.subarray.xstart = meta.subarray.ystart = 1
    meta.subarray.xsize = meta.subarray.ysize = 2048
    meta.subarray.fastaxis, meta.subarray.slowaxis = AXES[detector]
    meta.observation.date = "2024-01-01"
    meta.observation.time = "12:00:00"
    meta.filename = path.name
    m.save(str(path))
    m.close()
    return path


def _compare(mine, theirs, preserve):
    assert mine.data.shape == theirs.data.shape
    assert mine.data.shape[-2] == (3200 if preserve else 2048)
    worst = max_rel(mine.data, theirs.data)
    assert worst <= RTOL, f"SCI: max relative difference {worst:g} > {RTOL:g}"
    for name in ("pixeldq", "groupdq"):
        a, b = np.asarray(getattr(mine, name)), np.asarray(getattr(theirs, name))
        assert a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert mine.meta.cal_step.refpix == theirs.meta.cal_step.refpix == "COMPLETE"
    return worst


def _run_both(jwcal_pm, path, ref, **params):
    theirs = run_jwst(RefPixStep, path, override_refpix=ref, **params)
    mine = run_jwcal(jwcal_pm, "refpix", path, override_refpix=ref, **params)
    return mine, theirs


def test_irs2_step_matches_jwst(jwcal_pm, tmp_path, irs2_ref):
    """NRS1, defaults (interleaved rows stripped), bad reference rows and a REFPIX DQ table."""
    path = _irs2_ramp(tmp_path / "x_nrs1_ramp.fits", "NRS1")
    mine, theirs = _run_both(jwcal_pm, path, irs2_ref)
    _compare(mine, theirs, preserve=False)
    # the interleaved rows are gone and the flagged normal row carries BAD_REF_PIXEL | DO_NOT_USE
    flagged = (mine.pixeldq & dq.BAD_REF_PIXEL) != 0
    assert flagged.any(axis=1).sum() == 1
    raw = dm.RampModel(str(path))
    assert not np.allclose(mine.data, raw.data[:, :, irs2.irs2_dms_rows(2), :], atol=1.0)
    raw.close()


@pytest.mark.slow
@pytest.mark.parametrize("detector,preserve,mean_sub,nints", [
    ("NRS2", False, True, 1),
    ("NRS1", True, False, 1),
    ("NRS2", True, True, 2),
])
def test_irs2_step_options_match_jwst(jwcal_pm, tmp_path, irs2_ref, detector, preserve, mean_sub, nints):
    path = _irs2_ramp(tmp_path / f"x_{detector}_ramp.fits", detector, nints=nints, seed=3)
    mine, theirs = _run_both(jwcal_pm, path, irs2_ref, preserve_irs2_refpix=preserve,
                             irs2_mean_subtraction=mean_sub, ovr_corr_mitigation_ftr=2.5)
    _compare(mine, theirs, preserve=preserve)


def test_irs2_without_reference_skips_like_jwst(jwcal_pm, tmp_path):
    """REFPIX N/A: SKIPPED after the flagging (and replacing), as jwst; shapes unchanged."""
    path = _irs2_ramp(tmp_path / "x_skip_ramp.fits", "NRS2", seed=5)
    mine, theirs = _run_both(jwcal_pm, path, "N/A", irs2_mean_subtraction=True)
    assert mine.meta.cal_step.refpix == theirs.meta.cal_step.refpix == "SKIPPED"
    assert mine.data.shape == theirs.data.shape == (1, 2, 3200, 2048)
    assert max_rel(mine.data, theirs.data) <= RTOL
    np.testing.assert_array_equal(mine.pixeldq, theirs.pixeldq)
    assert ((mine.pixeldq & dq.BAD_REF_PIXEL) != 0).any(axis=1).sum() > 3


def test_refpix_dq_table_with_a_bad_output_is_a_clear_error():
    """A REFPIX DQ table naming output 5 is a bad reference file (one-line BadInputError), not
    a crash inside the correction."""
    from jwcore.errors import BadInputError
    from jwcore.steps.refpix.refpix_step import _check_dq_table

    good = (np.array([1, 4]), np.array([1, 2]), np.array([3, 0], np.uint32))
    _check_dq_table("ref.fits", good)
    with pytest.raises(BadInputError, match="OUTPUT values must be 1-4.*5"):
        _check_dq_table("ref.fits", (np.array([1, 5]),) + good[1:])
