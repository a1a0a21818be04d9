"""Tiny reference files and exposures for the reference-selection tests."""

import numpy as np

from jwcore import datamodel as dm

_MODELS = {"gain": dm.GainModel, "readnoise": dm.ReadnoiseModel, "dark": dm.DarkModel, "flat": dm.FlatModel,
           "mask": dm.MaskModel, "superbias": dm.SuperBiasModel, "reset": dm.ResetModel, "ipc": dm.IPCModel}


def write_ref(folder, name, reftype, instrument, useafter, **meta):
    """A 4x4 reference file; ``meta`` keys are metadata paths below ``meta`` with '__' for '.'."""
    cls = _MODELS[reftype]
    if reftype == "mask":
        m = cls(dq=np.zeros((4, 4), np.uint32))
    elif reftype in ("dark", "reset"):
        m = cls(data=np.zeros((2, 4, 4), np.float32))
    else:
        m = cls(data=np.ones((4, 4), np.float32))
    m.meta.set("reftype", reftype.upper())
    m.meta.set("instrument.name", instrument)
    m.meta.set("useafter", useafter)
    m.meta.set("pedigree", "DUMMY")
    m.meta.set("description", f"test {reftype}")
    for key, value in meta.items():
        m.meta.set(key.replace("__", "."), value)
    folder.mkdir(parents=True, exist_ok=True)
    return m.save(folder / name)


def exposure_meta(instrument, detector, date="2024-01-01", time="12:00:00", **meta):
    """Metadata of a small raw exposure (a RampModel); same '__' convention as write_ref."""
    m = dm.RampModel(data=np.zeros((1, 2, 4, 4), np.float32))
    m.meta.instrument.name = instrument
    m.meta.instrument.detector = detector
    m.meta.observation.date = date
    m.meta.observation.time = time
    for key, value in meta.items():
        m.meta.set(key.replace("__", "."), value)
    return m
