"""Helpers of the stage-2 end-to-end parity test: simulate a small exposure with its reference
store, run jwcal through stage 2, run jwst's Image2Pipeline on the same rate with the same
reference files, and compare products.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

MAS = 1.0 / 3.6e6    # degrees

# EXP_TYPEs of these cases whose stage 2 works per integration (_rateints -> _calints), as
# jwst's level-2 associations do; stated here independently of the plugins' `per_integration`
TSO_EXPTYPES = frozenset({"NRC_TSIMAGE", "NRC_CORON"})

# the arrays of a _cal / _calints compared element by element (FITS extension names)
CAL_ARRAYS = ("SCI", "ERR", "VAR_POISSON", "VAR_RNOISE", "VAR_FLAT", "AREA")


@dataclass(frozen=True)
class Case:
    """One simulated exposure: a detector, a subarray, a short ramp, and its EXP_TYPE."""

    exp_type: str
    instrument: str
    detector: str
    subarray: str
    filter: str | None
    ngroups: int = 4
    nints: int = 1
    seed: int = 7
    # True when jwst's Image2Pipeline makes a single-exposure _i2d for this EXP_TYPE
    # (jwst 3.0: MIR_IMAGE, NRC_IMAGE, NIS_IMAGE, FGS_IMAGE with 2-D data only)
    i2d: bool = False
    # the reference types its WCS is built from, and whether CRDS has PHOTOM/AREA for it
    # (NIRSpec imaging: the optical model, and no photom: the step is SKIPPED in both)
    wcs_refs: tuple = ("distortion", "filteroffset")
    photom: bool = True

    @property
    def per_integration(self) -> bool:
        """Stage 2 works on the _rateints (TSO, coronagraphy): the product is a _calints cube."""
        return self.exp_type in TSO_EXPTYPES

    @property
    def id(self) -> str:
        return f"{self.exp_type}-{self.subarray}"


@dataclass
class Products:
    sim: Path            # simulator folder (uncal, truth)
    refs: Path           # simulated reference store
    rate: Path           # jwcal stage-1 product given to both stage-2 runs
    cal: Path            # jwcal stage-2 product
    i2d: Path | None     # jwcal's single-exposure _i2d, if written


def detector_spec(case: Case):
    """The plugin's DetectorSpec, with the case's EXP_TYPE (the simulator then writes the
    exposure and its reference set, P_EXPTYPE included, for that EXP_TYPE)."""
    from jwcore.sim.detector import get_detector

    spec = get_detector(case.instrument, case.detector)
    return spec if spec.exp_type == case.exp_type else replace(spec, exp_type=case.exp_type)


def simulate(case: Case, folder: Path) -> tuple[Path, Path]:
    """What ``jwcal simulate`` does (jwcore/cli/sim_cmd.py), for one exposure without cosmic
    rays; returns (uncal path, reference store folder)."""
    from jwcore.sim.exposure import plan_observation, simulate_observation, write_associations
    from jwcore.sim.ramp import RampOptions
    from jwcore.sim.references import build_store, write_reference_set

    spec = detector_spec(case)
    filters = [case.filter or spec.default_filter]
    plan = plan_observation(spec, filters=filters, ngroups=case.ngroups, nints=case.nints, subarray=case.subarray,
                            seed=case.seed)
    products = simulate_observation(spec, folder, plan, options=RampOptions(cosmic_rays=False, threads=2))
    write_associations(spec, products, folder)
    refs = folder / "refs"
    window = None if spec.subarray(case.subarray).name == "FULL" else case.subarray
    paths = write_reference_set(spec, refs, seed=case.seed, filters=filters, subarrays=[case.subarray],
                                readpatt=spec.default_readpatt, ngroups=case.ngroups, nints=max(case.nints, 2),
                                window=window)
    build_store(refs, paths)
    assert len(products) == 1
    return Path(products[0].uncal), refs


def jwcal_cli(*args) -> None:
    """``jwcal -q ARGS`` in this process; fails the test if jwcal reports a failure."""
    from jwcore.cli.main import main

    try:
        code = main(["-q", *map(str, args)])
    except SystemExit as exc:
        code = exc.code
    assert code in (0, None), f"jwcal {' '.join(map(str, args))} failed with {code}"


def jwcal_products(case: Case, folder: Path) -> Products:
    """Simulate, then run jwcal as a user runs it: ``jwcal run UNCAL --to-stage 2``.  A TSO
    exposure's stage 2 takes the _rateints (the route is ``per_integration``, as a DMS level-2
    association lists it) and writes the _calints; the others go _rate -> _cal."""
    uncal, refs = simulate(case, folder / "sim")
    out = folder / "jwcal"
    common = ("-o", out, "--refs", refs, "--executor", "serial", "-j", "1")
    base = uncal.name[: -len("_uncal.fits")]
    jwcal_cli("run", uncal, "--to-stage", "2", *common)
    if case.per_integration:
        rate, cal = out / f"{base}_rateints.fits", out / f"{base}_calints.fits"
        assert not (out / f"{base}_cal.fits").exists()
    else:
        rate, cal = out / f"{base}_rate.fits", out / f"{base}_cal.fits"
    i2d = out / f"{base}_i2d.fits"
    assert rate.exists() and cal.exists(), sorted(p.name for p in out.iterdir())
    return Products(uncal.parent, refs, rate, cal, i2d if i2d.exists() else None)


def recorded_references(cal: Path) -> dict[str, str]:
    """reftype -> file name jwcal recorded in the product (``meta.ref_file.<type>.name``)."""
    from stdatamodels.jwst import datamodels

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with datamodels.open(str(cal)) as m:
            tree = m.meta.ref_file.instance
    return {k: v["name"] for k, v in tree.items() if isinstance(v, dict) and v.get("name")
            and str(v["name"]).upper() != "N/A"}


def jwst_overrides(recorded: dict[str, str], refs: Path) -> dict:
    """``steps=`` for Image2Pipeline: every reference type of every sub-step, the file jwcal
    used where it used one, ``N/A`` (what CRDS answers for a type that does not apply)
    otherwise.  Background members are absent, so bkg_subtract is not run (its types N/A)."""
    from jwst.pipeline import Image2Pipeline

    steps = {}
    for name, cls in Image2Pipeline.step_defs.items():
        steps[name] = {f"override_{rt}": str(refs / Path(recorded[rt]).name) if rt in recorded else "N/A"
                       for rt in cls.reference_file_types}
    return steps


def run_jwst(rate: Path, steps: dict, out: Path) -> None:
    from jwst.pipeline import Image2Pipeline

    out.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = Image2Pipeline.call(str(rate), steps=steps, output_dir=str(out), save_results=True)
    for r in result if isinstance(result, list) else [result]:
        r.close()


# -- comparisons -------------------------------------------------------------------------------
def ulp_distance(a: np.ndarray, b: np.ndarray) -> int:
    """Largest distance in float32 units-in-the-last-place between finite elements (NaN/inf
    patterns are compared separately)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    both = np.isfinite(a) & np.isfinite(b)
    if not both.any():
        return 0

    def ordered(x):
        i = x[both].view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)     # monotonic integer image of a float32

    return int(np.abs(ordered(a) - ordered(b)).max())


def open_wcs_model(path: Path):
    """The product through stdatamodels (ImageModel for 2-D, CubeModel for 3-D)."""
    from stdatamodels.jwst import datamodels

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = datamodels.open(str(path))
    return m


def pixel_grid(shape, n=9):
    """n x n pixel positions spanning the array (pixel centres from 0 to size-1, plus a
    fractional offset so the evaluation is not only at integer points)."""
    ny, nx = shape[-2:]
    x, y = np.meshgrid(np.linspace(0, nx - 1, n), np.linspace(0, ny - 1, n))
    return x + 0.137, y - 0.211 * (y > 0)


def wcs_differences(ours, theirs, shape) -> dict:
    """Forward (pixel -> RA/Dec, mas) and backward (RA/Dec -> pixel) differences of two gwcs."""
    x, y = pixel_grid(shape)
    ra_o, dec_o = ours(x, y, with_bounding_box=False)
    ra_t, dec_t = theirs(x, y, with_bounding_box=False)
    assert np.all(np.isfinite(ra_t)) and np.all(np.isfinite(dec_t))
    fwd = np.hypot((ra_o - ra_t) * np.cos(np.radians(dec_t)), dec_o - dec_t) / MAS
    xo, yo = ours.invert(ra_t, dec_t, with_bounding_box=False)
    xt, yt = theirs.invert(ra_t, dec_t, with_bounding_box=False)
    return {"forward_mas": float(np.max(fwd)),
            "backward_pix": float(np.max(np.hypot(xo - xt, yo - yt))),
            "roundtrip_pix": float(np.max(np.hypot(xo - x, yo - y)))}
