"""FGS's two guiders for the simulator (science imaging, FGS_IMAGE).

V2_REF/V3_REF/V3I_YANG of FGS1_FULL and FGS2_FULL as flight headers carry them; FASTAXIS
-2 (GUIDER1) / +2 (GUIDER2), SLOWAXIS -1.  FGS has no filter: the one pass band is called
CLEAR here and FILTER/PUPIL are not written.  Frame time: the near-IR rule with the fast
axis along y (a 128x128 one-output window gives 0.182 s, the flight ACQ1 header's TFRAME).
"""

from jwcore.sim.detector import DetectorSpec, FilterSpec, PhotometryLayout, ReadPattern, Subarray

READOUT = {"FGSRAPID": ReadPattern("FGSRAPID", 1, 0)}

SUBARRAYS = {s.name: s for s in (
    Subarray("FULL", 1, 1, 2048, 2048, 4),
    Subarray("SUB128CNTR", 961, 961, 128, 128, 1),
    Subarray("SUB32CNTR", 1009, 1009, 32, 32, 1),
    Subarray("SUB8CNTR", 1021, 1021, 8, 8, 1),
)}

# detector: (aperture, V2Ref, V3Ref, V3IdlYAngle, FASTAXIS, SCA_NUM, scales)
GUIDERS = {
    "GUIDER1": ("FGS1_FULL", 206.407, -697.765, -1.24120427, -2, 497, (0.06908, 0.06755)),
    "GUIDER2": ("FGS2_FULL", 22.835, -699.423, 0.2914828, 2, 498, (0.06799, 0.06982)),
}


def _spec(name):
    aper, v2, v3, yang, fast, sca, scale = GUIDERS[name]
    pix = (scale[0] * scale[1]) ** 0.5
    return DetectorSpec(
        instrument="FGS", detector=name, shape=(2048, 2048), fastaxis=fast, slowaxis=-1, plate_scale=pix,
        gain=2.0, read_noise=8.0, dark_current=0.02, bias=11000.0, saturation=50000.0, nonlinearity=0.06,
        ipc_alpha=0.006, ktc_noise=18.0, one_over_f=3.0,
        filters={"CLEAR": FilterSpec("CLEAR", None, None, 0.080 / pix, 1.5, 0.08, 2.8)},
        default_filter="CLEAR", subarrays=SUBARRAYS, readout_patterns=READOUT, default_readpatt="FGSRAPID",
        frame_time_rule="fast_y", exp_type="FGS_IMAGE", aperture=aper, v2_ref=v2, v3_ref=v3,
        v3_idl_yangle=yang, vparity=-1, sci_ref=(1024.5, 1024.5), sci_scale=scale, distortion=0.002, sca_num=sca,
        # source_catalog's references: APCORR model and row selectors, ABVEGAOFFSET row selectors (as jwst reads them)
        photometry_layout=PhotometryLayout("FgsImgApcorrModel", (), ("detector",)),
        # PHOTOM: jwst's FgsImgPhotomModel, a single row (no filter)
        photom_model="FgsImgPhotomModel", photom_keys=(),
        # no filter wheel: no filter offsets, no FILTEROFFSET, no DISTORTION wildcards
        filter_offsets=False, distortion_wildcards={},
    )


DETECTORS = [_spec(n) for n in GUIDERS]
