"""The README's main job, small: jwcal demo simulates a program and calibrates it end to end."""

import json

import numpy as np

from jwcore.cli.main import main
from jwcore.datamodel import open_model


def test_demo_end_to_end(tmp_path, capsys):
    try:
        code = main(["demo", str(tmp_path / "d"), "--subarray", "SUB160", "--filters", "F200W", "--dithers", "2",
                     "--ngroups", "4", "-j", "2"])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code in (0, None), err
    out = tmp_path / "d" / "out"
    cals = sorted(out.glob("*_cal.fits"))
    assert len(cals) == 2
    cal = open_model(cals[0])
    assert cal.meta.cal_step.flat_field == "COMPLETE" and cal.meta.cal_step.photom == "COMPLETE"
    assert cal.meta.bunit_data == "MJy/sr" and cal.meta.wcs is not None
    assert np.isfinite(cal.data).mean() > 0.9
    record = json.loads((out / "jwcal_run_latest.json").read_text())
    assert all(u["status"] == "ok" for u in record["units"])
    assert (out / "report.html").exists()
