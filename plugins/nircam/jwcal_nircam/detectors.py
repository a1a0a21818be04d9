"""NIRCam's ten detectors for the simulator (``jwcal simulate --instrument nircam``).

Sky placement from the SIAF (PRDOPSSOC-075) full-frame apertures NRCA1_FULL ... NRCB5_FULL:
V2Ref, V3Ref, V3IdlYAngle, XSciScale/YSciScale; FASTAXIS/SLOWAXIS as in flight headers.
Frame time: (2048/4 + 12) x (2048 + 1) + 1 samples of 10 us = 10.73677 s for full frame.
PSF FWHMs are the JDox values in arcsec divided by the pixel scale.
"""

from jwcore.sim.detector import DetectorSpec, FilterSpec, PhotometryLayout, ReadPattern, Subarray

# name: (V2Ref, V3Ref, V3IdlYAngle, XSciScale, YSciScale, FASTAXIS, SLOWAXIS, SCA_NUM, SIAF aperture)
SIAF = {
    "NRCA1": (120.576793, -527.501431, -0.55188201, 0.03113269, 0.03131901, -1, 2, 481, "NRCA1_FULL"),
    "NRCA2": (119.740061, -459.784260, -0.20724878, 0.03072745, 0.03082795, 1, -2, 482, "NRCA2_FULL"),
    "NRCA3": (51.946174, -527.927527, 0.28210395, 0.03127685, 0.03145286, -1, 2, 483, "NRCA3_FULL"),
    "NRCA4": (52.359040, -459.901178, 0.10017832, 0.03086610, 0.03095505, 1, -2, 484, "NRCA4_FULL"),
    "NRCALONG": (85.926560, -493.502537, -0.06338311, 0.06275478, 0.06305948, -1, 2, 485, "NRCA5_FULL"),
    "NRCB1": (-122.427986, -457.706754, 0.34481904, 0.03069878, 0.03079350, 1, -2, 486, "NRCB1_FULL"),
    "NRCB2": (-122.679933, -525.420878, 0.84655599, 0.03110574, 0.03128719, -1, 2, 487, "NRCB2_FULL"),
    "NRCB3": (-54.610778, -457.702913, -0.45164689, 0.03082963, 0.03091675, 1, -2, 488, "NRCB3_FULL"),
    "NRCB4": (-54.386704, -525.630307, -0.33826590, 0.03123850, 0.03141617, -1, 2, 489, "NRCB4_FULL"),
    "NRCBLONG": (-89.402822, -491.360126, 0.02319705, 0.06285377, 0.06314947, 1, -2, 490, "NRCB5_FULL"),
}

# filter: (FWHM arcsec, sky e-/s/pix, PHOTMJSR, pivot um); PUPIL = CLEAR
SW_FILTERS = {
    "F070W": (0.030, 0.05, 0.55, 0.70), "F090W": (0.034, 0.10, 0.40, 0.90), "F115W": (0.040, 0.12, 0.35, 1.15),
    "F140M": (0.048, 0.05, 0.95, 1.40), "F150W": (0.050, 0.15, 0.27, 1.50), "F150W2": (0.046, 0.45, 0.09, 1.67),
    "F162M": (0.055, 0.06, 0.80, 1.63), "F182M": (0.062, 0.07, 0.60, 1.85), "F200W": (0.066, 0.20, 0.22, 1.99),
    "F210M": (0.071, 0.08, 0.55, 2.09),
}
LW_FILTERS = {
    "F250M": (0.085, 0.20, 0.60, 2.50), "F277W": (0.092, 0.55, 0.23, 2.76), "F300M": (0.100, 0.25, 0.50, 2.99),
    "F322W2": (0.106, 1.20, 0.12, 3.23), "F335M": (0.111, 0.30, 0.45, 3.36), "F356W": (0.116, 0.70, 0.19, 3.56),
    "F360M": (0.120, 0.35, 0.42, 3.62), "F410M": (0.137, 0.50, 0.35, 4.08), "F430M": (0.144, 0.35, 0.60, 4.28),
    "F444W": (0.145, 1.40, 0.21, 4.40), "F460M": (0.155, 0.45, 0.75, 4.63), "F480M": (0.162, 0.55, 0.70, 4.82),
}

DISTORTION_WILDCARDS = {"instrument.filter": "ANY", "instrument.pupil": "ANY", "instrument.p_pupil": "ANY|"}

READOUT = {n: ReadPattern(n, f, g) for n, f, g in (
    ("RAPID", 1, 0), ("BRIGHT1", 1, 1), ("BRIGHT2", 2, 0), ("SHALLOW2", 2, 3), ("SHALLOW4", 4, 1),
    ("MEDIUM2", 2, 8), ("MEDIUM8", 8, 2), ("DEEP2", 2, 18), ("DEEP8", 8, 12))}

SUBARRAYS = {s.name: s for s in (
    Subarray("FULL", 1, 1, 2048, 2048, 4),
    Subarray("SUB64P", 1, 1, 64, 64, 1),
    Subarray("SUB160P", 1, 1, 160, 160, 1),
    Subarray("SUB400P", 1, 1, 400, 400, 1),
    Subarray("SUB160", 1, 1889, 160, 160, 1),
    Subarray("SUB320", 1, 1729, 320, 320, 1),
    Subarray("SUB640", 1, 1409, 640, 640, 1),
    Subarray("SUBGRISM64", 1, 1, 2048, 64, 4),
    Subarray("SUBGRISM128", 1, 1, 2048, 128, 4),
    Subarray("SUBGRISM256", 1, 1, 2048, 256, 4),
)}


def _spec(name):
    v2, v3, yang, sx, sy, fast, slow, sca, aper = SIAF[name]
    long = name.endswith("LONG")
    table = LW_FILTERS if long else SW_FILTERS
    scale = (sx * sy) ** 0.5
    filters = {f: FilterSpec(f, f, "CLEAR", fwhm / scale, sky, phot, wave)
               for f, (fwhm, sky, phot, wave) in table.items()}
    return DetectorSpec(
        instrument="NIRCAM", detector=name, shape=(2048, 2048), fastaxis=fast, slowaxis=slow,
        plate_scale=scale, gain=1.82 if long else 2.05, read_noise=5.0 if long else 6.0,
        dark_current=0.015 if long else 0.0015, bias=12500.0 if long else 12000.0,
        saturation=46000.0 if long else 47000.0, nonlinearity=0.07, ipc_alpha=0.005 if long else 0.006,
        ktc_noise=18.0, one_over_f=2.5, filters=filters, default_filter="F444W" if long else "F200W",
        subarrays=SUBARRAYS, readout_patterns=READOUT, default_readpatt="RAPID", frame_time_rule="fast_x",
        exp_type="NRC_IMAGE", aperture=aper, v2_ref=v2, v3_ref=v3, v3_idl_yangle=yang, vparity=-1,
        sci_ref=(1024.5, 1024.5), sci_scale=(sx, sy), distortion=0.002,
        module=name[3], channel="LONG" if long else "SHORT", sca_num=sca,
        # source_catalog's references: APCORR model and row selectors, ABVEGAOFFSET row selectors (as jwst reads them)
        photometry_layout=PhotometryLayout("NrcImgApcorrModel", ("filter", "pupil"), ("filter", "pupil")),
        # PHOTOM: jwst's NrcImgPhotomModel, rows selected by FILTER and PUPIL
        photom_model="NrcImgPhotomModel", photom_keys=("filter", "pupil"),
        # filter-dependent pixel offsets, FILTEROFFSET rows keyed by FILTER and PUPIL
        filter_offsets=True, filter_offset_keys=("filter", "pupil"),
        # one DISTORTION per detector serves every filter and pupil
        distortion_wildcards=DISTORTION_WILDCARDS,
    )


DETECTORS = [_spec(n) for n in SIAF]
