"""The simulator's reference set: every file opens as the right stdatamodels model and passes
its validation (ValidationWarning is an error here); the local store selects them for a
simulated exposure; the LINEARITY coefficients invert the simulator's non-linearity."""

import warnings

import numpy as np
import pytest

from jwcore.sim.exposure import ExposureConfig, simulate_exposure
from jwcore.sim.ramp import RampOptions
from jwcore.sim.references import build_store, write_reference_set

from .conftest import detector

EXPECTED = {
    "mask": "MaskModel", "saturation": "SaturationModel", "superbias": "SuperBiasModel",
    "linearity": "LinearityModel", "gain": "GainModel", "readnoise": "ReadnoiseModel", "ipc": "IPCModel",
    "trapdensity": "TrapDensityModel", "trappars": "TrapParsModel", "persat": "PersistenceSatModel",
    "reset": "ResetModel", "rscd": "RSCDModel", "flat": "FlatModel", "area": "PixelAreaModel",
    "distortion": "DistortionModel", "filteroffset": "FilteroffsetModel",
    # NIRSpec's optical model
    "fpa": "FPAModel", "camera": "CameraModel", "collimator": "CollimatorModel", "fore": "FOREModel",
    "ote": "OTEModel", "disperser": "DisperserModel", "wavelengthrange": "WavelengthrangeModel",
}
PHOTOM = {"NIRCAM": "NrcImgPhotomModel", "NIRISS": "NisImgPhotomModel", "MIRI": "MirImgPhotomModel",
          "FGS": "FgsImgPhotomModel"}
# source_catalog's references: the imaging APCORR model per instrument (FITS) and ABVEGAOFFSET (ASDF),
# with the row-selector columns jwst's source_catalog reads (jwst/source_catalog/reference_data.py)
APCORR = {"NIRCAM": "NrcImgApcorrModel", "NIRISS": "NisImgApcorrModel", "MIRI": "MirImgApcorrModel",
          "FGS": "FgsImgApcorrModel"}
APCORR_SELECTORS = {"NIRCAM": {"filter", "pupil"}, "NIRISS": {"filter", "pupil"}, "MIRI": {"filter", "subarray"},
                    "FGS": set()}
ABVEGA_SELECTORS = {"NIRCAM": {"filter", "pupil"}, "NIRISS": {"filter", "pupil"}, "MIRI": {"filter"},
                    "FGS": {"detector"}}
APCORR_COLUMNS = {"eefraction", "radius", "apcorr", "skyin", "skyout"}
CASES = [("NIRCAM", "NRCA1", "SUB64P"), ("NIRCAM", "NRCBLONG", "SUB64P"), ("NIRISS", "NIS", "SUB64"),
         ("MIRI", "MIRIMAGE", "SUB64"), ("FGS", "GUIDER2", "SUB32CNTR"), ("NIRSPEC", "NRS2", "SUB32")]


def _reftype(path):
    return path.name.split("_", 3)[3].rsplit(".", 1)[0].split("_")[0]


@pytest.mark.filterwarnings("ignore::stdatamodels.jwst.datamodels.util.NoTypeWarning")
@pytest.mark.parametrize("inst,det,sub", CASES)
def test_every_reference_opens_as_its_stdatamodels_model(tmp_path, offline_crds, inst, det, sub):
    pytest.importorskip("stdatamodels")
    from stdatamodels.exceptions import ValidationWarning
    from stdatamodels.jwst import datamodels as dm

    spec = detector(inst, det)
    paths = write_reference_set(spec, tmp_path, seed=3, window=sub, subarrays=[sub], ngroups=4)
    seen = set()
    for path in paths:
        rt = _reftype(path)
        seen.add(rt)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ValidationWarning)
            with dm.open(path) as m:
                m.validate()
                name = type(m).__name__
                if rt == "dark":
                    assert name == ("DarkMIRIModel" if inst == "MIRI" else "DarkModel")
                    assert m.data.ndim == (4 if inst == "MIRI" else 3)
                    assert m.meta.exposure.nframes == 1 and m.meta.exposure.groupgap == 0
                elif rt == "photom":
                    assert name == PHOTOM[inst]
                    assert m.meta.photometry.pixelarea_steradians > 0
                elif rt == "apcorr":
                    assert name == APCORR[inst]
                    cols = set(m.apcorr_table.dtype.names)
                    assert cols == APCORR_COLUMNS | APCORR_SELECTORS[inst], cols
                    _check_apcorr_rows(m.apcorr_table, spec, APCORR_SELECTORS[inst])
                elif rt == "abvegaoffset":
                    assert name == "ABVegaOffsetModel"
                    table = m.abvega_offset
                    assert set(table.colnames) == ABVEGA_SELECTORS[inst] | {"abvega_offset"}, table.colnames
                    _check_abvega_rows(table, spec, ABVEGA_SELECTORS[inst])
                elif rt.startswith("pars-"):
                    assert m.meta.reftype == rt
                    continue
                else:
                    assert name == EXPECTED[rt], (path.name, name)
                assert m.meta.instrument.name == inst
                assert m.meta.useafter and m.meta.pedigree and m.meta.author and m.meta.description
                if path.suffix == ".fits":
                    assert m.meta.instrument.detector == det
                    assert m.meta.reftype.lower() == rt
    required = {"mask", "saturation", "linearity", "gain", "readnoise", "ipc", "dark", "flat", "area",
                "distortion", "trapdensity", "trappars", "persat", "pars-resamplestep", "pars-outlierdetectionstep"}
    required |= {"reset", "rscd"} if inst == "MIRI" else {"superbias"}
    required |= {"photom"} if inst != "NIRSPEC" else {"fpa", "camera", "collimator", "fore", "ote", "disperser",
                                                       "wavelengthrange"}
    required |= {"filteroffset"} if inst in ("NIRCAM", "NIRISS", "MIRI") else set()
    required |= {"apcorr", "abvegaoffset"} if inst != "NIRSPEC" else set()
    assert required <= seen, required - seen
    if inst == "NIRSPEC":             # no imaging source catalog: no APCORR/ABVEGAOFFSET written
        assert not {"apcorr", "abvegaoffset"} & seen


def _check_apcorr_rows(table, spec, selectors):
    """Every configuration the detector offers has the eight rows jwst's ReferenceData picks
    from (unique EE percent, one skyin/skyout), radii growing with the encircled energy."""
    configs = set()
    for f in spec.filters.values():
        for sub in (spec.subarrays if "subarray" in selectors else [None]):
            configs.add(tuple(v for k, v in (("filter", f.filter or "N/A"), ("pupil", f.pupil or "N/A"),
                                             ("subarray", sub)) if k in selectors))
    if not selectors:
        configs = {()}
    for config in configs:
        rows = np.ones(len(table), bool)
        for key, value in zip([k for k in ("filter", "pupil", "subarray") if k in selectors], config):
            rows &= np.char.strip(np.asarray(table[key]).astype(str)) == value
        sel = table[rows]
        percent = np.round(np.asarray(sel["eefraction"]) * 100).astype(int)
        assert sorted(percent) == [10, 20, 30, 40, 50, 60, 70, 80], (config, percent)
        order = np.argsort(percent)
        assert np.all(np.diff(np.asarray(sel["radius"])[order]) > 0)
        # a correction undoes at least the missing flux, a little more (the PSF's own light in the annulus)
        ee = np.asarray(sel["eefraction"], float)
        assert np.all(np.asarray(sel["apcorr"]) * ee >= 1.0 - 1e-6) and np.all(np.asarray(sel["apcorr"]) * ee < 1.02)
        assert len(set(np.asarray(sel["skyin"]))) == 1 and len(set(np.asarray(sel["skyout"]))) == 1
        assert sel["skyin"][0] > sel["radius"].max() and sel["skyout"][0] > sel["skyin"][0]


def _check_abvega_rows(table, spec, selectors):
    for f in spec.filters.values():
        rows = np.ones(len(table), bool)
        for key, value in (("filter", f.filter or "N/A"), ("pupil", f.pupil or "N/A"), ("detector", spec.detector)):
            if key in selectors:
                rows &= np.asarray(table[key]).astype(str) == value
        assert rows.sum() == 1, (f.name, rows.sum())
        # m_AB - m_Vega grows from ~0.2 mag at 0.7 um to ~7 at 25 um (Vega's F_nu falls with wavelength)
        assert 0.1 < float(np.asarray(table["abvega_offset"])[rows][0]) < 7.5


def test_local_store_selects_the_set_for_a_simulated_exposure(tmp_path):
    from jwcore.datamodel import open_model
    from jwcore.plugins import get_plugin_manager

    spec = detector("NIRCAM", "NRCA1")
    p = simulate_exposure(spec, ExposureConfig("NIRCAM", "NRCA1", subarray="SUB64P", ngroups=3, seed=2,
                                               detector_seed=3), tmp_path, options=RampOptions(noiseless=True))
    # full-frame (GENERIC) references serve the subarray through P_SUBARR
    paths = write_reference_set(spec, tmp_path / "refs", seed=3, subarrays=["SUB64P"], ngroups=3)
    store = build_store(tmp_path / "refs", paths)
    assert (tmp_path / "refs" / "store.json").exists()
    pm = get_plugin_manager()
    with open_model(p.uncal) as model:
        meta = model.meta
        for rt in ("mask", "saturation", "superbias", "linearity", "dark", "gain", "readnoise", "ipc", "flat",
                   "area", "photom", "distortion", "apcorr", "abvegaoffset"):
            keys = pm.hook.jwcal_reference_match_keys(instrument="NIRCAM", reftype=rt) or ()
            entry = store.select(rt, meta, keys)
            assert entry is not None, rt
            assert entry.file.startswith("jwcal_nircam_nrca1_"), entry.file
        dark = store.select("dark", meta, pm.hook.jwcal_reference_match_keys(instrument="NIRCAM", reftype="dark"))
        assert dark.file.endswith("dark_sub64p.fits")
        # a useafter after DATE-OBS is not selected
        assert all(e.useafter <= "2024-03-01" for e in store.entries)


def test_linearity_coefficients_invert_the_simulated_response():
    from jwcore.sim.state import detector_state, measured_from_linear

    spec = detector("NIRISS", "NIS")
    st = detector_state(spec, 3)
    a = st.nonlin[1000:1010, 1000:1010].astype(np.float64)
    t = np.linspace(0, spec.saturation, 25)[:, None, None] * np.ones_like(a)
    m = measured_from_linear(t, a).astype(np.float64)
    assert np.all(m <= t + 1e-3) and np.all(m[-1] < 0.95 * t[-1])          # a real deficit at full well
    np.testing.assert_allclose(m + a * m * m, t, rtol=2e-6, atol=1e-2)     # COEFFS [0, 1, a] undo it
    k = st.ipc_kernel.astype(np.float64)
    inv = st.ipc_inverse.astype(np.float64)
    from scipy.signal import convolve2d

    both = convolve2d(k, inv)          # = delta + O(alpha^2) (alpha = 0.006)
    assert both[2, 2] == pytest.approx(1.0, abs=5 * spec.ipc_alpha ** 2 * 4)
    assert np.abs(both).sum() - 1 < 30 * spec.ipc_alpha ** 2
    assert np.abs(k).sum() - 1 < 1e-6 and k[1, 1] < 1 - 4 * spec.ipc_alpha + 1e-6
