"""``jwcal run --config survey.toml`` and ``jwcal release``.

* fast: the toy plugin's three-stage program (two targets, two filters) selected and run
  through a survey file with per-instrument parameters and an inserted step, then released;
* slow: a simulated two-filter NIRCam mosaic (SUB64P, 2 tiles) from uncal to i2d with
  nircam_destripe and astrometric_align inserted by configuration, then released.
"""

import json

import numpy as np
import pytest
from astropy.io import fits

from jwcore.datamodel import open_model
from jwcore.errors import ParameterError
from jwcore.runner.config import load_param_file
from jwcore.survey.config import find_exposures, parse_survey, select_groups

from ..core import toy_plugin
from ..core.helpers import toy_ramp


def jwcal(args, capsys):
    from jwcore.cli.main import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


@pytest.fixture
def toy(jwcal_pm):
    jwcal_pm.register_plugin(toy_plugin, name="toy", distribution="jwcal-toy", version="9.9")
    return jwcal_pm


def toy_program(raw):
    """Two targets x two filters x two exposures of the toy instrument."""
    raw.mkdir(parents=True)
    k = 0
    for target, obs in (("NGC 628", "001"), ("NGC1087", "002")):
        for filt in ("F1", "F2"):
            for _ in (1, 2):
                k += 1
                m = toy_ramp(filt=filt, offset=10.0 * k)
                m.meta.target.catalog_name = target
                m.meta.observation.observation_number = obs
                m.save(raw / f"jw01234{obs}001_01101_{k:05d}_toy1_uncal.fits")


SURVEY = """
[survey]
name = "toy-survey"
raw = "raw"
output = "products"
targets = ["ngc 628"]          # compared without case, spaces, "-" and "_"
instruments = ["toycam"]
filters = ["F1", "F2"]
executor = "serial"

[survey.instrument.toycam.steps.toy_scale]
factor = 3

[steps.toy_add]
override_gain = "N/A"

[steps.plus_one]
step = "toy_add"
insert_after = "toy_scale"
value = 1
override_gain = "N/A"
"""


def test_survey_file_runs_selection_per_target_and_instrument(toy, tmp_path, capsys):
    toy_program(tmp_path / "raw")
    survey_file = tmp_path / "survey.toml"
    survey_file.write_text(SURVEY)
    survey = parse_survey(load_param_file(survey_file), survey_file)
    groups = select_groups(survey)
    assert [(g.target, g.instrument, len(g.inputs)) for g in groups] == [("NGC 628", "TOYCAM", 4)]
    assert groups[0].output_dir == tmp_path / "products" / "ngc628" / "toycam"

    code, err = jwcal(["run", "--config", survey_file], capsys)
    assert code == 0, err
    out = tmp_path / "products" / "ngc628" / "toycam"
    cals = sorted(out.glob("*_cal.fits"))
    assert len(cals) == 4
    raw0 = toy_ramp(offset=10.0)
    cal0 = open_model(out / "jw01234001001_01101_00001_toy1_cal.fits")
    assert cal0.meta.cal_step.toy_add == "COMPLETE"
    # toy_add (+1) -> collapse -> toy_scale (x3, the instrument's own setting) -> plus_one (+1)
    np.testing.assert_allclose(cal0.data, (raw0.data.mean(axis=(0, 1)) + 1) * 3 + 1, rtol=1e-6)
    i2ds = sorted(p.name for p in out.glob("*_i2d.fits"))
    assert i2ds == ["jw01234-o001_t001_toycam_f1_i2d.fits", "jw01234-o001_t001_toycam_f2_i2d.fits"]
    assert (out / "jwcal_run_latest.json").exists()
    assert not (tmp_path / "products" / "ngc1087").exists()
    # a second run finds everything up to date
    code, err = jwcal(["run", "--config", survey_file], capsys)
    assert code == 0 and "up-to-date" in err and " ok " not in err

    # release: flat folder, readable names, manifest with checksums, provenance
    code, err = jwcal(["release", tmp_path / "products", "-o", tmp_path / "rel", "-s", "i2d", "-s", "cal",
                       "-c", survey_file], capsys)
    assert code == 0, err
    man = json.loads((tmp_path / "rel" / "manifest.json").read_text())
    names = sorted(f["file"] for f in man["files"])
    assert "ngc628_toycam_f1_i2d.fits" in names and "ngc628_toycam_f2_i2d.fits" in names
    assert "ngc628_jw01234001001_01101_00001_toy1_cal.fits" in names and len(names) == 6
    assert man["name"] == "toy-survey" and man["runs"]
    import hashlib

    for f in man["files"]:
        assert hashlib.sha256((tmp_path / "rel" / f["file"]).read_bytes()).hexdigest() == f["sha256"]
        assert f.get("instrument") == "TOYCAM"
    assert (tmp_path / "rel" / man["runs"][0]["file"]).exists()
    # releasing again into the same (now full) folder is refused
    code, err = jwcal(["release", tmp_path / "products", "-o", tmp_path / "rel"], capsys)
    assert code == 2 and "not empty" in err


def test_survey_command_line_wins_and_errors(toy, tmp_path, capsys):
    toy_program(tmp_path / "raw")
    f = tmp_path / "s.toml"
    f.write_text('[survey]\nraw = "raw"\noutput = "p"\ninstruments = ["toycam"]\nexecutor = "serial"\n'
                 '[steps.toy_add]\noverride_gain = "N/A"\n')
    code, err = jwcal(["run", "-c", f, "--to-stage", "1", "-o", tmp_path / "elsewhere"], capsys)
    assert code == 0, err
    # two targets -> two groups, stage 1 only, under -o
    assert len(list((tmp_path / "elsewhere" / "ngc628" / "toycam").glob("*_rate.fits"))) == 4
    assert len(list((tmp_path / "elsewhere" / "ngc1087" / "toycam").glob("*_rate.fits"))) == 4
    assert not list(tmp_path.glob("elsewhere/*/toycam/*_cal.fits"))
    assert not (tmp_path / "p").exists()
    f.write_text('[survey]\nraw = "raw"\ntarget = ["x"]\n')
    code, err = jwcal(["run", "-c", f], capsys)
    assert code == 2 and "did you mean targets" in err
    f.write_text('[survey]\nraw = "raw"\nfilters = ["F9"]\n')
    code, err = jwcal(["run", "-c", f], capsys)
    assert code == 2 and "matches none" in err
    with pytest.raises(ParameterError, match="stage must be 1, 2 or 3"):
        parse_survey({"survey": {"stage": 4}})


def test_find_exposures_takes_earliest_stage(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("jw1_x_uncal.fits", "a/jw1_x_rate.fits", "a/b/jw2_y_cal.fits", "a/b/jw2_y_rate.fits",
                 "x_truth.fits", "refs_flat_f200w.fits"):
        (tmp_path / name).write_bytes(b"")
    got = [p.relative_to(tmp_path).as_posix() for p in find_exposures([tmp_path])]
    assert got == ["a/b/jw2_y_rate.fits", "jw1_x_uncal.fits"]


@pytest.mark.slow
def test_survey_two_filter_nircam_mosaic_end_to_end(tmp_path, capsys, jwcal_pm):
    """Simulated NIRCam mosaic (2 tiles x 2 filters, SUB64P) -> survey run with destriping and
    tabulated alignment inserted -> i2d per filter (when image3 exists) -> release."""
    from astropy.table import Table

    from jwcal_nircam import plugin as nircam_plugin

    jwcal_pm.register_plugin(nircam_plugin.plugin, name="nircam", distribution="jwcal-nircam")
    code, err = jwcal(["simulate", tmp_path / "sim", "-i", "nircam", "-d", "NRCA1", "--filter", "F200W,F150W",
                       "--subarray", "SUB64P", "--ngroups", "3", "--mosaic", "2x1", "--seed", "3"], capsys)
    assert code == 0, err
    Table({"visit": ["jw01234001002"], "dra": [0.05], "ddec": [-0.02]}).write(tmp_path / "shifts.ecsv")
    survey = tmp_path / "survey.toml"
    survey.write_text(f"""
[survey]
name = "sim-mosaic"
raw = "sim"
output = "products"
refs = "sim/refs"
targets = ["JWCAL-SIM-FIELD"]
instruments = ["nircam"]
filters = ["F200W", "F150W"]
executor = "serial"

[survey.instrument.nircam.steps.nircam_destripe]
insert_after = "flat_field"
method = "median"

[steps.astrometric_align]
insert_after = "assign_wcs"
table = "{tmp_path / 'shifts.ecsv'}"
""")
    code, err = jwcal(["run", "--config", survey], capsys)
    assert code == 0, err
    out = tmp_path / "products" / "jwcal-sim-field" / "nircam"
    cals = sorted(out.glob("*_cal.fits"))
    assert len(cals) == 4
    for c in cals:
        m = open_model(c)
        assert m.meta.cal_step.nircam_destripe == "COMPLETE"
        tile2 = "jw01234001002" in c.name
        assert m.meta.cal_step.astrometric_align == ("COMPLETE" if tile2 else "SKIPPED")
        if tile2:
            assert m.meta.get("jwcal.alignment")[0]["dra"] == pytest.approx(0.05)
    from jwcore.plugins import get_plugin_manager

    has_image3 = "image3" in get_plugin_manager().registry.pipeline_aliases
    i2ds = sorted(out.glob("jw01234-o*_i2d.fits"))      # (image2 may write per-exposure i2d too)
    if has_image3:
        assert [p.name for p in i2ds] == ["jw01234-o001_t001_nircam_clear-f150w_i2d.fits",
                                          "jw01234-o001_t001_nircam_clear-f200w_i2d.fits"]
    code, err = jwcal(["release", tmp_path / "products", "-o", tmp_path / "release", "-s", "i2d", "-s", "cal"], capsys)
    assert code == 0, err
    man = json.loads((tmp_path / "release" / "manifest.json").read_text())
    names = {f["file"] for f in man["files"]}
    assert len([n for n in names if n.endswith("_cal.fits")]) == 4
    if has_image3:
        assert {"jwcal-sim-field_nircam_f150w_i2d.fits", "jwcal-sim-field_nircam_f200w_i2d.fits"} <= names
        assert fits.getheader(tmp_path / "release" / "jwcal-sim-field_nircam_f200w_i2d.fits", 0)["FILTER"] == "F200W"
