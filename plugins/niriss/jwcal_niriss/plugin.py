"""NIRISS: EXP_TYPE routing, the near-IR detector1 order, reference selection keys."""

from jwcore.runner.pipeline import PipelineSpec, StepUse

from .detectors import DETECTORS
from .imaging import ROW_KEYS, NirissPlugin
from .refkeys import DEFAULT_KEYS, MATCH_KEYS, NOT_APPLICABLE

INSTRUMENT = "NIRISS"

EXPTYPES = {
    "NIS_IMAGE": ("detector1", "image2", "image3"),
    "NIS_WFSS": ("detector1", "spec2", "spec3"),
    "NIS_SOSS": ("tso1", "spec2", "tso3"),
    "NIS_AMI": ("detector1", "image2", "ami3"),
    "NIS_TACQ": ("detector1", "image2", None),
    "NIS_TACONFIRM": ("detector1", "image2", None),
    "NIS_FOCUS": ("detector1", "image2", None),
    "NIS_DARK": ("dark", None, None),
    "NIS_LAMP": ("detector1", None, None),
}

# jwst 3.0's near-IR order (charge_migration, picture_frame, clean_flicker_noise: not yet).
DETECTOR1 = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity",
             "dark_current", "jump", StepUse("persistence", {"skip": True}), "ramp_fit", "gain_scale")
DARK = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity")
_S1 = dict(instrument=INSTRUMENT, stage=1, class_alias="Detector1Pipeline",
           saves=(("save_calibrated_ramp", "persistence", "ramp"),), suffix="rate")
DETECTOR1_SPEC = PipelineSpec("detector1", DETECTOR1, aliases=("calwebb_detector1",), **_S1)
plugin = NirissPlugin(
    instrument=INSTRUMENT,
    detectors=DETECTORS,        # detectors.py: the simulator's DetectorSpecs
    exptypes=EXPTYPES,
    # stage 2 calibrates the _rateints into _calints (TSO, coronagraphy, AMI: as jwst's level-2 asns)
    per_integration=frozenset({"NIS_SOSS", "NIS_AMI"}),
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
