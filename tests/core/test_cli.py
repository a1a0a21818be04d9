"""The jwcal command line, in-process (the plugin manager is the test's isolated one)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from jwcore.cli.main import cli, main
from jwcore.datamodel import open_model

from . import toy_plugin
from .helpers import toy_ramp


@pytest.fixture
def pm(jwcal_pm):
    jwcal_pm.register_plugin(toy_plugin, name="toy", distribution="jwcal-toy", version="9.9")
    return jwcal_pm


def run(args, capsys):
    code = None
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_plugins_lists_versions_and_steps(pm, capsys):
    code, out, _ = run(["plugins"], capsys)
    assert code == 0
    assert "jwcal-toy==9.9" in out and "toy_add" in out and "TOY_IMAGE" in out and "TOYCAM" in out
    code, out, _ = run(["plugins", "--json"], capsys)
    data = {d["name"]: d for d in json.loads(out)}
    assert data["toy"]["steps"] == ["toy_add", "toy_collapse", "toy_combine", "toy_scale"]
    assert data["toy"]["broken"] is False


def test_steps_lists_parameters_and_reftypes(pm, capsys):
    code, out, _ = run(["steps", "toy_add"], capsys)
    assert code == 0 and "--steps.toy_add.value=1.0" in out and "references: gain" in out


def test_run_end_to_end_with_overrides(pm, tmp_path, capsys):
    inp = tmp_path / "jw01234001001_01101_00001_toy1_uncal.fits"
    toy_ramp(inp)
    code, _, err = run(["run", str(inp), "-o", str(tmp_path / "out"), "--to-stage", "1", "--steps.toy_add.value=3",
                        "--steps.toy_add.override_gain=N/A"], capsys)
    assert code == 0, err
    rate = open_model(tmp_path / "out" / "jw01234001001_01101_00001_toy1_rate.fits")
    np.testing.assert_allclose(rate.data, toy_ramp().data.mean(axis=(0, 1)) + 3, rtol=1e-6)
    assert (tmp_path / "out" / "jw01234001001_01101_00001_toy1_rateints.fits").exists()
    assert "1 succeeded, 0 failed" in err


def test_one_bad_input_does_not_stop_others(pm, tmp_path, capsys):
    good = tmp_path / "a_uncal.fits"
    toy_ramp(good)
    bad = tmp_path / "b_uncal.fits"
    bad.write_bytes(b"garbage" * 100)
    code, _, err = run(["run", str(bad), str(good), "-o", str(tmp_path / "out"), "--stage", "1",
                        "--steps.toy_add.override_gain=N/A"], capsys)
    assert code == 1
    assert (tmp_path / "out" / "a_rate.fits").exists()
    assert "b_uncal.fits" in err and "not a readable FITS" in err and "1 succeeded, 1 failed" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("args,msg", [
    (["run", "/no/such/file_uncal.fits"], "no such file"),
    (["run", "{input}", "--steps.nope.x=1", "--steps.toy_add.override_gain=N/A"], "has a step 'nope'"),
    (["step", "no_such_step", "{input}"], "unknown step"),
    (["run", "{input}", "--pipeline", "image9"], "unknown pipeline"),
])
def test_user_errors_are_one_line(pm, tmp_path, capsys, args, msg):
    inp = tmp_path / "x_uncal.fits"
    toy_ramp(inp)
    args = [a.replace("{input}", str(inp)) for a in args]
    if args[0] == "run":
        args += ["-o", str(tmp_path / "out")]
    code, _, err = run(args, capsys)
    assert code != 0
    assert msg in err and "Traceback" not in err


def test_step_command_and_info(pm, tmp_path, capsys):
    inp = tmp_path / "x_uncal.fits"
    toy_ramp(inp)
    code, _, err = run(["step", "toy_add", str(inp), "--value=2", "--override_gain=N/A", "-o", str(tmp_path)], capsys)
    assert code == 0, err
    out_path = tmp_path / "x_toy_add.fits"
    np.testing.assert_allclose(open_model(out_path).data, toy_ramp().data + 2)
    code, out, _ = run(["info", str(out_path)], capsys)
    assert code == 0 and "RampModel" in out and "toy_add=COMPLETE" in out and "gain" in out
    assert "(2, 3, 8, 10)" in out


def test_asn_from_list_and_path_safety(tmp_path, capsys):
    for n in ("a_cal.fits", "b_cal.fits"):
        (tmp_path / n).write_bytes(b"")
    code, out, err = run(["asn", "from-list", str(tmp_path / "a_cal.fits"), str(tmp_path / "b_cal.fits"),
                          "-o", str(tmp_path / "m_asn.json"), "--product-name", "mosaic"], capsys)
    assert code == 0, err
    data = json.loads((tmp_path / "m_asn.json").read_text())
    assert [m["expname"] for m in data["products"][0]["members"]] == ["a_cal.fits", "b_cal.fits"]
    code, _, err = run(["asn", "from-list", "/etc/hostname", "-o", str(tmp_path / "x_asn.json"),
                        "--product-name", "m"], capsys)
    assert code == 2 and "not inside the association's folder" in err


def test_plugin_commands_hook(pm):
    import click

    class Cmds:
        from jwcore import hookimpl

        @hookimpl
        def jwcal_register_commands(self, cli):
            @cli.command("hello-toy")
            def hello():
                click.echo("hi")

    pm.register_plugin(Cmds(), name="cmds")
    group = click.Group(commands=dict(cli.commands))
    pm.hook.jwcal_register_commands(cli=group)
    assert "hello-toy" in group.commands


def test_console_script_runs():
    """The installed `jwcal` entry point answers (a fresh process, real discovery)."""
    r = subprocess.run([sys.executable, "-m", "jwcore", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "run" in r.stdout and "plugins" in r.stdout
