"""The runner with library-in/library-out (stage-3) steps: S_<STEP> and R_<REFTYPE> keywords
on every member, per-member statuses, skips, per-member saving, members opened one at a time."""

import numpy as np
import pytest

from jwcore import hookimpl
from jwcore.asn import from_list
from jwcore.datamodel import GainModel, ImageModel, open_model
from jwcore.library import ModelLibrary
from jwcore.runner import Param, RunContext, SkipStep, Step

DETECTORS = ("TOY1", "TOY2", "TOY3")


class CountingLibrary(ModelLibrary):
    """Counts ``open`` calls and the most members open at once."""

    opens = 0
    open_now = 0
    most_open = 0

    def open(self, index, modify=False):
        from contextlib import contextmanager

        @contextmanager
        def counted():
            self.opens += 1
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
            try:
                with ModelLibrary.open(self, index, modify) as model:
                    yield model
            finally:
                self.open_now -= 1

        return counted()


class ToyLibraryStep(Step):
    """Records a value per member (no member opened); skips or marks members on request."""

    name = "toy_lib"
    suffix = "toylib"
    spec = (Param("raise_skip", bool, False, "Raise SkipStep"),
            Param("skip_member", int, -1, "Give this member its own SKIPPED status"))
    reference_file_types = ("gain",)

    def process(self, library, refs):
        if self.raise_skip:
            raise SkipStep("nothing to do for this library")
        for i in range(len(library)):
            library.update_meta(i, {"background.level": float(10 + i)})
        if self.skip_member >= 0:
            self.set_member_status("SKIPPED", self.skip_member)
        return library


def _library(folder, library_cls=CountingLibrary):
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for det in DETECTORS:
        m = ImageModel(data=np.full((4, 5), 1.0, np.float32))
        m.meta.instrument.name = "TOYCAM"
        m.meta.instrument.detector = det
        m.meta.exposure.type = "TOY_IMAGE"
        name = f"jw01234001001_01101_00001_{det.lower()}_cal.fits"
        m.meta.filename = name
        m.save(folder / name)
        names.append(name)
    asn = from_list(names, product_name="toy_product")
    asn.asn_id = "a3009"
    asn.path = folder / "toy_asn.json"
    return library_cls(asn)


def _gain(path):
    g = GainModel(data=np.full((4, 5), 2.0, np.float32))
    g.meta.reftype = "GAIN"
    g.meta.instrument.name = "TOYCAM"
    g.meta.instrument.detector = "TOY1"
    g.meta.useafter = "2020-01-01T00:00:00"
    return g.save(path)


def _member_meta(library, key):
    out = []
    for i in range(len(library)):
        with library.open(i) as m:
            out.append(m.meta.get(key))
    return out


def test_status_and_reference_keywords_on_every_member(jwcal_pm, tmp_path):
    lib = _library(tmp_path / "in")
    gain = _gain(tmp_path / "gain.fits")
    ctx = RunContext(pm=jwcal_pm, output_dir=tmp_path / "out")
    out = ToyLibraryStep(override_gain=str(gain)).run(lib, ctx).model
    assert out is lib
    assert lib.opens == 0          # keywords are recorded as changes: no member was opened
    assert _member_meta(out, "cal_step.toy_lib") == ["COMPLETE"] * 3
    assert _member_meta(out, "ref_file.gain.name") == [str(gain.resolve())] * 3
    assert _member_meta(out, "background.level") == [10.0, 11.0, 12.0]   # the step's own changes kept
    assert ctx.steps[-1][:2] == ("toy_lib", "COMPLETE")
    # the member files themselves are not rewritten
    with open_model(lib.paths[1]) as m:
        assert m.meta.get("cal_step.toy_lib") is None


def test_na_reference_recorded_on_every_member(jwcal_pm, tmp_path):
    lib = _library(tmp_path / "in")
    out = ToyLibraryStep(override_gain="N/A").run(lib, RunContext(pm=jwcal_pm)).model
    assert _member_meta(out, "ref_file.gain.name") == ["N/A"] * 3


def test_references_are_selected_from_the_library_meta(jwcal_pm, tmp_path):
    gain = _gain(tmp_path / "gain.fits")
    asked = []

    class Selector:
        @hookimpl
        def jwcal_select_reference(self, reftype, meta, context):
            asked.append((reftype, meta.instrument.detector))
            return str(gain)

    jwcal_pm.register_plugin(Selector(), name="toy-selector")
    lib = _library(tmp_path / "in")
    out = ToyLibraryStep().run(lib, RunContext(pm=jwcal_pm)).model
    assert asked == [("gain", "TOY1")]      # once, from the first member's metadata
    assert _member_meta(out, "ref_file.gain.name") == ["gain.fits"] * 3   # a selection records its file name


def test_a_member_keeps_its_own_status(jwcal_pm, tmp_path):
    lib = _library(tmp_path / "in")
    out = ToyLibraryStep(override_gain="N/A", skip_member=1).run(lib, RunContext(pm=jwcal_pm)).model
    assert _member_meta(out, "cal_step.toy_lib") == ["COMPLETE", "SKIPPED", "COMPLETE"]
    # a later run of the same step instance starts afresh
    lib2 = _library(tmp_path / "in2")
    step = ToyLibraryStep(override_gain="N/A", skip_member=1)
    step.run(lib2, RunContext(pm=jwcal_pm))
    step.skip_member = -1
    again = step.run(_library(tmp_path / "in3"), RunContext(pm=jwcal_pm)).model
    assert _member_meta(again, "cal_step.toy_lib") == ["COMPLETE"] * 3


@pytest.mark.parametrize("how", ["raise", "skip"])
def test_skipped_step_marks_every_member_and_saves_nothing(jwcal_pm, tmp_path, how):
    lib = _library(tmp_path / "in")
    params = {"raise_skip": True} if how == "raise" else {"skip": True}
    ctx = RunContext(pm=jwcal_pm, output_dir=tmp_path / "out")
    out = ToyLibraryStep(override_gain="N/A", save_results=True, **params).run(lib, ctx).model
    assert _member_meta(out, "cal_step.toy_lib") == ["SKIPPED"] * 3
    assert _member_meta(out, "background.level") == [None] * 3   # process did not run (or stopped)
    assert ctx.written == []
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_save_results_writes_every_member_one_at_a_time(jwcal_pm, tmp_path):
    lib = _library(tmp_path / "in")
    ctx = RunContext(pm=jwcal_pm, output_dir=tmp_path / "out")
    ToyLibraryStep(override_gain="N/A", skip_member=2, save_results=True).run(lib, ctx)
    names = sorted(p.name for p in ctx.written)
    assert names == sorted(f"jw01234001001_01101_00001_{d.lower()}_a3009_toylib.fits" for d in DETECTORS)
    assert lib.opens == 3 and lib.most_open == 1
    statuses = []
    for det in DETECTORS:
        with open_model(tmp_path / "out" / f"jw01234001001_01101_00001_{det.lower()}_a3009_toylib.fits") as m:
            statuses.append(m.meta.cal_step.toy_lib)
            assert m.meta.ref_file.gain.name == "N/A"
            assert m.meta.instrument.detector == det
    assert statuses == ["COMPLETE", "COMPLETE", "SKIPPED"]


def test_single_model_steps_unchanged(jwcal_pm, tmp_path):
    """A model (not a library) still gets its keywords directly and is saved as one file."""
    m = ImageModel(data=np.zeros((4, 5), np.float32))
    m.meta.instrument.name = "TOYCAM"
    m.meta.filename = "jw01234001001_01101_00001_toy1_cal.fits"

    class ModelStep(ToyLibraryStep):
        name = "toy_model"

        def process(self, model, refs):
            return model

    ctx = RunContext(pm=jwcal_pm, output_dir=tmp_path / "out")
    out = ModelStep(override_gain="N/A", save_results=True).run(m, ctx).model
    assert out.meta.cal_step.toy_model == "COMPLETE" and out.meta.ref_file.gain.name == "N/A"
    assert [p.name for p in ctx.written] == ["jw01234001001_01101_00001_toy1_toylib.fits"]
