"""Local reference store: CRDS-style matching, USEAFTER, subarrays, wildcards, checksums."""

from pathlib import Path

import pytest

from jwcore.errors import ReferenceFileError
from jwcore.refs import select_reference
from jwcore.refs.store import LocalStore, match_weight, serves_subarray

from .helpers import exposure_meta, write_ref


@pytest.fixture
def store(inst_pm, tmp_path):
    return LocalStore(tmp_path / "store")


def add(pm, store, src, *refs):
    """Write each (name, reftype, instrument, useafter, meta) into src and add it to the store."""
    def keys(instrument, reftype):
        return pm.hook.jwcal_reference_match_keys(instrument=instrument, reftype=reftype)

    for name, reftype, instrument, useafter, meta in refs:
        store.add(write_ref(src, name, reftype, instrument, useafter, **meta), match_keys_for=keys)
    store.save_index()
    return LocalStore(store.root)          # re-read the index, as a new run would


def chosen(pm, store, reftype, model):
    sel = select_reference(pm, reftype, model.meta, store=store)
    return None if sel is None else Path(sel.path).name


# -- match values ----------------------------------------------------------------------
@pytest.mark.parametrize("ref,exp,weight", [
    ("F150W", "F150W", 1), ("f150w", "F150W", 1), ("F150W", "F200W", None),
    ("F200W|F150W|", "F150W", 1), ("F200W|F150W|", "F090W", None),
    ("ANY", "F444W", 1), ("*", "F444W", 1), ("N/A", "F444W", 0), ("", "X", 0), (None, "X", 0),
    ("SUB*P|", "SUB64P", 1), ("FULL", None, None),
])
def test_match_weight_crds_semantics(ref, exp, weight):
    assert match_weight(ref, exp) == weight


def test_serves_subarray_rule():
    assert serves_subarray("gain", "FULL", "SUB64P")
    assert serves_subarray("dark", "GENERIC", "SUB64P")        # GENERIC is CRDS's N/A
    assert not serves_subarray("dark", "FULL", "SUB64P")       # darks are not cut out
    assert not serves_subarray("reset", "FULL", "BRIGHTSKY")
    assert not serves_subarray("gain", "FULL", "FULL")         # same subarray: a normal match


# -- USEAFTER --------------------------------------------------------------------------
def test_latest_useafter_not_after_the_exposure(inst_pm, store, tmp_path):
    full = {"instrument__detector": "NRCA1", "subarray__name": "FULL"}
    store = add(inst_pm, store, tmp_path / "src",
                ("g_2022a.fits", "gain", "NIRCAM", "2022-01-01T00:00:00", full),
                ("g_2022b.fits", "gain", "NIRCAM", "2022-07-01T00:00:00", full),
                ("g_2023.fits", "gain", "NIRCAM", "2023-01-01T00:00:00", full),
                ("g_2030.fits", "gain", "NIRCAM", "2030-01-01T00:00:00", full))

    def at(date, time="12:00:00"):
        return chosen(inst_pm, store, "gain", exposure_meta("NIRCAM", "NRCA1", date, time, subarray__name="FULL"))

    assert at("2022-03-01") == "g_2022a.fits"
    assert at("2022-06-30", "23:59:59") == "g_2022a.fits"      # the time of day counts
    assert at("2022-07-01", "00:00:00") == "g_2022b.fits"      # USEAFTER equal to DATE-OBS applies
    assert at("2024-05-05") == "g_2023.fits"                   # a future USEAFTER is never used
    with pytest.raises(ReferenceFileError, match="gain"):
        at("2021-12-31")


# -- subarrays -------------------------------------------------------------------------
def test_full_frame_gain_serves_a_subarray_exposure(inst_pm, store, tmp_path):
    store = add(inst_pm, store, tmp_path / "src",
                ("g_full.fits", "gain", "NIRCAM", "2023-01-01T00:00:00",
                 {"instrument__detector": "NRCA1", "subarray__name": "FULL"}))
    sub = exposure_meta("NIRCAM", "NRCA1", subarray__name="SUB64P")
    assert chosen(inst_pm, store, "gain", sub) == "g_full.fits"
    # a gain made for that subarray wins over the full-frame one, even when older
    store = add(inst_pm, store, tmp_path / "src",
                ("g_sub64p.fits", "gain", "NIRCAM", "2022-01-01T00:00:00",
                 {"instrument__detector": "NRCA1", "subarray__name": "SUB64P"}))
    assert chosen(inst_pm, store, "gain", sub) == "g_sub64p.fits"
    full = exposure_meta("NIRCAM", "NRCA1", subarray__name="FULL")
    assert chosen(inst_pm, store, "gain", full) == "g_full.fits"


def test_nircam_dark_is_selected_by_subarray(inst_pm, store, tmp_path):
    common = {"instrument__detector": "NRCA1", "exposure__type": "NRC_IMAGE", "exposure__noutputs": 4}
    store = add(inst_pm, store, tmp_path / "src",
                ("d_full.fits", "dark", "NIRCAM", "2023-01-01T00:00:00", {**common, "subarray__name": "FULL"}),
                ("d_sub64p.fits", "dark", "NIRCAM", "2022-01-01T00:00:00", {**common, "subarray__name": "SUB64P"}))

    def expo(sub, **kw):
        return exposure_meta("NIRCAM", "NRCA1", subarray__name=sub, exposure__type="NRC_IMAGE",
                             exposure__noutputs=4, **kw)

    assert chosen(inst_pm, store, "dark", expo("SUB64P")) == "d_sub64p.fits"
    assert chosen(inst_pm, store, "dark", expo("FULL")) == "d_full.fits"
    # a full-frame dark does not serve another subarray: the error names reftype and keywords
    with pytest.raises(ReferenceFileError) as err:
        chosen(inst_pm, store, "dark", expo("SUB160"))
    assert "dark" in str(err.value) and "SUB160" in str(err.value) and "NRCA1" in str(err.value)
    # a GENERIC dark serves any subarray, but the SUB64P one stays the better match for SUB64P
    store = add(inst_pm, store, tmp_path / "src",
                ("d_generic.fits", "dark", "NIRCAM", "2024-01-01T00:00:00", {**common, "subarray__name": "GENERIC"}))
    assert chosen(inst_pm, store, "dark", expo("SUB160", date="2024-06-01")) == "d_generic.fits"
    assert chosen(inst_pm, store, "dark", expo("SUB64P", date="2024-06-01")) == "d_sub64p.fits"
    # NOUTPUTS is a NIRCam dark selector
    with pytest.raises(ReferenceFileError, match="dark"):
        chosen(inst_pm, store, "dark", exposure_meta("NIRCAM", "NRCA1", subarray__name="SUB64P",
                                                     exposure__type="NRC_IMAGE", exposure__noutputs=1))


def test_miri_dark_reset_and_flat_subarrays(inst_pm, store, tmp_path):
    img = {"instrument__detector": "MIRIMAGE"}
    store = add(inst_pm, store, tmp_path / "src",
                ("md_fast_full.fits", "dark", "MIRI", "2022-01-01T00:00:00",
                 {**img, "exposure__readpatt": "FAST", "subarray__name": "FULL"}),
                ("md_slow_full.fits", "dark", "MIRI", "2022-01-01T00:00:00",
                 {**img, "exposure__readpatt": "SLOW", "subarray__name": "FULL"}),
                ("md_fast_bs.fits", "dark", "MIRI", "2022-01-01T00:00:00",
                 {**img, "exposure__readpatt": "FAST", "subarray__name": "BRIGHTSKY"}),
                ("mr_fast_full.fits", "reset", "MIRI", "2022-01-01T00:00:00",
                 {**img, "exposure__readpatt": "FAST", "subarray__name": "FULL"}),
                ("mf_f770w_full.fits", "flat", "MIRI", "2022-01-01T00:00:00",
                 {**img, "instrument__filter": "F770W", "exposure__readpatt": "FAST", "subarray__name": "FULL",
                  "instrument__band": "N/A"}))

    def expo(sub, readpatt="FAST"):
        return exposure_meta("MIRI", "MIRIMAGE", subarray__name=sub, exposure__readpatt=readpatt,
                             instrument__filter="F770W")

    assert chosen(inst_pm, store, "dark", expo("FULL", "SLOW")) == "md_slow_full.fits"
    assert chosen(inst_pm, store, "dark", expo("BRIGHTSKY")) == "md_fast_bs.fits"
    with pytest.raises(ReferenceFileError, match="reset"):
        chosen(inst_pm, store, "reset", expo("BRIGHTSKY"))            # resets are not cut out either
    assert chosen(inst_pm, store, "reset", expo("FULL")) == "mr_fast_full.fits"
    assert chosen(inst_pm, store, "flat", expo("BRIGHTSKY")) == "mf_f770w_full.fits"   # flat_field cuts it out


def test_pattern_keyword_lists_the_subarrays(inst_pm, store, tmp_path):
    # P_SUBARR lists the subarrays a reference serves, as CRDS reads it
    store = add(inst_pm, store, tmp_path / "src",
                ("rn_sub.fits", "readnoise", "NIRCAM", "2022-01-01T00:00:00",
                 {"instrument__detector": "NRCB1", "exposure__readpatt": "RAPID", "subarray__name": "SUB64P",
                  "subarray__p_subarray": "SUB64P|SUB160P|"}))
    entry = store.entries[0]
    assert entry.match["meta.subarray.name"] == "SUB64P|SUB160P|"
    ok = exposure_meta("NIRCAM", "NRCB1", subarray__name="SUB160P", exposure__readpatt="RAPID")
    assert chosen(inst_pm, store, "readnoise", ok) == "rn_sub.fits"
    with pytest.raises(ReferenceFileError, match="readnoise"):
        chosen(inst_pm, store, "readnoise", exposure_meta("NIRCAM", "NRCB1", subarray__name="SUB400P",
                                                          exposure__readpatt="RAPID"))
    with pytest.raises(ReferenceFileError, match="readnoise"):      # READPATT is a readnoise selector
        chosen(inst_pm, store, "readnoise", exposure_meta("NIRCAM", "NRCB1", subarray__name="SUB160P",
                                                          exposure__readpatt="BRIGHT2"))


def test_nirspec_full_frame_superbias_ignores_subarray_geometry(inst_pm, store, tmp_path):
    geo_full = {"subarray__xstart": 1, "subarray__ystart": 1, "subarray__xsize": 2048, "subarray__ysize": 2048}
    geo_sub = {"subarray__xstart": 1, "subarray__ystart": 1, "subarray__xsize": 2048, "subarray__ysize": 32}
    base = {"instrument__detector": "NRS1", "exposure__readpatt": "NRSRAPID"}
    store = add(inst_pm, store, tmp_path / "src",
                ("sb_full.fits", "superbias", "NIRSPEC", "2022-01-01T00:00:00",
                 {**base, "subarray__name": "FULL", **geo_full}),
                ("nd_full.fits", "dark", "NIRSPEC", "2022-01-01T00:00:00",
                 {**base, "subarray__name": "FULL", **geo_full}),
                ("nd_s200.fits", "dark", "NIRSPEC", "2022-01-01T00:00:00",
                 {**base, "subarray__name": "SUBS200A1", **geo_sub}))
    sub = exposure_meta("NIRSPEC", "NRS1", subarray__name="SUBS200A1", exposure__readpatt="NRSRAPID", **geo_sub)
    assert chosen(inst_pm, store, "superbias", sub) == "sb_full.fits"
    assert chosen(inst_pm, store, "dark", sub) == "nd_s200.fits"
    moved = exposure_meta("NIRSPEC", "NRS1", subarray__name="SUBS200A1", exposure__readpatt="NRSRAPID",
                          **{**geo_sub, "subarray__ystart": 900})
    with pytest.raises(ReferenceFileError, match="dark"):          # the dark must sit where the exposure does
        chosen(inst_pm, store, "dark", moved)


# -- filters, pupils, wildcards --------------------------------------------------------
def test_filters_pupils_and_wildcards(inst_pm, store, tmp_path):
    a1 = {"instrument__detector": "NRCA1"}
    store = add(inst_pm, store, tmp_path / "src",
                ("f_pair.fits", "flat", "NIRCAM", "2022-01-01T00:00:00",
                 {**a1, "instrument__filter": "F200W|F150W|", "instrument__pupil": "CLEAR"}),
                ("f_090.fits", "flat", "NIRCAM", "2022-01-01T00:00:00",
                 {**a1, "instrument__filter": "F090W", "instrument__pupil": "CLEAR"}),
                ("f_any_rnd.fits", "flat", "NIRCAM", "2022-01-01T00:00:00",
                 {**a1, "instrument__filter": "ANY", "instrument__pupil": "MASKRND"}),
                ("f_444_na.fits", "flat", "NIRCAM", "2023-01-01T00:00:00",
                 {**a1, "instrument__filter": "F444W", "instrument__pupil": "N/A"}),
                ("f_444_clear.fits", "flat", "NIRCAM", "2022-01-01T00:00:00",
                 {**a1, "instrument__filter": "F444W", "instrument__pupil": "CLEAR"}))

    def flat(filt, pupil):
        return chosen(inst_pm, store, "flat", exposure_meta("NIRCAM", "NRCA1", instrument__filter=filt,
                                                            instrument__pupil=pupil))

    assert flat("F150W", "CLEAR") == "f_pair.fits"
    assert flat("F200W", "CLEAR") == "f_pair.fits"
    assert flat("F090W", "CLEAR") == "f_090.fits"
    assert flat("F277W", "MASKRND") == "f_any_rnd.fits"
    # N/A matches any pupil but an exact pupil is the better match, even with an older USEAFTER
    assert flat("F444W", "CLEAR") == "f_444_clear.fits"
    assert flat("F444W", "F405N") == "f_444_na.fits"
    with pytest.raises(ReferenceFileError) as err:
        flat("F277W", "CLEAR")
    msg = str(err.value)
    assert "flat" in msg and "NIRCAM" in msg and "'F277W'" in msg and "'CLEAR'" in msg and "'NRCA1'" in msg


def test_other_instrument_or_detector_never_matches(inst_pm, store, tmp_path):
    store = add(inst_pm, store, tmp_path / "src",
                ("g_nis.fits", "gain", "NIRISS", "2022-01-01T00:00:00",
                 {"instrument__detector": "NIS", "subarray__name": "GENERIC"}))
    assert chosen(inst_pm, store, "gain", exposure_meta("NIRISS", "NIS", subarray__name="SUBSTRIP96")) == "g_nis.fits"
    with pytest.raises(ReferenceFileError, match=r"gain.*DETECTOR='NRCA1'"):
        chosen(inst_pm, store, "gain", exposure_meta("NIRCAM", "NRCA1", subarray__name="FULL"))


# -- integrity -------------------------------------------------------------------------
def test_corrupted_or_missing_file_is_refused(inst_pm, store, tmp_path):
    store = add(inst_pm, store, tmp_path / "src",
                ("g.fits", "gain", "FGS", "2022-01-01T00:00:00",
                 {"instrument__detector": "GUIDER1", "subarray__name": "FULL"}))
    expo = exposure_meta("FGS", "GUIDER1", subarray__name="FULL")
    assert chosen(inst_pm, store, "gain", expo) == "g.fits"
    path = store.root / "g.fits"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF                                   # one flipped byte in the data
    path.write_bytes(bytes(data))
    with pytest.raises(ReferenceFileError, match="checksum"):
        chosen(inst_pm, LocalStore(store.root), "gain", expo)
    path.unlink()
    with pytest.raises(ReferenceFileError, match="missing"):
        chosen(inst_pm, LocalStore(store.root), "gain", expo)


def test_unchanged_file_is_not_hashed_again_but_verify_hashes_everything(inst_pm, store, tmp_path, monkeypatch):
    """A file whose size and modification time are those recorded at ``add`` is trusted
    (no SHA-256 at selection); a same-size change with the old mtime restored slips through
    selection but not ``verify``; any other change is hashed and refused."""
    import os

    from jwcore.refs import store as store_mod

    store = add(inst_pm, store, tmp_path / "src",
                ("g.fits", "gain", "FGS", "2022-01-01T00:00:00",
                 {"instrument__detector": "GUIDER1", "subarray__name": "FULL"}))
    entry = store.entries[0]
    path = store.root / "g.fits"
    st = path.stat()
    assert (entry.size, entry.mtime_ns) == (st.st_size, st.st_mtime_ns)
    hashed = []
    real = store_mod.sha256
    monkeypatch.setattr(store_mod, "sha256", lambda p: hashed.append(p) or real(p))
    expo = exposure_meta("FGS", "GUIDER1", subarray__name="FULL")
    assert chosen(inst_pm, LocalStore(store.root), "gain", expo) == "g.fits"
    assert hashed == []
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))          # size and mtime as recorded
    assert chosen(inst_pm, LocalStore(store.root), "gain", expo) == "g.fits"
    with pytest.raises(ReferenceFileError, match="checksum"):
        LocalStore(store.root).verified_path(entry, full=True)
    os.utime(path)                                                 # now the mtime differs
    with pytest.raises(ReferenceFileError, match="checksum"):
        chosen(inst_pm, LocalStore(store.root), "gain", expo)
    assert hashed
