import numpy as np

from jwcore.datamodel import RampModel


def toy_ramp(path=None, nints=2, ngroups=3, shape=(8, 10), detector="TOY1", date="2024-01-01", filt="F1",
             offset=0.0):
    data = np.arange(nints * ngroups * shape[0] * shape[1], dtype=np.float32).reshape(nints, ngroups, *shape)
    data += np.float32(offset)
    m = RampModel(data=data)
    m.meta.instrument.name = "TOYCAM"
    m.meta.instrument.detector = detector
    m.meta.exposure.type = "TOY_IMAGE"
    m.meta.exposure.ngroups = ngroups
    m.meta.exposure.nints = nints
    m.meta.observation.date = date
    m.meta.observation.time = "12:00:00"
    m.meta.observation.program_number = "01234"
    m.meta.observation.observation_number = "001"
    m.meta.instrument.filter = filt
    if path is not None:
        m.save(path)
    return m
