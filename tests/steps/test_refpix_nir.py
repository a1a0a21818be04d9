"""NIR reference-pixel correction: jwcore.steps.refpix.nir against jwst 3.0.0.

Parity tolerance: float32 data within rtol 1e-6 (plus atol 1e-6 x the largest |value|
for values near zero).  Measured: bit-identical in every case here.  DQ must be
identical (refpix does not touch it).
"""

import os

import numpy as np
import pytest

from jwcore import dq
from jwcore.steps.refpix.nir import (
    correct_nir,
    correct_nir_zeroframe,
    detector_to_dms,
    dms_to_detector,
    subarray_detector_origin,
)

AXES = {
    "NRCA1": (-1, 2),
    "NRCA2": (1, -2),
    "NRCB1": (1, -2),
    "NRCALONG": (-1, 2),
    "NIS": (-2, -1),
    "GUIDER1": (-2, -1),
    "GUIDER2": (2, -1),
    "NRS1": (2, 1),
    "NRS2": (-2, -1),
}
INSTRUMENT = {"NRC": "NIRCAM", "NIS": "NIRISS", "GUI": "FGS", "NRS": "NIRSPEC"}
REFDNU = dq.REFERENCE_PIXEL | dq.DO_NOT_USE


# ----------------------------------------------------------------------------- helpers
def full_frame_mask(seed=0, dnu_fraction=0.02):
    """DMS-frame PIXELDQ of a whole detector: REFERENCE_PIXEL on the 4-pixel border,
    a sprinkle of DO_NOT_USE (also on reference pixels) and other flags."""
    rng = np.random.default_rng(seed)
    pdq = np.zeros((2048, 2048), np.uint32)
    pdq[:4] = pdq[-4:] = dq.REFERENCE_PIXEL
    pdq[:, :4] = pdq[:, -4:] = dq.REFERENCE_PIXEL
    bad = rng.random((2048, 2048)) < dnu_fraction
    pdq[bad] |= dq.DO_NOT_USE
    pdq[rng.random((2048, 2048)) < 0.01] |= dq.HOT
    return pdq


def synthetic_ramp(nints, ngroups, ny, nx, seed=1):
    """Noisy ramp with row drifts, column offsets and outliers (to exercise clipping)."""
    rng = np.random.default_rng(seed)
    data = rng.normal(0.0, 4.0, size=(nints, ngroups, ny, nx)).astype(np.float32)
    data += np.float32(12000.0)
    data += (np.arange(ngroups, dtype=np.float32) * 37.5)[None, :, None, None]
    data += rng.normal(0, 6, size=(nints, ngroups, ny, 1)).astype(np.float32)
    data += rng.normal(0, 20, size=(1, 1, 1, nx)).astype(np.float32)
    hits = rng.random(data.shape) < 0.003
    data[hits] += rng.uniform(200, 4000, size=hits.sum()).astype(np.float32)
    return data


def sub_slices(xstart, ystart, xsize, ysize):
    return slice(ystart - 1, ystart - 1 + ysize), slice(xstart - 1, xstart - 1 + xsize)


def make_model(data, pixeldq, detector, *, xstart=1, ystart=1, noutputs=4, name=None):
    from stdatamodels.jwst.datamodels import RampModel

    model = RampModel(
        data=data.copy(),
        pixeldq=pixeldq.copy(),
        groupdq=np.zeros(data.shape, np.uint8),
    )
    ny, nx = data.shape[-2:]
    model.meta.instrument.name = INSTRUMENT[detector[:3]]
    model.meta.instrument.detector = detector
    model.meta.subarray.name = name or ("FULL" if (ny, nx) == (2048, 2048) else "SUBGRISM64")
    model.meta.subarray.xstart = xstart
    model.meta.subarray.ystart = ystart
    model.meta.subarray.xsize = nx
    model.meta.subarray.ysize = ny
    model.meta.subarray.fastaxis, model.meta.subarray.slowaxis = AXES[detector]
    model.meta.exposure.noutputs = noutputs
    model.meta.exposure.zero_frame = False
    return model


PARAMS = dict(
    odd_even_columns=True,
    use_side_ref_pixels=True,
    side_smoothing_length=11,
    side_gain=1.0,
    siglimit=3.0,
)


def run_jwst(model, **kw):
    from jwst.refpix import reference_pixels

    p = {**PARAMS, **kw}
    conv = {
        "refpix_algorithm": "median",
        "sirs_kernel_model": None,
        "sigreject": 4.0,
        "gaussmooth": 1.0,
        "halfwidth": 30,
    }
    status = reference_pixels.correct_model(
        model,
        p["odd_even_columns"],
        p["use_side_ref_pixels"],
        p["side_smoothing_length"],
        p["side_gain"],
        True,  # odd_even_rows: MIRI only
        conv,
        p["siglimit"],
    )
    return "SKIPPED" if status == reference_pixels.SUBARRAY_DOESNTFIT else "COMPLETE"


def run_ours(data, pixeldq, detector, *, xstart=1, ystart=1, noutputs=4, **kw):
    fast, slow = AXES[detector]
    out = data.copy()
    pdq = pixeldq.copy()
    status = correct_nir(
        out,
        pdq,
        fastaxis=fast,
        slowaxis=slow,
        xstart=xstart,
        ystart=ystart,
        noutputs=noutputs,
        **{**PARAMS, **kw},
    )
    assert np.array_equal(pdq, pixeldq)  # PIXELDQ untouched
    return out, status


def assert_parity(ours, theirs):
    # rtol 1e-6 float32 parity; atol guards values that the correction brings near zero
    scale = float(np.nanmax(np.abs(theirs))) if theirs.size else 0.0
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6 * scale, equal_nan=True)
    if os.environ.get("REFPIX_EXACT"):
        np.testing.assert_array_equal(ours, theirs)


def compare(data, pixeldq, detector, *, xstart=1, ystart=1, noutputs=4, name=None, **kw):
    pytest.importorskip("jwst")
    model = make_model(
        data, pixeldq, detector, xstart=xstart, ystart=ystart, noutputs=noutputs, name=name
    )
    jstatus = run_jwst(model, **kw)
    ours, status = run_ours(
        data, pixeldq, detector, xstart=xstart, ystart=ystart, noutputs=noutputs, **kw
    )
    assert status == jstatus
    assert np.array_equal(model.pixeldq, pixeldq)
    assert not np.any(model.groupdq)
    assert_parity(ours, model.data)
    return ours, model.data


@pytest.fixture(scope="module")
def mask():
    return full_frame_mask()


# ------------------------------------------------------------------ geometry (no jwst)
@pytest.mark.parametrize("detector", sorted(AXES))
def test_transform_roundtrip_and_origin(detector):
    fast, slow = AXES[detector]
    full = np.arange(2048 * 2048, dtype=np.int64).reshape(2048, 2048)
    det = dms_to_detector(full, fast, slow)
    assert np.array_equal(detector_to_dms(det, fast, slow), full)
    xstart, ystart, xsize, ysize = 1857, 201, 160, 64
    rs, cs = sub_slices(xstart, ystart, xsize, ysize)
    sub_det = dms_to_detector(full[rs, cs], fast, slow)
    r0, c0 = subarray_detector_origin(xstart, ystart, xsize, ysize, fast, slow)
    h, w = sub_det.shape
    assert np.array_equal(det[r0 : r0 + h, c0 : c0 + w], sub_det)


def test_constant_offsets_removed_exactly():
    """Per-amplifier, per-column-parity offsets (in detector frame) with no noise are
    removed exactly by the top/bottom correction, whatever the DMS orientation."""
    fast, slow = AXES["NIS"]
    det = np.zeros((1, 2, 2048, 2048), np.float32)
    for amp in range(4):
        det[..., amp * 512 : (amp + 1) * 512 : 2] = 100.0 * amp + 7.0
        det[..., amp * 512 + 1 : (amp + 1) * 512 : 2] = 100.0 * amp - 3.0
    data = np.ascontiguousarray(detector_to_dms(det, fast, slow))
    pdq = np.zeros((2048, 2048), np.uint32)
    status = correct_nir(
        data, pdq, fastaxis=fast, slowaxis=slow, use_side_ref_pixels=True, max_workers=1
    )
    assert status == "COMPLETE"
    assert np.all(data == 0.0)


def test_subarray_outside_frame_skipped():
    data = np.ones((1, 2, 64, 64), np.float32)
    before = data.copy()
    pdq = np.zeros((64, 64), np.uint32)
    status = correct_nir(data, pdq, fastaxis=-1, slowaxis=2, xstart=2000, ystart=1, noutputs=1)
    assert status == "SKIPPED"
    assert np.array_equal(data, before)


def test_sirs_without_kernels_is_an_error():
    with pytest.raises(ValueError, match="(?i)kernel"):
        correct_nir(
            np.zeros((1, 1, 8, 8), np.float32),
            np.zeros((8, 8), np.uint32),
            fastaxis=1,
            slowaxis=2,
            refpix_algorithm="sirs",
        )


# --------------------------------------------------------------------- jwst parity
@pytest.mark.parity
@pytest.mark.parametrize(
    "detector,nints,ngroups",
    [("NRCA1", 2, 2), pytest.param("NIS", 1, 3, marks=pytest.mark.slow)],
)
def test_full_frame_parity(mask, detector, nints, ngroups):
    data = synthetic_ramp(nints, ngroups, 2048, 2048, seed=3)
    # a whole side reference column band unusable, and a NaN in the side pixels
    pdq = mask.copy()
    pdq[1000:1030, :4] |= dq.DO_NOT_USE
    pdq[1000:1030, -4:] |= dq.DO_NOT_USE
    fast, slow = AXES[detector]
    dms_to_detector(data, fast, slow)[:, :, 1500, 1] = np.nan  # a side reference pixel
    ours, theirs = compare(data, pdq, detector)
    assert not np.array_equal(ours, data)  # something was corrected


@pytest.mark.parity
@pytest.mark.slow
def test_full_frame_parity_options(mask):
    data = synthetic_ramp(1, 2, 2048, 2048, seed=4)
    compare(
        data,
        mask,
        "NRCB1",
        odd_even_columns=False,
        side_smoothing_length=10,
        side_gain=0.5,
        siglimit=2.5,
    )
    compare(data, mask, "GUIDER2", use_side_ref_pixels=False)


@pytest.mark.parity
@pytest.mark.parametrize(
    "detector,xstart,ystart,xsize,ysize,name",
    [
        ("NRCA1", 1, 1, 64, 64, "SUB64P"),  # corner: bottom rows + side columns
        ("NRCB1", 1985, 1985, 64, 64, "SUB64P"),
        ("NRCALONG", 1889, 1, 160, 160, "SUB160P"),
        ("NIS", 1, 1985, 64, 64, "SUB64"),
        ("NRCA2", 945, 945, 160, 160, "SUB160"),  # centre: no reference pixels
    ],
)
@pytest.mark.parametrize("nints", [1, 2])
@pytest.mark.parametrize("odd_even", [True, False])
def test_one_output_subarray_parity(mask, detector, xstart, ystart, xsize, ysize, name, nints,
                                    odd_even):
    data = synthetic_ramp(nints, 3, ysize, xsize, seed=xstart + ystart)
    pdq = mask[sub_slices(xstart, ystart, xsize, ysize)]
    ours, theirs = compare(
        data, pdq, detector, xstart=xstart, ystart=ystart, noutputs=1, name=name,
        odd_even_columns=odd_even,
    )
    has_ref = np.any((pdq & dq.REFERENCE_PIXEL) & ~(pdq & dq.DO_NOT_USE))
    assert np.array_equal(ours, data) != bool(has_ref)


@pytest.mark.parity
@pytest.mark.parametrize(
    "detector,xstart,ystart,xsize,ysize,use_side",
    [
        ("NRCA1", 1, 1, 2048, 64, True),  # SUBGRISM64-like, bottom rows (DMS)
        ("NRCB1", 1, 1793, 2048, 256, True),
        ("NIS", 1, 1, 2048, 96, True),  # transposed: sides become rows
        ("NRCA2", 1, 1, 2048, 64, False),
        ("GUIDER2", 1, 1000, 2048, 40, True),  # no top/bottom rows in DMS-row band
        ("NRCA1", 1, 1, 512, 512, True),  # one amplifier's columns, corner
    ],
)
@pytest.mark.parametrize("nints", [1, 2])
def test_four_output_subarray_parity(mask, detector, xstart, ystart, xsize, ysize, use_side,
                                     nints):
    data = synthetic_ramp(nints, 2, ysize, xsize, seed=ystart)
    pdq = mask[sub_slices(xstart, ystart, xsize, ysize)]
    compare(
        data, pdq, detector, xstart=xstart, ystart=ystart, noutputs=4,
        use_side_ref_pixels=use_side,
    )


@pytest.mark.parity
def test_amplifier_without_usable_reference_left_alone(mask):
    """All even-column reference pixels of one amplifier unusable: jwst leaves that
    amplifier (both parities) uncorrected by the top/bottom step."""
    detector = "NRCA1"
    xstart, ystart, xsize, ysize = 1, 1, 2048, 64
    pdq = mask[sub_slices(xstart, ystart, xsize, ysize)].copy()
    fast, slow = AXES[detector]
    det = dms_to_detector(pdq, fast, slow)  # view: edits go to pdq
    r0, c0 = subarray_detector_origin(xstart, ystart, xsize, ysize, fast, slow)
    assert r0 == 0 or r0 + det.shape[0] == 2048
    det[:, 512:1024:2] |= dq.DO_NOT_USE
    data = synthetic_ramp(1, 2, ysize, xsize, seed=9)
    ours, _ = compare(data, pdq, detector, xstart=xstart, ystart=ystart, noutputs=4,
                      use_side_ref_pixels=False)
    amp_b = dms_to_detector(ours, fast, slow)[..., 512:1024]
    assert np.array_equal(amp_b, dms_to_detector(data, fast, slow)[..., 512:1024])


@pytest.mark.parity
def test_edgeless_nirspec_subarray(mask):
    pytest.importorskip("jwst")
    # NIRSpec SUB32: 2048 x 32 (DMS) away from the detector edges; no REFERENCE_PIXEL
    # in the mask, jwst flags its first and last four columns as reference pixels.
    xstart, ystart, xsize, ysize = 1, 1000, 2048, 32
    pdq = mask[sub_slices(xstart, ystart, xsize, ysize)] & ~np.uint32(dq.REFERENCE_PIXEL)
    data = synthetic_ramp(2, 2, ysize, xsize, seed=5)
    model = make_model(data, pdq, "NRS1", xstart=xstart, ystart=ystart, noutputs=1,
                       name="SUB32")
    run_jwst(model)
    ours, status = run_ours(data, pdq, "NRS1", xstart=xstart, ystart=ystart, noutputs=1,
                            edgeless_subarray=True)
    assert status == "COMPLETE"
    assert not np.array_equal(ours, data)
    assert_parity(ours, model.data)
    plain, _ = run_ours(data, pdq, "NRS1", xstart=xstart, ystart=ystart, noutputs=1)
    assert np.array_equal(plain, data)  # no reference pixels without the edgeless rule


@pytest.mark.parity
def test_zeroframe_parity(mask):
    pytest.importorskip("jwst")
    detector = "NRCA1"
    xstart, ystart, xsize, ysize = 1, 1, 2048, 64
    pdq = mask[sub_slices(xstart, ystart, xsize, ysize)]
    data = synthetic_ramp(2, 2, ysize, xsize, seed=11)
    zf = synthetic_ramp(2, 1, ysize, xsize, seed=12)[:, 0]
    zf[:, 5, 100:110] = 0.0  # no zero-frame value there
    model = make_model(data, pdq, detector, xstart=xstart, ystart=ystart, noutputs=4)
    model.meta.exposure.zero_frame = True
    model.zeroframe = zf.copy()
    run_jwst(model)
    fast, slow = AXES[detector]
    kw = dict(fastaxis=fast, slowaxis=slow, xstart=xstart, ystart=ystart, noutputs=4, **PARAMS)
    ours = data.copy()
    correct_nir(ours, pdq, **kw)
    ozf = zf.copy()
    correct_nir_zeroframe(ozf, pdq, **kw)
    assert_parity(ours, model.data)
    assert_parity(ozf, model.zeroframe)
    assert np.all(ozf[:, 5, 100:110] == 0.0)


def test_one_output_single_parity_only():
    """Only even detector columns hold usable reference pixels (jwst raises here): the
    even columns are corrected, the odd ones left alone."""
    fast, slow = AXES["NRCA1"]  # columns reversed: detector col = 2047 - DMS col
    xstart, ystart, xsize, ysize = 1, 1, 64, 64
    pdq = np.zeros((ysize, xsize), np.uint32)
    pdq[:4, :] = dq.REFERENCE_PIXEL
    det = dms_to_detector(pdq, fast, slow)
    r0, c0 = subarray_detector_origin(xstart, ystart, xsize, ysize, fast, slow)
    odd_local = slice((c0 + 1) % 2, None, 2)
    det[:, odd_local] |= dq.DO_NOT_USE
    data = np.full((1, 2, ysize, xsize), 50.0, np.float32)
    correct_nir(data, pdq, fastaxis=fast, slowaxis=slow, xstart=xstart, ystart=ystart,
                noutputs=1)
    ddet = dms_to_detector(data, fast, slow)
    even_local = slice(c0 % 2, None, 2)
    assert np.all(ddet[..., even_local] == 0.0)
    assert np.all(ddet[..., odd_local] == 50.0)
