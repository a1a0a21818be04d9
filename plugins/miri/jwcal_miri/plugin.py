"""MIRI: EXP_TYPE routing, MIRI's own detector1 order and steps, reference selection keys, and
the survey tools (the ``miri_destripe`` step and ``jwcal miri destripe``)."""

from jwcore import hookimpl
from jwcore.runner.pipeline import PipelineSpec, StepUse

from .destripe_step import STEPS as DESTRIPE_STEPS
from .detectors import DETECTORS
from .imaging import ROW_KEYS, MiriPlugin
from .readout import READOUT
from .refkeys import DEFAULT_KEYS, MATCH_KEYS, NOT_APPLICABLE
from .steps import STEPS

INSTRUMENT = "MIRI"

EXPTYPES = {
    "MIR_IMAGE": ("detector1", "image2", "image3"),
    "MIR_MRS": ("detector1", "spec2", "spec3"),
    "MIR_LRS-FIXEDSLIT": ("detector1", "spec2", "spec3"),
    "MIR_LRS-SLITLESS": ("tso1", "spec2", "tso3"),
    "MIR_LYOT": ("detector1", "image2", "coron3"),
    "MIR_4QPM": ("detector1", "image2", "coron3"),
    "MIR_CORONCAL": ("detector1", "image2", None),
    "MIR_TACQ": ("detector1", "image2", None),
    "MIR_TACONFIRM": ("detector1", "image2", None),
    "MIR_DARKIMG": ("dark", None, None),
    "MIR_DARKMRS": ("dark", None, None),
    "MIR_DARKALL": ("dark", None, None),
    "MIR_FLATIMAGE": ("detector1", None, None),
    "MIR_FLATMRS": ("detector1", None, None),
}

# jwst 3.0's MIRI order of calwebb_detector1 (emicorr, charge_migration, picture_frame,
# clean_flicker_noise not yet in jwcal).
DETECTOR1 = ("group_scale", "dq_init", "saturation", "ipc", "firstframe", "lastframe", "reset",
             "linearity", "rscd", "dark_current", "refpix", "jump",
             StepUse("persistence", {"skip": True}), "ramp_fit", "gain_scale")
DARK = ("group_scale", "dq_init", "saturation", "ipc", "firstframe", "lastframe", "reset",
        "linearity", "rscd")
_S1 = dict(instrument=INSTRUMENT, stage=1, class_alias="Detector1Pipeline",
           saves=(("save_calibrated_ramp", "persistence", "ramp"),), suffix="rate")
DETECTOR1_SPEC = PipelineSpec("detector1", DETECTOR1, aliases=("calwebb_detector1",), **_S1)


class MiriInstrument(MiriPlugin):
    """The declarations plus MIRI's commands."""

    @hookimpl
    def jwcal_register_commands(self, cli):
        from .commands import register_commands

        register_commands(cli)


plugin = MiriInstrument(
    instrument=INSTRUMENT,
    exptypes=EXPTYPES,
    # stage 2 calibrates the _rateints into _calints (TSO, coronagraphy, AMI: as jwst's level-2 asns)
    per_integration=frozenset({"MIR_LRS-SLITLESS", "MIR_LYOT", "MIR_4QPM"}),
    pipelines=[
        DETECTOR1_SPEC,
        # calwebb_tso1: the manual's TSO configuration skips ipc, lastframe and persistence
        DETECTOR1_SPEC.derive("tso1", aliases=("calwebb_tso1",), skip=("ipc", "lastframe", "persistence")),
        PipelineSpec("dark", DARK, aliases=("calwebb_dark", "calwebb_dark1"), instrument=INSTRUMENT,
                     stage=1, suffix="dark", class_alias="DarkPipeline"),
    ],
    match_keys=MATCH_KEYS,      # refkeys.py: CRDS selection keywords per reftype
    default_keys=DEFAULT_KEYS,
    not_applicable=NOT_APPLICABLE,
    row_keys=ROW_KEYS,          # imaging.py: PHOTOM, APCORR, ABVEGAOFFSET row columns
    steps=[*STEPS, *DESTRIPE_STEPS],  # firstframe, lastframe, reset, rscd (steps/); miri_destripe
    detectors=[READOUT, *DETECTORS],  # readout.py: layout for ipc, refpix, ramp_fit; detectors.py: simulator
)
