"""NIRSpec: EXP_TYPE routing (imaging and spectroscopic modes), detector1 order, reference keys.

jwcal processes NIRSpec imaging-like modes (NRS_IMAGE, TA, focus...) through stage 2 today;
the spectroscopic stage-2/3 pipelines (spec2, spec3) are routed but not yet provided, and
running them says so.
"""

from jwcore.runner.pipeline import PipelineSpec, StepUse

from .detectors import DETECTORS
from .imaging import ROW_KEYS, NirspecPlugin
from .refkeys import DEFAULT_KEYS, MATCH_KEYS, NOT_APPLICABLE

INSTRUMENT = "NIRSPEC"

_IMG2 = ("detector1", "image2", None)
EXPTYPES = {
    "NRS_FIXEDSLIT": ("detector1", "spec2", "spec3"),
    "NRS_IFU": ("detector1", "spec2", "spec3"),
    "NRS_MSASPEC": ("detector1", "spec2", "spec3"),
    "NRS_BRIGHTOBJ": ("tso1", "spec2", "tso3"),
    **{e: _IMG2 for e in ("NRS_IMAGE", "NRS_TACQ", "NRS_TACONFIRM", "NRS_BOTA", "NRS_TASLIT",
                          "NRS_CONFIRM", "NRS_FOCUS", "NRS_MIMF", "NRS_MSATA", "NRS_WATA")},
    "NRS_DARK": ("dark", None, None),
    "NRS_AUTOWAVE": ("detector1", None, None),
    "NRS_AUTOFLAT": ("detector1", None, None),
    "NRS_LAMP": ("detector1", None, None),
}

# jwst 3.0's near-IR order; refpix recognises IRS2 readouts itself (jwcore/steps/refpix/irs2.py).
DETECTOR1 = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity",
             "dark_current", "jump", StepUse("persistence", {"skip": True}), "ramp_fit", "gain_scale")
DARK = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity")
_S1 = dict(instrument=INSTRUMENT, stage=1, class_alias="Detector1Pipeline",
           saves=(("save_calibrated_ramp", "persistence", "ramp"),), suffix="rate")
DETECTOR1_SPEC = PipelineSpec("detector1", DETECTOR1, aliases=("calwebb_detector1",), **_S1)
plugin = NirspecPlugin(
    instrument=INSTRUMENT,
    detectors=DETECTORS,        # detectors.py: the simulator's DetectorSpecs
    exptypes=EXPTYPES,
    # stage 2 calibrates the _rateints into _calints (TSO, coronagraphy, AMI: as jwst's level-2 asns)
    per_integration=frozenset({"NRS_BRIGHTOBJ"}),
    pipelines=[
        DETECTOR1_SPEC,
        # calwebb_tso1: the manual's TSO configuration skips ipc, lastframe and persistence
        DETECTOR1_SPEC.derive("tso1", aliases=("calwebb_tso1",), skip=("ipc", "persistence")),
        PipelineSpec("dark", DARK, aliases=("calwebb_dark", "calwebb_dark1"), instrument=INSTRUMENT,
                     stage=1, suffix="dark", class_alias="DarkPipeline"),
    ],
    match_keys=MATCH_KEYS,      # refkeys.py: CRDS selection keywords per reftype
    default_keys=DEFAULT_KEYS,
    not_applicable=NOT_APPLICABLE,
    row_keys=ROW_KEYS,          # imaging.py: PHOTOM, APCORR, ABVEGAOFFSET row columns
)
