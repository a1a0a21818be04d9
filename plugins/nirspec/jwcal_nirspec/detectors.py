"""NIRSpec's two detectors (NRS1, NRS2) for the simulator, imaging mode (NRS_IMAGE,
GRATING=MIRROR): traditional readouts (NRSRAPID, NRS) and IRS2 (NRSIRS2RAPID, NRSIRS2; full
frame only, 3200-row raw frames with interleaved reference pixels: :mod:`.sim_irs2`).

NRS1_FULL/NRS2_FULL from the SIAF (PRDOPSSOC-075): V2Ref, V3Ref, V3IdlYAngle, XSciScale/
YSciScale; FASTAXIS/SLOWAXIS 2/1 (NRS1) and -2/-1 (NRS2).  Frame time: fast axis along y
(2048 / 4 + 12) x (2048 + 1) + 1 samples for full frame (10.73677 s); IRS2 712 x 2049 + 1
samples (14.58889 s).  NRSIRS2 averages 5 frames per group, as flight headers.
"""

from jwcore.sim.detector import DetectorSpec, FilterSpec, ReadPattern, Subarray

from .sim_irs2 import IRS2_READOUT, write_irs2_references
from .sim_optics import GWA_READINGS, write_optical_references

READOUT = {"NRSRAPID": ReadPattern("NRSRAPID", 1, 0), "NRS": ReadPattern("NRS", 4, 0),
           "NRSIRS2RAPID": ReadPattern("NRSIRS2RAPID", 1, 0, raw_readout=IRS2_READOUT),
           "NRSIRS2": ReadPattern("NRSIRS2", 5, 0, raw_readout=IRS2_READOUT)}

SUBARRAYS = {s.name: s for s in (
    Subarray("FULL", 1, 1, 2048, 2048, 4),
    Subarray("SUB2048", 1, 1009, 2048, 32, 1),
    Subarray("SUB1024A", 1, 1009, 1024, 32, 1),
    Subarray("SUB1024B", 1025, 1009, 1024, 32, 1),
    Subarray("SUB512", 1, 1009, 512, 32, 1),
    Subarray("SUB32", 1, 1009, 32, 32, 1),
    Subarray("ALLSLITS", 1, 897, 2048, 256, 1),
)}

# detector: (aperture, V2Ref, V3Ref, V3IdlYAngle, FASTAXIS, SLOWAXIS, SCA_NUM, scales)
SIAF = {
    "NRS1": ("NRS1_FULL", 293.311116, -503.318962, 139.22822295, 2, 1, 491, (0.10326890, 0.10538684)),
    "NRS2": ("NRS2_FULL", 462.677405, -353.896260, -42.20405757, -2, -1, 492, (0.10331909, 0.10542421)),
}

# name: (FILTER, FWHM arcsec, sky e-/s/pix, PHOTMJSR, pivot um)
FILTERS = {"F110W": ("F110W", 0.045, 0.6, 0.12, 1.10), "F140X": ("F140X", 0.050, 1.0, 0.08, 1.40),
           "CLEAR": ("CLEAR", 0.070, 2.5, 0.04, 2.50)}


def _spec(name):
    aper, v2, v3, yang, fast, slow, sca, scale = SIAF[name]
    pix = (scale[0] * scale[1]) ** 0.5
    return DetectorSpec(
        instrument="NIRSPEC", detector=name, shape=(2048, 2048), fastaxis=fast, slowaxis=slow, plate_scale=pix,
        gain=1.0, read_noise=9.0, dark_current=0.005, bias=13000.0, saturation=50000.0, nonlinearity=0.06,
        ipc_alpha=0.005, ktc_noise=15.0, one_over_f=3.0,
        filters={k: FilterSpec(k, f, None, max(fwhm / pix, 0.6), sky, phot, wave)
                 for k, (f, fwhm, sky, phot, wave) in FILTERS.items()},
        default_filter="F110W", subarrays=SUBARRAYS, readout_patterns=READOUT, default_readpatt="NRSRAPID",
        frame_time_rule="fast_y", exp_type="NRS_IMAGE", aperture=aper, v2_ref=v2, v3_ref=v3,
        v3_idl_yangle=yang, vparity=-1, sci_ref=(1024.5, 1024.5), sci_scale=scale, distortion=0.002, sca_num=sca,
        extra_keywords={"instrument.grating": "MIRROR", **GWA_READINGS},
        reference_writers=(write_optical_references, write_irs2_references),
        # NRS_IMAGE: no PHOTOM, no filter offsets (no FILTEROFFSET), no DISTORTION wildcards
        photom_model=None, filter_offsets=False, distortion_wildcards={},
    )


DETECTORS = [_spec(n) for n in SIAF]
