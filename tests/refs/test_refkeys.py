"""The instrument plugins' selection-keyword tables (plugins/<inst>/jwcal_<inst>/refkeys.py)."""

import importlib

import pytest

from jwcore.datamodel.keywords import KEYWORDS
from jwcore.refs.store import FULL_FRAME_SERVES_SUBARRAYS, SUBARRAY_KEY

INSTRUMENTS = {"NIRCAM": "jwcal_nircam", "NIRISS": "jwcal_niriss", "MIRI": "jwcal_miri",
               "NIRSPEC": "jwcal_nirspec", "FGS": "jwcal_fgs"}

# The reftypes of detector1, image2 (imaging), persistence, MIRI's own steps and image3.
DETECTOR1 = {"mask", "saturation", "ipc", "superbias", "linearity", "dark", "gain", "readnoise", "refpix"}
PERSISTENCE = {"trapdensity", "trappars", "persat"}
IMAGE2 = {"flat", "photom", "area", "distortion", "filteroffset"}
IMAGE3 = {"drizpars", "apcorr", "abvegaoffset"}
MIRI_ONLY = {"reset", "rscd"}


def refkeys(instrument):
    return importlib.import_module(f"{INSTRUMENTS[instrument]}.refkeys")


@pytest.mark.parametrize("instrument", sorted(INSTRUMENTS))
def test_every_reftype_is_covered_or_not_applicable(instrument):
    mod = refkeys(instrument)
    wanted = DETECTOR1 | PERSISTENCE | IMAGE2 | IMAGE3 | MIRI_ONLY
    covered = set(mod.MATCH_KEYS) | set(mod.NOT_APPLICABLE)
    assert wanted <= covered, sorted(wanted - covered)
    assert not set(mod.MATCH_KEYS) & set(mod.NOT_APPLICABLE)


@pytest.mark.parametrize("instrument", sorted(INSTRUMENTS))
def test_paths_are_science_metadata_with_fits_keywords(instrument):
    mod = refkeys(instrument)
    for reftype, keys in mod.MATCH_KEYS.items():
        assert isinstance(keys, tuple), reftype
        assert len(set(keys)) == len(keys), reftype
        for path in keys:
            assert path in KEYWORDS.leaves, (reftype, path)
            kw = KEYWORDS.keyword_for(path)
            assert kw is not None and kw[1] == "PRIMARY", (reftype, path)
    assert all(p in KEYWORDS.leaves for p in mod.DEFAULT_KEYS)


@pytest.mark.parametrize("instrument", sorted(INSTRUMENTS))
def test_subarray_selectors_have_defined_semantics(instrument):
    # a reftype selected by SUBARRAY is either cut out of a full-frame file by its step or must
    # match the exposure exactly; only dark and reset are of the second kind
    mod = refkeys(instrument)
    exact = {r for r, keys in mod.MATCH_KEYS.items() if SUBARRAY_KEY in keys} - FULL_FRAME_SERVES_SUBARRAYS
    assert exact <= {"dark", "reset"}
    assert "dark" in exact


def test_tables_reach_the_hook(inst_pm):
    for instrument in INSTRUMENTS:
        mod = refkeys(instrument)
        for reftype, keys in mod.MATCH_KEYS.items():
            got = inst_pm.hook.jwcal_reference_match_keys(instrument=instrument, reftype=reftype)
            assert tuple(got) == keys, (instrument, reftype)
        got = inst_pm.hook.jwcal_reference_match_keys(instrument=instrument, reftype="not_a_reftype")
        assert tuple(got) == ("meta.instrument.detector",)


def test_documented_selectors():
    """Spot checks against jwst's "Reference Selection Keywords" tables and CRDS rmaps."""
    nrc, mir, nrs, nis = refkeys("NIRCAM").MATCH_KEYS, refkeys("MIRI").MATCH_KEYS, refkeys("NIRSPEC").MATCH_KEYS, \
        refkeys("NIRISS").MATCH_KEYS
    # NIRCam darks: EXP_TYPE, NOUTPUTS, SUBARRAY and not READPATT; MIRI darks: READPATT and SUBARRAY
    assert set(nrc["dark"]) == {"meta.instrument.detector", "meta.exposure.type", "meta.exposure.noutputs",
                                "meta.subarray.name"}
    assert set(mir["dark"]) == {"meta.instrument.detector", "meta.exposure.readpatt", "meta.subarray.name"}
    assert set(mir["reset"]) == set(mir["dark"])
    # NIRCam flat by FILTER and PUPIL; distortion also by PUPIL (jwst PR #6763)
    assert set(nrc["flat"]) == {"meta.instrument.detector", "meta.instrument.filter", "meta.instrument.pupil"}
    assert "meta.instrument.pupil" in nrc["distortion"] and "meta.instrument.channel" in nrc["distortion"]
    assert set(nrc["filteroffset"]) == {"meta.instrument.channel", "meta.instrument.module"}
    # NIRSpec photom by EXP_TYPE only; NIRSpec darks by the subarray geometry too
    assert nrs["photom"] == ("meta.exposure.type",)
    assert {"meta.subarray.xstart", "meta.subarray.ysize"} <= set(nrs["dark"])
    # drizpars: INSTRUME only; persistence: DETECTOR only
    assert nrc["drizpars"] == () and nis["drizpars"] == ()
    assert nrc["trapdensity"] == nis["persat"] == ("meta.instrument.detector",)
    # not applicable where CRDS answers N/A
    assert "superbias" in refkeys("MIRI").NOT_APPLICABLE and "rscd" in refkeys("NIRCAM").NOT_APPLICABLE
