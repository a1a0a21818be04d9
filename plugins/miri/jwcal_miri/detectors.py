"""MIRI's imager detector (MIRIMAGE) for the simulator.

1024 x 1032 pixels with 4 reference columns on each side and no reference rows; the four
outputs read interleaved columns (column c by output c % 4); FASTAXIS 1, SLOWAXIS 2.
Frame times per subarray (FASTR1/FAST) are the MIRI documentation's values (full frame
2.77504 s); SLOWR1 is full frame only.  MIRIM_FULL placement: V2_REF -453.37849,
V3_REF -373.810549 (jwst's MIRI imaging fixtures), V3IdlYAngle 4.83 deg (the APT value).
"""

from jwcore.sim.detector import DetectorSpec, FilterSpec, PhotometryLayout, ReadPattern, Subarray

SUBARRAYS = {s.name: s for s in (
    Subarray("FULL", 1, 1, 1032, 1024, 4),
    Subarray("BRIGHTSKY", 457, 51, 512, 512, 4),
    Subarray("SUB256", 413, 51, 256, 256, 4),
    Subarray("SUB128", 1, 889, 136, 128, 4),
    Subarray("SUB64", 1, 779, 72, 64, 4),
    Subarray("MASK1065", 1, 19, 288, 224, 4),
    Subarray("MASK1140", 1, 245, 288, 224, 4),
    Subarray("MASK1550", 1, 467, 288, 224, 4),
    Subarray("MASKLYOT", 1, 717, 320, 304, 4),
    Subarray("SLITLESSPRISM", 1, 529, 72, 416, 4),
)}

FRAME_TIMES = {"FULL": 2.77504, "BRIGHTSKY": 0.86528, "SUB256": 0.29952, "SUB128": 0.11904, "SUB64": 0.08524,
               "MASK1065": 0.23968, "MASK1140": 0.23968, "MASK1550": 0.23968, "MASKLYOT": 0.32896,
               "SLITLESSPRISM": 0.15904}

READOUT = {"FASTR1": ReadPattern("FASTR1", 1, 0), "FAST": ReadPattern("FAST", 1, 0)}

# filter: (FWHM arcsec, sky e-/s/pix, PHOTMJSR, pivot um)
FILTERS = {
    "F560W": (0.207, 3.0, 0.55, 5.6), "F770W": (0.269, 12.0, 0.25, 7.7), "F1000W": (0.328, 25.0, 0.40, 10.0),
    "F1130W": (0.375, 30.0, 1.20, 11.3), "F1280W": (0.420, 60.0, 0.45, 12.8), "F1500W": (0.488, 110.0, 0.40, 15.0),
    "F1800W": (0.591, 160.0, 0.55, 18.0), "F2100W": (0.674, 300.0, 0.45, 21.0), "F2550W": (0.803, 600.0, 1.10, 25.5),
}

SCALE = (0.1108, 0.1108)
DETECTORS = [DetectorSpec(
    material="Si:As",
    instrument="MIRI", detector="MIRIMAGE", shape=(1024, 1032), fastaxis=1, slowaxis=2, n_amplifiers=4,
    amplifier_layout="interleaved", ref_rows=(0, 0), ref_cols=(4, 4), plate_scale=0.1108, gain=4.0,
    read_noise=6.0, dark_current=0.05, bias=9000.0, saturation=45000.0, nonlinearity=0.08, ipc_alpha=0.008,
    ktc_noise=4.0, one_over_f=0.0, drift_rms=0.3, cosmic_ray_rate=2.0e-5, snowball_rate=0.02,
    filters={f: FilterSpec(f, f, None, fwhm / SCALE[0], sky, phot, wave)
             for f, (fwhm, sky, phot, wave) in FILTERS.items()},
    default_filter="F770W", subarrays=SUBARRAYS, readout_patterns=READOUT, default_readpatt="FASTR1",
    frame_time_rule="table", frame_times=FRAME_TIMES, exp_type="MIR_IMAGE", aperture="MIRIM_FULL",
    v2_ref=-453.37849, v3_ref=-373.810549, v3_idl_yangle=4.83, vparity=-1, sci_ref=(516.5, 512.5),
    sci_scale=SCALE, distortion=0.003, sca_num=493,
    # source_catalog's references: APCORR model and row selectors, ABVEGAOFFSET row selectors (as jwst reads them)
    photometry_layout=PhotometryLayout("MirImgApcorrModel", ("filter", "subarray"), ("filter",)),
    # PHOTOM: jwst's MirImgPhotomModel, rows selected by FILTER and SUBARRAY (one per subarray)
    photom_model="MirImgPhotomModel", photom_keys=("filter", "subarray"),
    # filter-dependent pixel offsets, FILTEROFFSET rows keyed by FILTER only (MIRI has no pupil)
    filter_offsets=True, filter_offset_keys=("filter",),
    # one DISTORTION serves every filter
    distortion_wildcards={"instrument.filter": "ANY"},
)]
