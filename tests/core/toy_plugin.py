"""A small third-party-style plugin used by the core tests: two steps, a pipeline, a route."""

import numpy as np

from jwcore import hookimpl
from jwcore.runner import Param, PipelineSpec, SkipStep, Step, StepResult


class AddStep(Step):
    name = "toy_add"
    class_alias = "ToyAddStep"
    description = "Add a constant (and the gain reference's mean) to SCI"
    spec = (Param("value", float, 1.0, "What to add"),
            Param("use_gain", bool, False, "Also add the mean of the gain reference"))
    reference_file_types = ("gain",)

    def process(self, model, refs):
        add = self.value
        if self.use_gain:
            if "gain" not in refs:
                raise SkipStep("gain reference is N/A")
            add += float(np.mean(refs.open("gain").data))
        model.data = model.data + np.float32(add)
        return model


class CollapseStep(Step):
    name = "toy_collapse"
    description = "Mean over groups: ramp -> image, plus a per-integration cube"
    spec = (Param("scale", float, 1.0, "Multiply the result"),)

    def process(self, model, refs):
        from jwcore.datamodel import CubeModel, ImageModel

        ints = model.data.mean(axis=1).astype(np.float32) * np.float32(self.scale)
        image = ImageModel(data=ints.mean(axis=0))
        image.copy_meta_from(model)
        cube = CubeModel(data=ints)
        cube.copy_meta_from(model)
        return StepResult(image, extras={"rateints": cube})


@hookimpl
def jwcal_register_steps(register):
    register(AddStep)
    register(CollapseStep)


@hookimpl
def jwcal_register_pipelines(register):
    register(PipelineSpec("toy1", ("toy_add", "toy_collapse"), instrument="TOYCAM", stage=1,
                          aliases=("calwebb_toy1",), suffix="rate",
                          saves=(("save_calibrated_ramp", "toy_add", "ramp"),)))


@hookimpl
def jwcal_register_exptypes(register):
    register("TOY_IMAGE", "TOYCAM", stage1="toy1", stage2=None, stage3=None)


@hookimpl
def jwcal_reference_match_keys(instrument, reftype):
    if instrument == "TOYCAM":
        return ("meta.instrument.detector",)
    return None
