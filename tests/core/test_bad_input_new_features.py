"""Bad input on the paths added lately gets a one-line error and a non-zero exit, never a
traceback, a half-written product or an overwritten input; one bad exposure of a batch does
not stop the others.

Driven through the real command line (``jwcore.cli.main.main``, the installed plugins) on
small simulated exposures: a NIRSpec NRS1 SUB32 imaging exposure (3 groups) and a NIRCam
NRC_TSIMAGE SUB64P exposure (4 groups, 2 integrations), each with its simulated reference
store.  Cases: the NIRSpec imaging WCS with damaged or wrong-kind optical references and bad
GWA tilt / DETECTOR keywords, per-integration stage 2 (_rateints -> _calints) with its
_rateints gone and stage 2 given a raw ramp, ramp_fit LIKELY with unusable gain/readnoise
references (and 3 groups: the OLS_C fall-back), an override of the wrong reference type
(IRS2 REFPIX included), the reference store (damaged index, entries outside the store, no
store, a USEAFTER that cannot be read), ``jwcal simulate`` options that cannot apply, the
Dask executor without ``distributed``, and damaged run-state and run-record files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from jwcore.cli.main import main

NRS = "jw01234001001_01101_00001_nrs1"
TSO = "jw01234001001_01101_00001_nrca1"


# ------------------------------------------------------------------------------ helpers
def jwcal(capsys, *args):
    """``jwcal ARGS`` in this process: (exit code, stderr)."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    return (0 if code is None else code), capsys.readouterr().err


def error_line(err: str) -> str:
    """The one ``jwcal: error:`` line of a failed command (there must be exactly one)."""
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.startswith("jwcal: error:")]
    assert len(lines) == 1, err
    return lines[0]


def no_partial_files(*folders) -> None:
    for folder in folders:
        left = [p.name for p in Path(folder).rglob("*.part")] if Path(folder).exists() else []
        assert not left, left


def products(folder) -> list:
    """FITS products in ``folder`` (none when it was never made)."""
    return sorted(p.name for p in Path(folder).glob("*.fits")) if Path(folder).exists() else []


def digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def simulate(folder: Path, instrument, detector, subarray, ngroups, nints=1, exp_type=None):
    """What ``jwcal simulate`` writes (one exposure, no cosmic rays): (uncal, refs)."""
    from dataclasses import replace

    from jwcore.sim.detector import get_detector
    from jwcore.sim.exposure import plan_observation, simulate_observation
    from jwcore.sim.ramp import RampOptions
    from jwcore.sim.references import build_store, write_reference_set

    spec = get_detector(instrument, detector)
    if exp_type:
        spec = replace(spec, exp_type=exp_type)
    flt = [spec.default_filter]
    plan = plan_observation(spec, filters=flt, ngroups=ngroups, nints=nints, subarray=subarray, seed=3)
    products = simulate_observation(spec, folder, plan, options=RampOptions(cosmic_rays=False, threads=2))
    refs = folder / "refs"
    paths = write_reference_set(spec, refs, seed=3, filters=flt, subarrays=[subarray],
                                readpatt=spec.default_readpatt, ngroups=ngroups, nints=max(nints, 2),
                                window=subarray)
    build_store(refs, paths)
    return Path(products[0].uncal), refs


def with_meta(src, dst, **changes):
    """A copy of product ``src`` with metadata changed (``None`` removes the keyword)."""
    from jwcore.datamodel import open_model

    model = open_model(src)
    model.load_all()
    for path, value in changes.items():
        path = path.replace("__", ".")
        if value is None:
            parent, leaf = path.rsplit(".", 1)
            node = model.meta
            for name in parent.split("."):
                node = getattr(node, name)
            if leaf in node:
                delattr(node, leaf)
        else:
            model.meta.set(path, value)
    model.save(dst)
    model.close()
    return Path(dst)


def edited_asdf(src, dst, edit):
    """A copy of ASDF reference ``src`` whose tree ``edit(tree)`` changed."""
    import asdf

    with asdf.open(src, lazy_load=False, memmap=False) as af:
        tree = {k: v for k, v in af.tree.items() if k not in ("asdf_library", "history")}
    edit(tree)
    asdf.AsdfFile(tree).write_to(dst)
    return Path(dst)


def edited_fits(src, dst, edit):
    from astropy.io import fits

    shutil.copy(src, dst)
    with fits.open(dst, mode="update") as hdul:
        edit(hdul)
    return Path(dst)


# ------------------------------------------------------------------------------ data
@pytest.fixture(scope="module")
def nrs(tmp_path_factory):
    """NIRSpec NRS1 SUB32 imaging: uncal, its stage-1 rate, and the simulated store."""
    folder = tmp_path_factory.mktemp("nrs")
    uncal, refs = simulate(folder / "sim", "nirspec", "NRS1", "SUB32", ngroups=3)
    out = folder / "stage1"
    try:
        code = main(["-q", "run", str(uncal), "--stage", "1", "--refs", str(refs), "--executor", "serial",
                     "-o", str(out)])
    except SystemExit as exc:
        code = exc.code
    assert code in (0, None)
    return {"uncal": uncal, "rate": out / f"{NRS}_rate.fits", "refs": refs}


@pytest.fixture(scope="module")
def tso(tmp_path_factory):
    """NIRCam NRC_TSIMAGE SUB64P (4 groups, 2 integrations): per-integration stage 2."""
    folder = tmp_path_factory.mktemp("tso")
    uncal, refs = simulate(folder / "sim", "nircam", "NRCA1", "SUB64P", ngroups=4, nints=2, exp_type="NRC_TSIMAGE")
    return {"uncal": uncal, "refs": refs}


def optical(nrs, name):
    return nrs["refs"] / f"jwcal_nirspec_nrs1_{name}.asdf"


# --------------------------------------------------------------- NIRSpec imaging WCS
def _no_tilt_model(tree):
    del tree["gwa_tiltx"]["tilt_model"]


def _text_angle(tree):
    tree["theta_x"] = "abc"


def _short_rows(tree):
    tree["wavelengthrange"] = [[1e-6]] * len(tree["wavelengthrange"])


def _uneven_lists(tree):
    tree["order"] = tree["order"][:1]


def _selector_not_list(tree):
    tree["waverange_selector"] = 5


@pytest.mark.parametrize("reftype,source,edit,message", [
    ("disperser", "disperser", _no_tilt_model, "disperser gwa_tiltx has no 'tilt_model' transform"),
    ("disperser", "disperser", _text_angle, "disperser angle theta_x is 'abc', not a number"),
    ("wavelengthrange", "wavelengthrange", _short_rows, "is not a name, an order and a (low, high) wavelength pair"),
    ("wavelengthrange", "wavelengthrange", _uneven_lists, "wavelengthrange lists differ in length"),
    ("wavelengthrange", "wavelengthrange", _selector_not_list, "must be lists"),
    ("fpa", "camera", None, "has REFTYPE CAMERA, not FPA"),          # a whole reference of the wrong kind
    ("disperser", "fpa", None, "has REFTYPE FPA, not DISPERSER"),
])
def test_nirspec_wcs_bad_optical_reference(nrs, tmp_path, capsys, reftype, source, edit, message):
    bad = optical(nrs, source)
    if edit is not None:
        bad = edited_asdf(bad, tmp_path / f"bad_{reftype}.asdf", edit)
    before = digest(nrs["rate"])
    code, err = jwcal(capsys, "step", "assign_wcs", nrs["rate"], f"--override_{reftype}={bad}",
                      "--refs", nrs["refs"], "-o", tmp_path / "out")
    assert code == 1
    line = error_line(err)
    assert message in line and str(bad.name) in line
    assert products(tmp_path / "out") == []
    no_partial_files(tmp_path, nrs["rate"].parent)
    assert digest(nrs["rate"]) == before


def test_nirspec_wcs_truncated_reference(nrs, tmp_path, capsys):
    data = optical(nrs, "fpa").read_bytes()
    bad = tmp_path / "fpa_truncated.asdf"
    bad.write_bytes(data[: len(data) // 2])
    code, err = jwcal(capsys, "step", "assign_wcs", nrs["rate"], f"--override_fpa={bad}", "--refs", nrs["refs"],
                      "-o", tmp_path / "out")
    assert code == 1
    assert "not a readable ASDF fpa reference" in error_line(err)
    no_partial_files(tmp_path)


@pytest.mark.parametrize("changes,message", [
    ({"instrument__gwa_xtilt": "abc"}, "GWA_XTIL = 'abc' is not a GWA tilt-sensor reading"),
    ({"instrument__detector": None}, "needs DETECTOR NRS1 or NRS2, and the exposure has no DETECTOR keyword"),
])
def test_nirspec_wcs_bad_exposure_keywords(nrs, tmp_path, capsys, changes, message):
    rate = with_meta(nrs["rate"], tmp_path / f"{NRS}_rate.fits", **changes)
    # the detector-keyed optical references given explicitly, so the WCS builder sees the exposure
    overrides = [f"--override_{r}={optical(nrs, r)}" for r in ("fpa", "camera", "disperser", "collimator",
                                                                 "wavelengthrange", "ote")]
    before = digest(rate)
    code, err = jwcal(capsys, "step", "assign_wcs", rate, *overrides, f"--override_fore={optical(nrs, 'fore_f110w')}",
                      "--refs", nrs["refs"], "-o", tmp_path / "out")
    assert code == 1 and message in error_line(err)
    assert digest(rate) == before
    no_partial_files(tmp_path)


def test_nirspec_missing_gwa_tilt_uses_reference_angles(nrs, tmp_path, capsys):
    """No GWA_XTIL/GWA_YTIL: the disperser angles are used as they are (as jwst does)."""
    rate = with_meta(nrs["rate"], tmp_path / f"{NRS}_rate.fits", instrument__gwa_xtilt=None,
                     instrument__gwa_ytilt=None)
    code, err = jwcal(capsys, "step", "assign_wcs", rate, "--refs", nrs["refs"], "-o", tmp_path / "out")
    assert code == 0, err
    assert (tmp_path / "out" / f"{NRS}_assign_wcs.fits").exists()


def test_one_bad_nirspec_exposure_does_not_stop_the_batch(nrs, tmp_path, capsys):
    good = tmp_path / "in" / f"{NRS}_rate.fits"
    good.parent.mkdir()
    shutil.copy(nrs["rate"], good)
    bad = with_meta(nrs["rate"], tmp_path / "in" / "jw01234001001_01101_00002_nrs1_rate.fits",
                    instrument__gwa_xtilt="abc")
    code, err = jwcal(capsys, "run", bad, good, "--stage", "2", "--refs", nrs["refs"], "--executor", "serial",
                      "-o", tmp_path / "out")
    assert code == 1 and "Traceback" not in err
    assert "GWA_XTIL = 'abc'" in err and "1 succeeded, 1 failed" in err
    assert (tmp_path / "out" / f"{NRS}_cal.fits").exists()
    assert not (tmp_path / "out" / "jw01234001001_01101_00002_nrs1_cal.fits").exists()
    no_partial_files(tmp_path)


# ------------------------------------------------------------- per-integration stage 2
def test_tso_rerun_remakes_a_deleted_rateints(tso, tmp_path, capsys):
    out = tmp_path / "out"
    common = ("--to-stage", "2", "--refs", tso["refs"], "--executor", "serial", "-o", out)
    code, err = jwcal(capsys, "run", tso["uncal"], *common)
    assert code == 0, err
    rateints, calints = out / f"{TSO}_rateints.fits", out / f"{TSO}_calints.fits"
    assert rateints.exists() and calints.exists() and not (out / f"{TSO}_cal.fits").exists()
    rateints.unlink()
    calints.unlink()
    code, err = jwcal(capsys, "run", tso["uncal"], *common)
    assert code == 0, err                                # stage 1 is not "up to date" without it
    assert rateints.exists() and calints.exists()
    no_partial_files(out)


@pytest.mark.parametrize("how", ["--stage 2", "named _rateints"])
def test_stage2_given_a_raw_ramp(tso, tmp_path, capsys, how):
    if how == "--stage 2":
        inp, extra = tso["uncal"], ("--stage", "2")
    else:
        inp, extra = tmp_path / f"{TSO}_rateints.fits", ("--to-stage", "2")
        shutil.copy(tso["uncal"], inp)
    before = digest(inp)
    code, err = jwcal(capsys, "run", inp, *extra, "--refs", tso["refs"], "--executor", "serial", "-o", tmp_path / "out")
    assert code == 1 and "Traceback" not in err
    assert "is a raw ramp (Level1bModel), not a stage-2 input; run stage 1 on it first" in err
    assert products(tmp_path / "out") == []
    assert digest(inp) == before


@pytest.mark.parametrize("step", ["flat_field", "photom", "gain_scale"])
def test_image_step_given_a_raw_ramp(nrs, tmp_path, capsys, step):
    """``jwcal step <step on calibrated products> X_uncal.fits``: one line, nothing written."""
    before = digest(nrs["uncal"])
    code, err = jwcal(capsys, "step", step, nrs["uncal"], "--refs", nrs["refs"], "-o", tmp_path / "out")
    assert code != 0
    assert "works on calibrated products, not a raw ramp" in error_line(err)
    assert products(tmp_path / "out") == []
    assert digest(nrs["uncal"]) == before


# ------------------------------------------------------------------- ramp_fit LIKELY
def test_likely_with_unusable_gain_or_readnoise(tso, tmp_path, capsys):
    gain = tso["refs"] / "jwcal_nircam_nrca1_gain.fits"
    readnoise = tso["refs"] / "jwcal_nircam_nrca1_readnoise.fits"

    def fill(value):
        def edit(hdul):
            hdul["SCI"].data[...] = value
        return edit

    cases = [
        (f"--override_gain={edited_fits(gain, tmp_path / 'gain_nan.fits', fill(np.nan))}",
         "no finite, positive gain over the exposure's pixels"),
        (f"--override_gain={edited_fits(gain, tmp_path / 'gain_zero.fits', fill(0.0))}",
         "no finite, positive gain over the exposure's pixels"),
        (f"--override_readnoise={edited_fits(readnoise, tmp_path / 'rn_nan.fits', fill(np.nan))}",
         "READNOISE reference"),
        (f"--override_gain={readnoise}", "has REFTYPE READNOISE, not GAIN"),
    ]
    for option, message in cases:
        code, err = jwcal(capsys, "step", "ramp_fit", tso["uncal"], "--algorithm=LIKELY", option,
                          "--refs", tso["refs"], "-o", tmp_path / "out")
        assert code == 1, option
        assert message in error_line(err), option
        assert products(tmp_path / "out") == [], option


def test_likely_with_three_groups_falls_back_to_ols(nrs, tmp_path, capsys):
    code, err = jwcal(capsys, "step", "ramp_fit", nrs["uncal"], "--algorithm=LIKELY", "--refs", nrs["refs"],
                      "-o", tmp_path)
    assert code == 0, err
    assert "LIKELY needs at least 4 groups; using OLS_C" in err
    assert (tmp_path / f"{NRS}_ramp_fit.fits").exists()


# ---------------------------------------------------------------------- IRS2 REFPIX
def test_irs2_refpix_of_the_wrong_kind(tso, tmp_path, capsys):
    from jwcore.datamodel.models import RampModel

    shape = (1, 2, 3200, 32)     # IRS2 rows; the reference is refused before any pixel is read
    model = RampModel(data=np.full(shape, 1000.0, np.float32))
    model.pixeldq = np.zeros(shape[-2:], np.uint32)
    model.groupdq = np.zeros(shape, np.uint8)
    for key, value in {"instrument.name": "NIRSPEC", "instrument.detector": "NRS1", "exposure.type": "NRS_FIXEDSLIT",
                       "exposure.readpatt": "NRSIRS2RAPID", "exposure.nrs_normal": 16,
                       "exposure.nrs_reference": 4, "subarray.name": "FULL"}.items():
        model.meta.set(key, value)
    ramp = tmp_path / "x_irs2_ramp.fits"
    model.save(ramp)
    wrong = tso["refs"] / "jwcal_nircam_nrca1_gain.fits"
    code, err = jwcal(capsys, "step", "refpix", ramp, f"--override_refpix={wrong}", "-o", tmp_path / "out")
    assert code == 1 and "has REFTYPE GAIN, not REFPIX" in error_line(err)
    assert products(tmp_path / "out") == []


# ------------------------------------------------------------------- reference store
def _store_copy(nrs, tmp_path, edit_index=None):
    store = tmp_path / "store"
    shutil.copytree(nrs["refs"], store, copy_function=shutil.copy2)
    if edit_index is not None:
        index = store / "store.json"
        data = json.loads(index.read_text())
        index.write_text(json.dumps(edit_index(data)))
    return store


def _gain_entry(data):
    return next(e for e in data["files"] if e["reftype"] == "gain")


def _escape(data):
    _gain_entry(data)["file"] = "../elsewhere/jwcal_nirspec_nrs1_gain.fits"
    return data


def _bad_useafter(data):
    _gain_entry(data)["useafter"] = "yesterday"
    return data


@pytest.mark.parametrize("edit,message", [
    (lambda data: data["files"], "corrupt reference store index (expected an object with a 'files' list)"),
    (_escape, "entry '../elsewhere/jwcal_nirspec_nrs1_gain.fits' is not a file name inside the store"),
    (_bad_useafter, "jwcal_nirspec_nrs1_gain.fits: USEAFTER: cannot read date 'yesterday'"),
])
def test_refs_verify_damaged_index(nrs, tmp_path, capsys, edit, message):
    store = _store_copy(nrs, tmp_path, edit)
    before = digest(store / "store.json")
    code, err = jwcal(capsys, "refs", "verify", "--refs", store)
    assert code == 2 and message in error_line(err)
    assert digest(store / "store.json") == before


def test_refs_verify_without_a_store(tmp_path, capsys):
    code, err = jwcal(capsys, "refs", "verify", "--refs", tmp_path / "nowhere")
    assert code == 2 and "no reference store here (no store.json)" in error_line(err)


def test_run_with_a_store_entry_outside_the_store(nrs, tmp_path, capsys):
    store = _store_copy(nrs, tmp_path, _escape)
    code, err = jwcal(capsys, "run", nrs["uncal"], "--stage", "1", "--refs", store, "--executor", "serial",
                      "-o", tmp_path / "out")
    assert code == 1 and "Traceback" not in err
    assert "is not a file name inside the store; refusing it" in err
    assert not (tmp_path / "out" / f"{NRS}_rate.fits").exists()


def test_run_with_no_store_says_so(nrs, tmp_path, capsys):
    code, err = jwcal(capsys, "run", nrs["uncal"], "--stage", "1", "--refs", tmp_path / "nowhere",
                      "--executor", "serial", "-o", tmp_path / "out")
    assert code == 1 and "Traceback" not in err
    assert f"the local reference store {tmp_path / 'nowhere'} has no store.json" in err


# ------------------------------------------------------------------------ simulate
def test_simulate_zero_frame_for_miri(tmp_path, capsys):
    code, err = jwcal(capsys, "simulate", tmp_path / "sim", "-i", "miri", "--subarray", "SUB64", "--ngroups", "3",
                      "--zero-frame")
    assert code == 2
    assert "--zero-frame: MIRI MIRIMAGE (Si:As) has no zero frame" in error_line(err)
    assert not (tmp_path / "sim").exists() or not list((tmp_path / "sim").rglob("*"))


def test_simulate_declination_out_of_range(tmp_path, capsys):
    code, err = jwcal(capsys, "simulate", tmp_path / "sim", "-i", "nirspec", "--subarray", "SUB32", "--dec", "95")
    assert code == 2 and "Traceback" not in err           # click's usage error (usage line + error line)
    assert "Invalid value for '--dec': 95.0 is not in the range -90.0<=x<=90.0" in err
    assert not (tmp_path / "sim").exists()


# ------------------------------------------------------------------ executors, records
def test_dask_executor_without_distributed(nrs, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)      # `import distributed` fails
    code, err = jwcal(capsys, "run", nrs["uncal"], "--stage", "1", "--refs", nrs["refs"], "--executor", "dask",
                      "-o", tmp_path / "out")
    assert code == 2 and "--executor dask needs dask.distributed" in error_line(err)
    assert products(tmp_path / "out") == []


def test_damaged_run_state_and_record(nrs, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".jwcal-state.json").write_text("[1, 2]")           # not ours: started afresh
    code, err = jwcal(capsys, "run", nrs["uncal"], "--stage", "1", "--refs", nrs["refs"], "--executor", "serial",
                      "-o", out)
    assert code == 0, err
    assert (out / f"{NRS}_rate.fits").exists()
    record = tmp_path / "record.json"
    record.write_text("[]")
    code, err = jwcal(capsys, "run", "--manifest", record, "-o", tmp_path / "again")
    assert code == 2 and "not a jwcal run record (a JSON list, not an object)" in error_line(err)
