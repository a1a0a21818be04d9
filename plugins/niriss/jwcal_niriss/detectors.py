"""NIRISS's detector (NIS) for the simulator.

NIS_CEN placement (V2Ref -290.1, V3Ref -697.5, V3IdlYAngle +0.57 deg, plate scales 0.0654 x
0.0659 arcsec) from the NIRISS distortion reference's SIAF coefficients; FASTAXIS -2,
SLOWAXIS -1.  The short-wave filters sit in the pupil wheel (FILTER=CLEAR, PUPIL=F150W);
the long-wave ones in the filter wheel (PUPIL=CLEARP), as in real files.
"""

from jwcore.sim.detector import DetectorSpec, FilterSpec, PhotometryLayout, ReadPattern, Subarray

SCALE = (0.06539, 0.06589)
# name: (FILTER, PUPIL, FWHM arcsec, sky e-/s/pix, PHOTMJSR, pivot um)
FILTERS = {
    "F090W": ("CLEAR", "F090W", 0.034, 0.35, 0.45, 0.90), "F115W": ("CLEAR", "F115W", 0.040, 0.40, 0.35, 1.15),
    "F140M": ("CLEAR", "F140M", 0.048, 0.20, 0.80, 1.40), "F150W": ("CLEAR", "F150W", 0.050, 0.45, 0.30, 1.50),
    "F158M": ("CLEAR", "F158M", 0.053, 0.20, 0.75, 1.58), "F200W": ("CLEAR", "F200W", 0.066, 0.50, 0.28, 1.99),
    "F277W": ("F277W", "CLEARP", 0.091, 0.80, 0.30, 2.78), "F356W": ("F356W", "CLEARP", 0.116, 0.95, 0.30, 3.59),
    "F380M": ("F380M", "CLEARP", 0.124, 0.30, 0.90, 3.83), "F430M": ("F430M", "CLEARP", 0.140, 0.30, 1.00, 4.28),
    "F444W": ("F444W", "CLEARP", 0.145, 1.60, 0.35, 4.43), "F480M": ("F480M", "CLEARP", 0.157, 0.45, 1.10, 4.82),
}

READOUT = {"NISRAPID": ReadPattern("NISRAPID", 1, 0), "NIS": ReadPattern("NIS", 4, 0)}

SUBARRAYS = {s.name: s for s in (
    Subarray("FULL", 1, 1, 2048, 2048, 4),
    Subarray("SUB64", 1, 1, 64, 64, 1),
    Subarray("SUB128", 1, 1, 128, 128, 1),
    Subarray("SUB256", 1, 1, 256, 256, 1),
)}

_scale = (SCALE[0] * SCALE[1]) ** 0.5
DETECTORS = [DetectorSpec(
    instrument="NIRISS", detector="NIS", shape=(2048, 2048), fastaxis=-2, slowaxis=-1,
    plate_scale=_scale, gain=1.61, read_noise=7.0, dark_current=0.012, bias=12000.0, saturation=48000.0,
    nonlinearity=0.08, ipc_alpha=0.006, ktc_noise=18.0, one_over_f=3.0,
    filters={k: FilterSpec(k, f, p, fwhm / _scale, sky, phot, wave)
             for k, (f, p, fwhm, sky, phot, wave) in FILTERS.items()},
    default_filter="F150W", subarrays=SUBARRAYS, readout_patterns=READOUT, default_readpatt="NISRAPID",
    frame_time_rule="fast_y", exp_type="NIS_IMAGE", aperture="NIS_CEN", v2_ref=-290.1, v3_ref=-697.5,
    v3_idl_yangle=0.5699, vparity=-1, sci_ref=(1024.5, 1024.5), sci_scale=SCALE, distortion=0.0015, sca_num=496,
    # source_catalog's references: APCORR model and row selectors, ABVEGAOFFSET row selectors (as jwst reads them)
    photometry_layout=PhotometryLayout("NisImgApcorrModel", ("filter", "pupil"), ("filter", "pupil")),
    # PHOTOM: jwst's NisImgPhotomModel, rows selected by FILTER and PUPIL
    photom_model="NisImgPhotomModel", photom_keys=("filter", "pupil"),
    # filter-dependent pixel offsets, FILTEROFFSET rows keyed by FILTER and PUPIL
    filter_offsets=True, filter_offset_keys=("filter", "pupil"),
    # one DISTORTION serves every filter and pupil
    distortion_wildcards={"instrument.filter": "ANY", "instrument.pupil": "ANY", "instrument.p_pupil": "ANY|"},
)]
