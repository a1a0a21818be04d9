"""Built-in plugin: the steps every instrument shares (dq_init, jump, ramp_fit, ...).

Each lives in ``jwcore/steps/<family>/``: a thin ``*_step.py`` and a pure algorithm module.
"""

from __future__ import annotations

import importlib

from ..hookspecs import hookimpl

# "module:Class" of each generic step, imported when the registry is built.
GENERIC_STEPS: tuple[str, ...] = (
    # detector1 (ramp) steps
    "jwcore.steps.group_scale.group_scale_step:GroupScaleStep",
    "jwcore.steps.dq_init.dq_init_step:DQInitStep",
    "jwcore.steps.saturation.saturation_step:SaturationStep",
    "jwcore.steps.ipc.ipc_step:IPCStep",
    "jwcore.steps.superbias.superbias_step:SuperBiasStep",
    "jwcore.steps.refpix.refpix_step:RefPixStep",
    "jwcore.steps.linearity.linearity_step:LinearityStep",
    "jwcore.steps.dark_current.dark_current_step:DarkCurrentStep",
    "jwcore.steps.jump.jump_step:JumpStep",
    "jwcore.steps.persistence.persistence_step:PersistenceStep",
    "jwcore.steps.ramp_fitting.ramp_fit_step:RampFitStep",
    "jwcore.steps.gain_scale.gain_scale_step:GainScaleStep",
    # image2 (stage-2 imaging) steps
    "jwcore.steps.background.background_step:BackgroundStep",
    "jwcore.steps.assign_wcs.assign_wcs_step:AssignWcsStep",
    "jwcore.steps.flat_field.flat_field_step:FlatFieldStep",
    "jwcore.steps.photom.photom_step:PhotomStep",
    # image3 (stage-3 imaging) steps; resample also makes image2's single-exposure _i2d
    "jwcore.steps.resample.resample_step:ResampleStep",
    "jwcore.steps.skymatch.skymatch_step:SkyMatchStep",
    "jwcore.steps.outlier_detection.outlier_detection_step:OutlierDetectionStep",
    "jwcore.steps.tweakreg.tweakreg_step:TweakRegStep",
    "jwcore.steps.source_catalog.source_catalog_step:SourceCatalogStep",
    # survey tools: in no pipeline by default, inserted by configuration ([steps.X] insert_after)
    "jwcore.steps.astrometric_align.astrometric_align_step:AstrometricAlignStep",
)


def step_classes() -> list:
    out = []
    for target in GENERIC_STEPS:
        module, _, name = target.partition(":")
        out.append(getattr(importlib.import_module(module), name))
    return out


@hookimpl
def jwcal_register_steps(register):
    for cls in step_classes():
        register(cls)
