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
    assert required <= seen, required - seen


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
                   "area", "photom", "distortion"):
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
