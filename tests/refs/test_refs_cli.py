"""``jwcal refs add|list|select`` in-process, on a store in tmp_path."""

import json

import pytest

from jwcore.cli.main import main

from .helpers import exposure_meta, write_ref


def run(args, capsys):
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def delivered(tmp_path):
    src = tmp_path / "delivered"
    a1 = {"instrument__detector": "NRCA1"}
    return [
        write_ref(src, "jwst_nircam_gain_0001.fits", "gain", "NIRCAM", "2022-01-01T00:00:00",
                  **a1, subarray__name="FULL"),
        write_ref(src, "jwst_nircam_gain_0002.fits", "gain", "NIRCAM", "2023-01-01T00:00:00",
                  **a1, subarray__name="FULL"),
        write_ref(src, "jwst_nircam_dark_0001.fits", "dark", "NIRCAM", "2022-01-01T00:00:00",
                  **a1, subarray__name="SUB64P", exposure__type="NRC_IMAGE"),
        write_ref(src, "jwst_nircam_flat_0001.fits", "flat", "NIRCAM", "2022-01-01T00:00:00",
                  **a1, instrument__filter="F200W|F150W|", instrument__pupil="CLEAR"),
    ]


def test_add_list_select(inst_pm, tmp_path, capsys, delivered):
    store = tmp_path / "store"
    code, out, err = run(["refs", "add", *map(str, delivered), "--refs", str(store)], capsys)
    assert code in (0, None), err
    assert out.count("added ") == 4 and "NIRCAM gain useafter 2023-01-01T00:00:00" in out
    index = json.loads((store / "store.json").read_text())
    assert {e["file"] for e in index["files"]} == {p.name for p in delivered}
    assert all(len(e["sha256"]) == 64 for e in index["files"])
    flat = next(e for e in index["files"] if e["reftype"] == "flat")
    assert flat["match"] == {"meta.instrument.detector": "NRCA1", "meta.instrument.filter": "F200W|F150W|",
                             "meta.instrument.pupil": "CLEAR"}

    code, out, err = run(["refs", "list", "--refs", str(store)], capsys)
    assert code in (0, None), err
    assert "4 files" in out
    line = next(ln for ln in out.splitlines() if "jwst_nircam_dark_0001.fits" in ln)
    assert "detector=NRCA1" in line and "name=SUB64P" in line and "type=NRC_IMAGE" in line

    expo = exposure_meta("NIRCAM", "NRCA1", date="2023-03-01", subarray__name="SUB64P",
                         exposure__type="NRC_IMAGE", instrument__filter="F150W", instrument__pupil="CLEAR")
    path = expo.save(tmp_path / "jw01234001001_01101_00001_nrca1_uncal.fits")
    code, out, err = run(["refs", "select", str(path), "gain", "dark", "flat", "ipc", "--refs", str(store)], capsys)
    assert code in (0, None), err
    chosen = {ln.split()[0]: ln.split(None, 1)[1] for ln in out.splitlines() if ln.strip()}
    assert chosen["gain"].endswith("jwst_nircam_gain_0002.fits")     # full frame serves SUB64P, latest USEAFTER
    assert chosen["dark"].endswith("jwst_nircam_dark_0001.fits")
    assert chosen["flat"].endswith("jwst_nircam_flat_0001.fits")
    assert chosen["ipc"].startswith("none:") and "ipc" in chosen["ipc"] and "NRCA1" in chosen["ipc"]

    # without naming reftypes: every reftype the store has for the instrument
    code, out, _ = run(["refs", "select", str(path), "--refs", str(store)], capsys)
    assert sorted(ln.split()[0] for ln in out.splitlines() if ln.strip()) == ["dark", "flat", "gain"]


def test_select_reports_a_corrupted_file(inst_pm, tmp_path, capsys, delivered, monkeypatch):
    store = tmp_path / "store"
    monkeypatch.setenv("JWCAL_REFS", str(store))           # the store found from the environment
    code, _, err = run(["refs", "add", str(delivered[1])], capsys)
    assert code in (0, None), err
    target = store / delivered[1].name
    data = bytearray(target.read_bytes())
    data[500] ^= 0x20                                     # one changed byte in the primary header
    target.write_bytes(bytes(data))
    path = exposure_meta("NIRCAM", "NRCA1", subarray__name="FULL").save(tmp_path / "x_uncal.fits")
    code, out, _ = run(["refs", "select", str(path), "gain"], capsys)
    assert "none:" in out and "checksum" in out


def test_verify_hashes_every_file(inst_pm, tmp_path, capsys, delivered):
    store = tmp_path / "store"
    code, _, err = run(["refs", "add", str(delivered[0]), str(delivered[1]), "--refs", str(store)], capsys)
    assert code in (0, None), err
    code, out, _ = run(["refs", "verify", "--refs", str(store)], capsys)
    assert code in (0, None) and "2 of 2 reference files match" in out
    target = store / delivered[1].name
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[-100] ^= 0x01
    target.write_bytes(bytes(data))
    import os

    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    code, out, err = run(["refs", "verify", "--refs", str(store)], capsys)
    assert code == 2 or code == 1
    assert "1 of 2 reference files match" in out and delivered[1].name in err
