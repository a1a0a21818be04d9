"""FGS: science imaging routes, the near-IR detector1 order, and the guiding modes' pipeline."""

from jwcore.runner.pipeline import PipelineSpec, StepUse

from .detectors import DETECTORS
from .imaging import ROW_KEYS, FgsPlugin
from .refkeys import DEFAULT_KEYS, MATCH_KEYS, NOT_APPLICABLE
from .steps.guider_cds.guider_cds_step import GuiderCdsStep

INSTRUMENT = "FGS"

_GUIDER = ("guider", None, None)
EXPTYPES = {
    "FGS_IMAGE": ("detector1", "image2", "image3"),
    "FGS_FOCUS": ("detector1", "image2", None),
    "FGS_DARK": ("dark", None, None),
    "FGS_SKYFLAT": ("detector1", None, None),
    "FGS_INTFLAT": ("detector1", None, None),
    # guiding modes: calwebb_guider (stage 1+2 in one)
    **{e: _GUIDER for e in ("FGS_ID-IMAGE", "FGS_ID-STACK", "FGS_ACQ1", "FGS_ACQ2", "FGS_TRACK",
                            "FGS_FINEGUIDE")},
}

DETECTOR1 = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity",
             "dark_current", "jump", StepUse("persistence", {"skip": True}), "ramp_fit", "gain_scale")
GUIDER = ("dq_init", "guider_cds", "flat_field")
DARK = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity")
_S1 = dict(instrument=INSTRUMENT, stage=1, class_alias="Detector1Pipeline",
           saves=(("save_calibrated_ramp", "persistence", "ramp"),), suffix="rate")

plugin = FgsPlugin(
    instrument=INSTRUMENT,
    detectors=DETECTORS,        # detectors.py: the simulator's DetectorSpecs
    exptypes=EXPTYPES,
    pipelines=[
        PipelineSpec("detector1", DETECTOR1, aliases=("calwebb_detector1",), **_S1),
        PipelineSpec("dark", DARK, aliases=("calwebb_dark", "calwebb_dark1"), instrument=INSTRUMENT,
                     stage=1, suffix="dark", class_alias="DarkPipeline"),
        # guiding modes (EXPTYPES above): ramp -> GuiderCalModel count rates, flat-fielded
        PipelineSpec("guider", GUIDER, aliases=("calwebb_guider",), instrument=INSTRUMENT, stage=1,
                     suffix="cal", class_alias="GuiderPipeline"),
    ],
    steps=[GuiderCdsStep],      # steps/guider_cds: the guiding modes' CDS count rates
    match_keys=MATCH_KEYS,      # refkeys.py: CRDS selection keywords per reftype
    default_keys=DEFAULT_KEYS,
    not_applicable=NOT_APPLICABLE,
    row_keys=ROW_KEYS,          # imaging.py: PHOTOM, APCORR, ABVEGAOFFSET row columns
)
