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
    for cls in (AddStep, CollapseStep, ScaleStep, CombineStep):
        register(cls)


@hookimpl
def jwcal_register_pipelines(register):
    register(PipelineSpec("toy1", ("toy_add", "toy_collapse"), instrument="TOYCAM", stage=1,
                          aliases=("calwebb_toy1",), suffix="rate",
                          saves=(("save_calibrated_ramp", "toy_add", "ramp"),)))
    for spec in STAGE23:
        register(spec)


@hookimpl
def jwcal_register_exptypes(register):
    register("TOY_IMAGE", "TOYCAM", stage1="toy1", stage2="toy2", stage3="toy3")


@hookimpl
def jwcal_reference_match_keys(instrument, reftype):
    if instrument == "TOYCAM":
        return ("meta.instrument.detector",)
    return None


class ScaleStep(Step):
    name = "toy_scale"
    description = "Stage 2: multiply by a factor (fails on request, for failure tests)"
    spec = (Param("factor", float, 2.0, "Multiplier"),
            Param("fail_on", str, "", "Fail for inputs whose name contains this"),
            Param("sleep", float, 0.0, "Seconds to wait (for interruption tests)"))
    input_model = None

    def process(self, model, refs):
        from jwcore.errors import BadInputError

        if self.fail_on and self.fail_on in str(model.meta.filename):
            raise BadInputError(f"{model.meta.filename}: injected failure")
        if self.sleep:
            import time

            time.sleep(self.sleep)
        model.data = model.data * np.float32(self.factor)
        return model


class CombineStep(Step):
    name = "toy_combine"
    description = "Stage 3: mean of the association's members (one open at a time)"

    def process(self, library, refs):
        from jwcore.datamodel import ImageModel

        total, n, first = None, 0, None
        for model in library:
            total = model.data.astype(np.float64) if total is None else total + model.data
            n += 1
            if first is None:
                first = ImageModel(data=np.zeros(1, np.float32))
                first.copy_meta_from(model)
        out = ImageModel(data=(total / n).astype(np.float32))
        out.copy_meta_from(first)
        return out


STAGE23 = [
    PipelineSpec("toy2", ("toy_scale",), instrument="TOYCAM", stage=2, suffix="cal"),
    PipelineSpec("toy3", ("toy_combine",), instrument="TOYCAM", stage=3, suffix="i2d"),
]
