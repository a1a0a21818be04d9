"""refpix with ``refpix_algorithm="sirs"`` (Simple Improved Reference Subtraction): parity with
jwst 3.0.0 (``jwst.refpix.optimized_convolution`` and ``RefPixStep``).

Pieces (fast): the kernels (``make_kernels``: complex64 and complex128 coefficients, several
``gaussmooth``/``halfwidth``), the per-detector lookup (``get_conv_kernel_coeffs``) and the
template on one 2048 x 2048 plane (``apply_conv_kernel``: outliers, a NaN side pixel).

Whole step: a synthetic full-frame NIRCam ramp (1 integration x 2 groups, 1/f-like row noise
common to the side reference columns and the amplifiers, outliers and DO_NOT_USE pixels among
the side columns) and a synthetic SIRSKERNEL reference written with stdatamodels'
``SIRSKernelModel`` (ASDF; smooth low-pass ``gamma``/``zeta`` per amplifier), both steps on
the same file.  SCI within rtol 1e-6 (measured: bit-identical, max difference 0), PIXELDQ and
GROUPDQ identical, S_REFPIX equal; the ZEROFRAME too (bit-identical).  Also the fall-backs to
the running median: SIRSKERNEL N/A, and (``slow``) a detector missing from the reference.
NIRISS (transposed readout) with other parameters, two integrations and a ZEROFRAME is
``slow`` (measured: bit-identical as well).
"""

import numpy as np
import pytest

pytest.importorskip("jwst")
from jwst.refpix import RefPixStep  # noqa: E402
from jwst.refpix import optimized_convolution as joc  # noqa: E402
from stdatamodels.jwst import datamodels as dm  # noqa: E402

from jwcore import dq  # noqa: E402
from jwcore.steps.refpix import sirs  # noqa: E402
from jwcore.steps.refpix.nir import correct_nir  # noqa: E402

from .stepkit import NIRCAM, assert_keywords, assert_ramp_parity, run_jwcal, run_jwst, science  # noqa: E402

pytestmark = pytest.mark.parity

RTOL = 1e-6
NIS = dict(NIRCAM, instrument="NIRISS", detector="NIS", exp_type="NIS_IMAGE", fastaxis=-2, slowaxis=-1,
           filter="CLEAR", pupil="F150W", readpatt="NISRAPID")


def _coefficients(rng, scale, dtype=np.complex64, nfreq=1025, nchan=4):
    """Smooth low-pass filter spectra, a different one per amplifier."""
    f = np.arange(nfreq) / (2.0 * (nfreq - 1))
    out = []
    for c in range(nchan):
        amp = (scale + 0.1 * c) * np.exp(-((f / 0.04) ** 2)) + 0.03
        phase = rng.uniform(-0.3, 0.3) * np.sin(f * (20 + 7 * c))
        out.append(amp * np.exp(1j * phase))
    return np.array(out).astype(dtype)


def _kernel_tree(seed=0, detectors=("nrca1", "nis"), dtype=np.complex64):
    rng = np.random.default_rng(seed)
    return {d: {"gamma": _coefficients(rng, 0.6, dtype), "zeta": _coefficients(rng, 0.35, dtype)} for d in detectors}


def _sirskernel_file(path, tree):
    m = dm.SIRSKernelModel()
    for det, arrays in tree.items():
        setattr(m, det, arrays)
    meta = m.meta
    meta.instrument.name = "NIRCAM"
    meta.instrument.detector = "ANY"
    meta.reftype = "SIRSKERNEL"
    meta.useafter = "2020-01-01T00:00:00"
    meta.pedigree = "DUMMY"
    meta.author = "jwcal tests"
    meta.description = "synthetic SIRS kernel for parity tests"
    meta.telescope = "JWST"
    m.save(str(path))
    m.close()
    return str(path)


@pytest.fixture(scope="module")
def kernel_ref(tmp_path_factory):
    return _sirskernel_file(tmp_path_factory.mktemp("sirs") / "sirskernel.asdf", _kernel_tree())


# ------------------------------------------------------------------------------ pieces
@pytest.mark.parametrize("dtype,gaussmooth,halfwidth", [(np.complex64, 1.0, 30), (np.complex128, 2.5, 12),
                                                        (np.complex64, 0.7, 45)])
def test_kernels_match_jwst(dtype, gaussmooth, halfwidth):
    tree = _kernel_tree(3, dtype=dtype)
    model = dm.SIRSKernelModel()
    model.nrca1 = tree["nrca1"]
    theirs = joc.make_kernels(model, "NRCA1", gaussmooth, halfwidth)
    gamma, zeta = sirs.find_sirs_coefficients(tree, "NRCA1")
    assert gamma.dtype == dtype
    mine = sirs.sirs_kernels(gamma, zeta, gaussmooth=gaussmooth, halfwidth=halfwidth)
    assert mine.nchan == 4
    for a, b in zip(mine.left + mine.right, theirs[0] + theirs[1]):
        assert a.dtype == b.dtype == np.float64 and a.shape == (2 * halfwidth + 1,)
        np.testing.assert_array_equal(a, b)
    assert joc.make_kernels(model, "NRCB4", gaussmooth, halfwidth) is None
    assert sirs.find_sirs_coefficients(tree, "NRCB4") is None
    assert sirs.find_sirs_coefficients({"nrcb4": {"gamma": gamma}}, "NRCB4") is None   # no zeta


def _plane(rng):
    plane = rng.normal(1000, 4, (2048, 2048)).astype(np.float32)
    noise = np.cumsum(rng.normal(0, 1, 2048)).astype(np.float32)                  # 1/f-like rows
    plane += noise[:, None]
    plane[:, :4] += rng.normal(0, 2, (2048, 4)).astype(np.float32)
    plane[rng.integers(0, 2048, 30), rng.integers(0, 4, 30)] += np.float32(5e3)     # left outliers
    plane[rng.integers(0, 2048, 30), 2044 + rng.integers(0, 4, 30)] -= np.float32(3e3)
    return plane


@pytest.mark.parametrize("sigreject,nan", [(4.0, False), (2.5, False), (4.0, True)])
def test_template_matches_apply_conv_kernel(sigreject, nan):
    rng = np.random.default_rng(5)
    tree = _kernel_tree(1)
    model = dm.SIRSKernelModel()
    model.nrca1 = tree["nrca1"]
    plane = _plane(rng)
    if nan:
        plane[700, 2046] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        theirs = joc.apply_conv_kernel(plane, joc.make_kernels(model, "NRCA1", 1.0, 30), sigreject=sigreject)
    kernels = sirs.sirs_kernels(*sirs.find_sirs_coefficients(tree, "nrca1"))
    template = sirs.sirs_template(plane[:, :4], plane[:, -4:], kernels, sigreject=sigreject)
    assert template.shape == (2048, 4) and template.dtype == np.float64
    mine = plane.astype(np.float64)
    for c, cs in enumerate(sirs.sirs_column_slices(4, 2048)):
        mine[:, cs] -= template[:, c, None]
    np.testing.assert_array_equal(np.isnan(mine), np.isnan(theirs))
    np.testing.assert_array_equal(mine, theirs)
    if nan:
        assert np.isnan(mine).all()            # jwst: a NaN side pixel makes the median NaN
    else:
        assert np.isfinite(mine).all() and not np.array_equal(template[:, 0], template[:, 1])


def test_flat_spectrum_gives_mean_of_good_side_pixels():
    """Independent check: a flat spectrum (gamma = zeta = 0.5) without smoothing is a single tap,
    so each row's template is half the mean of the good left plus half the mean of the good
    right pixels; outliers beyond ``sigreject`` MAD-sigmas are left out, DQ is not used."""
    rng = np.random.default_rng(8)
    flat = np.full((4, 1025), 0.5 + 0j, np.complex64)
    kernels = sirs.sirs_kernels(flat, flat, gaussmooth=1e-3, halfwidth=5)
    np.testing.assert_allclose(kernels.left[0], np.eye(1, 11, 5)[0] * 0.5, atol=1e-7)
    left = rng.normal(100, 1, (64, 4))
    right = rng.normal(-50, 1, (64, 4))
    left[10, 2] = 1e4
    right[20, 0] = -1e4
    template = sirs.sirs_template(left, right, kernels, sigreject=4.0)
    good_l = np.ones_like(left, bool)
    good_l[10, 2] = False
    good_r = np.ones_like(right, bool)
    good_r[20, 0] = False
    expected = 0.5 * (left * good_l).sum(1) / good_l.sum(1) + 0.5 * (right * good_r).sum(1) / good_r.sum(1)
    for c in range(4):
        np.testing.assert_allclose(template[:, c], expected, rtol=1e-5)
    assert abs(template[10, 0] - 25) < 2 and abs(template[20, 0] - 25) < 2


def test_correct_nir_sirs_scope():
    """SIRS needs the side correction and a full frame: without ``use_side_ref_pixels`` or on a
    one-output subarray it changes nothing (as jwst); a four-output subarray is refused."""
    kernels = sirs.sirs_kernels(*sirs.find_sirs_coefficients(_kernel_tree(), "nrca1"))
    rng = np.random.default_rng(9)
    data = rng.normal(1000, 5, (1, 2, 16, 2048)).astype(np.float32)
    pdq = np.zeros((16, 2048), np.uint32)
    pdq[:4] = pdq[:, :4] = pdq[:, -4:] = dq.REFERENCE_PIXEL
    kw = dict(fastaxis=-1, slowaxis=2, xstart=1, ystart=1)
    for noutputs, side in ((4, False), (1, True)):
        a, b = data.copy(), data.copy()
        correct_nir(a, pdq, noutputs=noutputs, use_side_ref_pixels=side, refpix_algorithm="sirs",
                    sirs_kernels=kernels, **kw)
        correct_nir(b, pdq, noutputs=noutputs, use_side_ref_pixels=side, **kw)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, data)
    with pytest.raises(ValueError, match="2048"):
        correct_nir(data.copy(), pdq, noutputs=4, refpix_algorithm="sirs", sirs_kernels=kernels, **kw)
    with pytest.raises(ValueError, match="sirs_kernels"):
        correct_nir(data.copy(), pdq, noutputs=4, refpix_algorithm="sirs", **kw)


# -------------------------------------------------------------------------- whole step
def _full_frame(path, inst, *, nints=1, ngroups=2, seed=0, zeroframe=False):
    rng = np.random.default_rng(seed)
    shape = (nints, ngroups, 2048, 2048)
    data = rng.normal(0, 5, shape).astype(np.float32)
    data += (11000 + rng.normal(0, 30, (2048, 2048))).astype(np.float32)            # bias pattern
    data += np.arange(ngroups, dtype=np.float32)[None, :, None, None] * 40
    data += np.repeat(rng.normal(0, 25, 4), 512).astype(np.float32)[None, None, None, :]   # amp offsets
    rows = np.cumsum(rng.normal(0, 1.5, (nints, ngroups, 2048)), axis=-1).astype(np.float32)
    data += rows[..., None] if abs(inst["fastaxis"]) == 1 else rows[..., None, :]   # 1/f along slow axis
    hits = rng.random(shape) < 0.001
    data[hits] += rng.uniform(300, 5000, hits.sum()).astype(np.float32)
    pdq = np.zeros((2048, 2048), np.uint32)
    pdq[:4] |= dq.REFERENCE_PIXEL
    pdq[-4:] |= dq.REFERENCE_PIXEL
    pdq[:, :4] |= dq.REFERENCE_PIXEL
    pdq[:, -4:] |= dq.REFERENCE_PIXEL
    pdq[rng.random((2048, 2048)) < 0.01] |= dq.DO_NOT_USE
    gdq = np.zeros(shape, np.uint8)
    gdq[rng.random(shape) < 0.001] = dq.GROUP["SATURATED"]
    zf = None
    if zeroframe:
        zf = (data[:, 0] - 20).astype(np.float32)
        zf[:, 100:110, 300] = 0.0
    return science(path, kind="ramp", inst=inst, nints=nints, ngroups=ngroups, shape=(2048, 2048),
                   subarray="FULL", noutputs=4, data=data, pixeldq=pdq, groupdq=gdq, zeroframe=zf)


def _run_both(jwcal_pm, path, **params):
    theirs = run_jwst(RefPixStep, path, **params)
    mine = run_jwcal(jwcal_pm, "refpix", path, **params)
    worst = assert_ramp_parity(mine, theirs, rtol=RTOL, arrays=("data", "groupdq", "pixeldq"))
    assert mine.meta.cal_step.refpix == theirs.meta.cal_step.refpix == "COMPLETE"
    return mine, theirs, worst


def test_sirs_step_matches_jwst(jwcal_pm, tmp_path, kernel_ref):
    """NRCA1 full frame with a ZEROFRAME, default SIRS parameters: bit-identical."""
    path = _full_frame(tmp_path / "x_nrca1_ramp.fits", NIRCAM, zeroframe=True)
    mine, theirs, worst = _run_both(jwcal_pm, path, refpix_algorithm="sirs", override_sirskernel=kernel_ref)
    assert worst == 0.0
    assert assert_ramp_parity(mine, theirs, rtol=RTOL, arrays=("zeroframe",)) == 0.0
    assert np.all(mine.zeroframe[:, 100:110, 300] == 0.0)
    assert_keywords(mine, theirs, "refpix", reftypes=("sirskernel",))
    # SIRS really ran: it differs from the running median
    median = run_jwcal(jwcal_pm, "refpix", path)
    assert np.abs(np.asarray(median.data, np.float64) - mine.data).max() > 0.1


def test_sirs_without_kernel_falls_back_like_jwst(jwcal_pm, tmp_path):
    """SIRSKERNEL N/A: jwst (and jwcal) use the running median of the side pixels."""
    path = _full_frame(tmp_path / "x_na_ramp.fits", NIRCAM, seed=2)
    mine, theirs, _ = _run_both(jwcal_pm, path, refpix_algorithm="sirs", override_sirskernel="N/A")
    assert_keywords(mine, theirs, "refpix", reftypes=("sirskernel",))
    median = run_jwcal(jwcal_pm, "refpix", path)
    np.testing.assert_array_equal(mine.data, median.data)


@pytest.mark.slow
def test_sirs_detector_missing_falls_back_like_jwst(jwcal_pm, tmp_path, kernel_ref):
    """A SIRSKERNEL without the exposure's detector (NRCA2): running median, as jwst."""
    path = _full_frame(tmp_path / "x_nrca2_ramp.fits", dict(NIRCAM, detector="NRCA2", fastaxis=1, slowaxis=-2),
                       seed=4)
    mine, _, _ = _run_both(jwcal_pm, path, refpix_algorithm="sirs", override_sirskernel=kernel_ref)
    median = run_jwcal(jwcal_pm, "refpix", path)
    np.testing.assert_array_equal(mine.data, median.data)


@pytest.mark.slow
@pytest.mark.parametrize("odd_even,params", [
    (True, dict(sigreject=3.0, gaussmooth=2.0, halfwidth=20)),
    (False, dict(sigreject=5.0, gaussmooth=1.0, halfwidth=40)),
])
def test_sirs_step_options_match_jwst(jwcal_pm, tmp_path, kernel_ref, odd_even, params):
    """NIRISS (transposed readout), two integrations, ZEROFRAME, other SIRS parameters."""
    path = _full_frame(tmp_path / "x_nis_ramp.fits", NIS, nints=2, ngroups=2, seed=6, zeroframe=True)
    mine, theirs, _ = _run_both(jwcal_pm, path, refpix_algorithm="sirs", override_sirskernel=kernel_ref,
                                odd_even_columns=odd_even, **params)
    assert_ramp_parity(mine, theirs, rtol=RTOL, arrays=("zeroframe",))
    median = run_jwcal(jwcal_pm, "refpix", path, odd_even_columns=odd_even)
    assert np.abs(np.asarray(median.data, np.float64) - mine.data).max() > 0.1     # SIRS ran
    assert np.all(mine.zeroframe[:, 100:110, 300] == 0.0)
