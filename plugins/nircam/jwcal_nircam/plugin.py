"""NIRCam: EXP_TYPE routing, the near-IR detector1 order, reference selection keys, and the
survey tools (the ``nircam_destripe`` step and ``jwcal nircam destripe``)."""

from jwcore import hookimpl
from jwcore.runner.pipeline import PipelineSpec, StepUse

from .destripe_step import STEPS
from .detectors import DETECTORS
from .imaging import ROW_KEYS, NircamPlugin
from .refkeys import DEFAULT_KEYS, MATCH_KEYS, NOT_APPLICABLE

INSTRUMENT = "NIRCAM"

# EXP_TYPE -> (stage 1, stage 2, stage 3): the manual's Pipeline Modules table.
EXPTYPES = {
    "NRC_IMAGE": ("detector1", "image2", "image3"),
    "NRC_CORON": ("detector1", "image2", "coron3"),
    "NRC_WFSS": ("detector1", "spec2", "spec3"),
    "NRC_TSIMAGE": ("tso1", "image2", "tso3"),
    "NRC_TSGRISM": ("tso1", "spec2", "tso3"),
    "NRC_TACQ": ("detector1", "image2", None),
    "NRC_TACONFIRM": ("detector1", "image2", None),
    "NRC_FOCUS": ("detector1", "image2", None),
    "NRC_DARK": ("dark", None, None),
    "NRC_FLAT": ("detector1", None, None),
    "NRC_LED": ("detector1", None, None),
}

# jwst 3.0's near-IR order of calwebb_detector1.  Left out until jwcal has them (all are
# skipped by default in jwst 3.0): charge_migration, picture_frame, clean_flicker_noise.
DETECTOR1 = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity",
             "dark_current", "jump", StepUse("persistence", {"skip": True}), "ramp_fit", "gain_scale")
DARK = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity")
_S1 = dict(instrument=INSTRUMENT, stage=1, class_alias="Detector1Pipeline",
           saves=(("save_calibrated_ramp", "persistence", "ramp"),), suffix="rate")
DETECTOR1_SPEC = PipelineSpec("detector1", DETECTOR1, aliases=("calwebb_detector1",), **_S1)


class NircamInstrument(NircamPlugin):
    """The declarations plus NIRCam's commands."""

    @hookimpl
    def jwcal_register_commands(self, cli):
        from .commands import register_commands

        register_commands(cli)


plugin = NircamInstrument(
    instrument=INSTRUMENT,
    detectors=DETECTORS,        # detectors.py: the simulator's DetectorSpecs
    exptypes=EXPTYPES,
    # stage 2 calibrates the _rateints into _calints (TSO, coronagraphy, AMI: as jwst's level-2 asns)
    per_integration=frozenset({"NRC_TSIMAGE", "NRC_TSGRISM", "NRC_CORON"}),
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
    steps=list(STEPS),          # destripe_step.py: nircam_destripe (insert it by configuration)
)
