"""The generic ``image2`` pipeline (bkg_subtract, assign_wcs, flat_field, photom) on a small
NIRCam subarray exposure with a level-2 association holding two background members, against
the same jwst 3.0 functions run in the same order on the same files.

Tolerance: final SCI/ERR/VAR_* bit-identical float32, DQ identical, world coordinates equal
to < 1 mas; the _bsub and _cal products are written.
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("jwst")

from jwcore.asn import from_list  # noqa: E402
from jwcore.datamodel import open_model  # noqa: E402
from jwcore.runner import Pipeline, RunContext  # noqa: E402

from ..wcs.test_imaging_wcs import (  # noqa: E402
    MAS, exposure_meta, plugin_for, write_distortion, write_filteroffset,
)
from .test_flat_field import _flat  # noqa: E402
from .test_photom import _NRC, write_area, write_photom  # noqa: E402

SUB = (1001, 33, 32, 24, "SUB32")


@pytest.mark.parity
def test_image2_matches_jwst(tmp_path, jwcal_pm):
    from jwst.assign_wcs.assign_wcs import load_wcs
    from jwst.assign_wcs.util import update_fits_wcsinfo
    from jwst.background.background_sub import background_sub
    from jwst.flatfield.flat_field import do_correction
    from jwst.photom.photom import DataSet
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(21)
    shape = (SUB[3], SUB[2])
    meta = exposure_meta("NIRCAM", "NRCA1", "NRC_IMAGE", filt="F200W", pupil="CLEAR", sub=SUB)
    meta["exposure"]["mid_time"] = 60000.5
    dist = write_distortion(tmp_path / "dist.asdf", "NIRCAM", "NRCA1", (2048, 2048))
    offs = write_filteroffset(tmp_path / "offs.asdf", "NIRCAM",
                              [dict(filter="F200W", pupil="CLEAR", column_offset=0.2, row_offset=0.1)])
    flat, fdq, ferr = _flat((2048, 2048), rng)
    fm = datamodels.FlatModel(data=flat, dq=fdq, err=ferr)
    fm.meta.instrument.name, fm.meta.instrument.detector = "NIRCAM", "NRCA1"
    fm.meta.subarray.xstart, fm.meta.subarray.ystart, fm.meta.subarray.xsize, fm.meta.subarray.ysize = 1, 1, 2048, 2048
    fm.meta.reftype, fm.meta.author, fm.meta.description = "FLAT", "jwcal test", "test flat"
    fm.meta.pedigree, fm.meta.useafter = "DUMMY", "2015-01-01T00:00:00"
    photom = write_photom(tmp_path / "photom.fits", "NIRCAM", "NRCA1",
                          [("F200W", "CLEAR", "SUB32", 0.25, 0.01), ("F200W", "CLEAR", "FULL", 0.2, 0.01)], _NRC)
    area = write_area(tmp_path / "area.fits", "NIRCAM", "NRCA1", (2048, 2048), rng)

    def exposure(data, path):
        m = datamodels.ImageModel(data=data, err=np.full(shape, 0.3, np.float32), dq=np.zeros(shape, np.uint32),
                                  var_poisson=np.full(shape, 0.05, np.float32),
                                  var_rnoise=np.full(shape, 0.04, np.float32))
        for sec, d in meta.items():
            for k, v in d.items():
                setattr(getattr(m.meta, sec), k, v)
        m.save(path)
        return str(path)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flat_path = tmp_path / "flat.fits"
        fm.save(flat_path)
        sci = exposure(rng.normal(30.0, 1.0, shape).astype(np.float32), tmp_path / "sci_rate.fits")
        bkgs = [exposure(rng.normal(4.0, 0.3, shape).astype(np.float32), tmp_path / f"bkg{i}_rate.fits")
                for i in range(2)]

        # jwst, step by step (what Image2Pipeline runs, minus CRDS and resample)
        theirs = datamodels.ImageModel(sci)
        _, theirs = background_sub(theirs, bkgs, 3.0, None)
        theirs = load_wcs(theirs, {"distortion": dist, "filteroffset": offs})
        update_fits_wcsinfo(theirs, max_pix_error=0.01, degree=None, max_inv_pix_error=0.01, inv_degree=None,
                            npoints=12, crpix=None)
        theirs, _ = do_correction(theirs, flat=datamodels.FlatModel(flat_path))
        theirs = DataSet(theirs).apply_photom(photom, area)

    jwcal_pm.register_plugin(plugin_for("NIRCAM"), name="nircam-image2")
    asn = from_list([sci], rule="DMS_Level2b_Base")
    member = type(asn.products[0].members[0])
    asn.products[0].members.extend(member(expname=b.split("/")[-1], exptype="background") for b in bkgs)
    asn.path = tmp_path / "sci_asn.json"
    config = {"save_bsub": True, "steps": {
        "assign_wcs": {"override_distortion": dist, "override_filteroffset": offs},
        "flat_field": {"override_flat": str(flat_path)},
        "photom": {"override_photom": photom, "override_area": area}}}
    spec = jwcal_pm.registry.pipeline("calwebb_image2", "NIRCAM")
    ctx = RunContext(pm=jwcal_pm, input_path=tmp_path / "sci_rate.fits", output_dir=tmp_path)
    ctx.association, ctx.product = asn, asn.products[0]
    ours = Pipeline(spec, jwcal_pm.registry, config).run(open_model(sci), ctx).model

    for step in ("bkg_subtract", "assign_wcs", "flat_field", "photom"):
        assert ours.meta.get(f"cal_step.{step}") == "COMPLETE", step
    # tolerance: bit-identical float32 arrays, DQ identical, world < 1 mas
    for name in ("data", "err", "var_poisson", "var_rnoise", "var_flat", "area"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name), err_msg=name)
    np.testing.assert_array_equal(ours.dq, theirs.dq)
    x, y = np.meshgrid(np.arange(shape[1]), np.arange(shape[0]))
    ra, dec = ours.meta.wcs(x, y)
    ra_j, dec_j = theirs.meta.wcs(x, y)
    assert np.max(np.hypot((ra - ra_j) * np.cos(np.radians(dec_j)), dec - dec_j)) < MAS
    assert (tmp_path / "sci_bsub.fits").exists() and (tmp_path / "sci_cal.fits").exists()
    cal = open_model(tmp_path / "sci_cal.fits")
    assert cal.meta.wcs is not None and cal.meta.bunit_data == "MJy/sr"
    cal.close()
