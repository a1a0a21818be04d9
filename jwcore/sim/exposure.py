"""Simulated exposures as files: raw ``_uncal.fits`` (Level1bModel) with the metadata real
files carry, a ``_truth.fits`` and a ``_truth.ecsv`` source list beside each, observation
plans (dithers, small mosaics, several filters) and their level-2/level-3 associations.

Every keyword (including DATE) comes from the configuration and the seed, never from the
clock, so the same inputs give the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from ..errors import JwcalError
from .detector import DetectorSpec
from .geometry import Pointing, filter_offset, pixel_to_sky, pointing_for
from .ramp import RampOptions, simulate_ramp
from .scene import Scene, electrons_per_jy, random_scene, render
from .state import detector_state

MJD_UNIX0 = 40587.0          # MJD of 1970-01-01
TT_MINUS_UTC = 69.184        # s (leap seconds since 2017)
PROGRAM_TITLE = "jwcal simulated observation"


@dataclass
class ExposureConfig:
    """One exposure of one detector."""

    instrument: str
    detector: str
    filter: str | None = None
    readpatt: str | None = None
    ngroups: int = 5
    nints: int = 1
    subarray: str = "FULL"
    ra: float = 53.16                 # target (TARG_RA/TARG_DEC)
    dec: float = -27.78
    roll: float = 0.0                 # ROLL_REF, deg
    dither: tuple[float, float] = (0.0, 0.0)   # ideal-frame offset (XOFFSET, YOFFSET) arcsec
    pointing_offset: tuple[float, float] = (0.0, 0.0)  # mosaic tile offset, ideal arcsec
    patt_num: int = 1
    num_dither: int = 1
    program: str = "01234"
    observation: int = 1
    visit: int = 1
    visit_group: int = 1
    sequence: int = 1
    activity: int = 1
    exposure: int = 1
    date_obs: str = "2024-03-01T00:00:00.000"
    seed: int = 1                     # exposure noise
    detector_seed: int | None = None  # detector truth (the reference set's seed); default: seed
    zero_frame: bool = False          # also write a ZEROFRAME (first frame of each integration; not MIRI)

    @property
    def base_name(self) -> str:
        return (f"jw{self.program}{self.observation:03d}{self.visit:03d}_{self.visit_group:02d}"
                f"{self.sequence:1d}{self.activity:02d}_{self.exposure:05d}_{self.detector.lower()}")


@dataclass
class ExposureProducts:
    config: ExposureConfig
    uncal: Path
    truth: Path
    catalog: Path
    duration: float
    n_cosmic_rays: int = 0
    extra: dict = field(default_factory=dict)


# -- timing ------------------------------------------------------------------------------------
def timing(spec: DetectorSpec, cfg: ExposureConfig) -> dict:
    sub = spec.subarray(cfg.subarray)
    patt = spec.readout(cfg.readpatt or spec.default_readpatt)
    tframe = spec.frame_time(sub, patt)
    tgroup = (patt.nframes + patt.groupgap) * tframe
    effint = cfg.ngroups * tgroup
    nresets = 1
    duration = cfg.nints * effint + (cfg.nints - 1) * nresets * tframe
    return {"tframe": tframe, "tgroup": tgroup, "effint": effint, "effexp": cfg.nints * effint,
            "duration": duration, "nframes": patt.nframes, "groupgap": patt.groupgap,
            "readpatt": patt.name, "nresets": nresets}


def _parse_date(text: str) -> datetime:
    text = text.replace(" ", "T")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise JwcalError(f"cannot read date {text!r} (use YYYY-MM-DDTHH:MM:SS)")


def _mjd(dt: datetime) -> float:
    return MJD_UNIX0 + (dt - datetime(1970, 1, 1)).total_seconds() / 86400.0


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


# -- metadata ----------------------------------------------------------------------------------
def build_metadata(spec: DetectorSpec, cfg: ExposureConfig, pointing: Pointing, t: dict) -> dict:
    """The raw exposure's metadata tree (meta.* paths as jwst's schemas name them)."""
    sub = spec.subarray(cfg.subarray)
    filt = spec.filter(cfg.filter)
    start = _parse_date(cfg.date_obs)
    end = start + timedelta(seconds=t["duration"])
    mid = start + timedelta(seconds=0.5 * t["duration"])
    ra_v1, dec_v1, pa_v3 = pointing.v1()
    pa_aper = (pointing.roll_ref - spec.vparity * spec.v3_idl_yangle) % 360.0
    pa = np.deg2rad(pa_aper)
    obs_id = (f"V{cfg.program}{cfg.observation:03d}{cfg.visit:03d}P00000000"
              f"{cfg.visit_group:02d}{cfg.sequence:1d}{cfg.activity:02d}")
    crpix1 = spec.sci_ref[0] - (sub.xstart - 1)
    crpix2 = spec.sci_ref[1] - (sub.ystart - 1)
    instrument = {"name": spec.instrument.upper(), "detector": spec.detector.upper()}
    if filt.filter:
        instrument["filter"] = filt.filter
    if filt.pupil:
        instrument["pupil"] = filt.pupil
    if spec.module:
        instrument["module"] = spec.module
    if spec.channel:
        instrument["channel"] = spec.channel
    meta = {
        "date": _iso(end),
        "origin": "STSCI",
        "time_sys": "UTC",
        "time_unit": "s",
        "telescope": "JWST",
        "data_processing_software_version": "jwcal-sim",
        "program": {"title": PROGRAM_TITLE, "pi_name": "jwcal", "category": "CAL"},
        "observation": {
            "date": start.strftime("%Y-%m-%d"), "time": start.strftime("%H:%M:%S.%f")[:-3],
            "date_beg": _iso(start), "date_end": _iso(end),
            "obs_id": obs_id, "visit_id": f"{cfg.program}{cfg.observation:03d}{cfg.visit:03d}",
            "program_number": cfg.program, "observation_number": f"{cfg.observation:03d}",
            "visit_number": f"{cfg.visit:03d}", "visit_group": f"{cfg.visit_group:02d}",
            "sequence_id": f"{cfg.sequence:1d}", "activity_id": f"{cfg.activity:02d}",
            "exposure_number": f"{cfg.exposure:05d}", "template": f"{spec.instrument.title()} Imaging",
        },
        "visit": {"type": "PRIME_TARGETED_FIXED", "engineering_quality": "OK", "status": "SUCCESSFUL",
                  "tsovisit": False, "crowded_field": False, "internal_target": False},
        "target": {"catalog_name": "JWCAL-SIM-FIELD", "proposer_name": "JWCAL-SIM-FIELD", "type": "FIXED",
                   "ra": cfg.ra, "dec": cfg.dec, "proposer_ra": cfg.ra, "proposer_dec": cfg.dec},
        "instrument": instrument,
        "exposure": {
            "type": spec.exp_type, "readpatt": t["readpatt"], "nints": cfg.nints, "ngroups": cfg.ngroups,
            "nframes": t["nframes"], "groupgap": t["groupgap"], "frame_divisor": t["nframes"],
            "nresets_at_start": 0 if spec.is_si_as else 1, "nresets_between_ints": t["nresets"],
            "nsamples": 1, "sample_time": 10.0, "noutputs": sub.noutputs,
            "frame_time": round(t["tframe"], 6), "group_time": round(t["tgroup"], 6),
            "integration_time": round(t["effint"], 6), "exposure_time": round(t["effexp"], 6),
            "duration": round(t["duration"], 6),
            "start_time": _mjd(start), "mid_time": _mjd(mid), "end_time": _mjd(end),
            "start_time_mjd": _mjd(start), "mid_time_mjd": _mjd(mid), "end_time_mjd": _mjd(end),
            "effective_exposure_time": round(t["effexp"], 6), "elapsed_exposure_time": round(t["duration"], 6),
            "zero_frame": bool(cfg.zero_frame and not spec.is_si_as), "data_problem": False,
            "prime_parallel": "PRIME", "count": cfg.exposure, "gain_factor": 1.0,
        },
        "subarray": {"name": sub.name, "xstart": sub.xstart, "ystart": sub.ystart, "xsize": sub.xsize,
                     "ysize": sub.ysize, "fastaxis": spec.fastaxis, "slowaxis": spec.slowaxis},
        "dither": {"primary_type": "NONE" if cfg.num_dither == 1 else "FULL",
                   "position_number": cfg.patt_num, "total_points": cfg.num_dither,
                   "x_offset": float(cfg.dither[0]), "y_offset": float(cfg.dither[1])},
        "aperture": {"name": spec.aperture, "pps_name": spec.aperture, "position_angle": pa_aper},
        "pointing": {"ra_v1": ra_v1, "dec_v1": dec_v1, "pa_v3": pa_v3},
        "velocity_aberration": {"scale_factor": 1.0, "va_ra_ref": pointing.ra_ref, "va_dec_ref": pointing.dec_ref},
        "coordinates": {"reference_frame": "ICRS"},
        "wcsinfo": {
            "wcsaxes": 2, "ctype1": "RA---TAN", "ctype2": "DEC--TAN", "cunit1": "deg", "cunit2": "deg",
            "crpix1": crpix1, "crpix2": crpix2, "crval1": pointing.ra_ref, "crval2": pointing.dec_ref,
            "cdelt1": spec.sci_scale[0] / 3600.0, "cdelt2": spec.sci_scale[1] / 3600.0,
            "pc1_1": spec.vparity * np.cos(pa), "pc1_2": np.sin(pa),
            "pc2_1": -spec.vparity * np.sin(pa), "pc2_2": np.cos(pa),
            "v2_ref": spec.v2_ref, "v3_ref": spec.v3_ref, "vparity": spec.vparity,
            "v3yangle": spec.v3_idl_yangle, "ra_ref": pointing.ra_ref, "dec_ref": pointing.dec_ref,
            "roll_ref": pointing.roll_ref, "siaf_xref_sci": spec.sci_ref[0], "siaf_yref_sci": spec.sci_ref[1],
        },
        "bunit_data": "DN",
    }
    if spec.sca_num is not None:
        meta["exposure"]["sca_num"] = spec.sca_num
    raw_readout = spec.readout(t["readpatt"]).raw_readout
    extra = dict(spec.extra_keywords)
    if raw_readout is not None:
        extra.update(raw_readout.keywords(spec, sub))
    for path, value in extra.items():
        node = meta
        *branches, leaf = path.split(".")
        for b in branches:
            node = node.setdefault(b, {})
        node[leaf] = value
    return meta


def _int_times(cfg: ExposureConfig, t: dict, start: datetime) -> np.ndarray:
    dtype = [("integration_number", ">i4"), ("int_start_MJD_UTC", ">f8"), ("int_mid_MJD_UTC", ">f8"),
             ("int_end_MJD_UTC", ">f8"), ("int_start_BJD_TDB", ">f8"), ("int_mid_BJD_TDB", ">f8"),
             ("int_end_BJD_TDB", ">f8")]
    rows = []
    mjd0 = _mjd(start)
    step = t["effint"] + t["nresets"] * t["tframe"]
    tt = TT_MINUS_UTC / 86400.0
    for i in range(cfg.nints):
        s = mjd0 + i * step / 86400.0
        e = s + t["effint"] / 86400.0
        m = 0.5 * (s + e)
        rows.append((i + 1, s, m, e, s + tt, m + tt, e + tt))
    return np.array(rows, dtype=dtype)


def _group_table(cfg: ExposureConfig, t: dict, start: datetime, ny: int, nx: int) -> np.ndarray:
    dtype = [("integration_number", ">i4"), ("group_number", ">i2"), ("end_day", ">i2"),
             ("end_milliseconds", ">i4"), ("end_submilliseconds", ">i2"), ("group_end_time", "S26"),
             ("number_of_columns", ">i2"), ("number_of_rows", ">i2"), ("number_of_gaps", ">i2"),
             ("completion_code_number", ">i2"), ("completion_code_text", "S36"),
             ("bary_end_time", ">f8"), ("helio_end_time", ">f8")]
    rows = []
    step = t["effint"] + t["nresets"] * t["tframe"]
    epoch = datetime(2000, 1, 1)
    for i in range(cfg.nints):
        for g in range(cfg.ngroups):
            sec = i * step + (g + 1) * t["tgroup"] - t["groupgap"] * t["tframe"]
            end = start + timedelta(seconds=sec)
            since = end - epoch
            ms_total = since.seconds * 1000 + since.microseconds // 1000
            sub_ms = (since.microseconds % 1000)
            mjd = _mjd(end)
            rows.append((i + 1, g + 1, since.days, ms_total, sub_ms, _iso(end).encode(), nx, ny, 0, 0,
                         b"COMPLETE", mjd, mjd))
    return np.array(rows, dtype=dtype)


# -- writing -----------------------------------------------------------------------------------
def write_fits_deterministic(model, path, date: str) -> Path:
    """``model.save`` with DATE set to ``date`` (same seed, same bytes)."""
    from ..datamodel import fitsio

    return fitsio.write(model, path, date=date)


def simulate_exposure(spec: DetectorSpec, cfg: ExposureConfig, outdir, scene: Scene | None = None, *,
                      options: RampOptions | None = None) -> ExposureProducts:
    """Simulate one exposure and write ``<base>_uncal.fits``, ``<base>_truth.fits`` and
    ``<base>_truth.ecsv`` into ``outdir``."""
    from ..datamodel import Level1bModel

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if cfg.ngroups < 1 or cfg.nints < 1:
        raise JwcalError("ngroups and nints must be at least 1")
    sub = spec.subarray(cfg.subarray)
    filt = spec.filter(cfg.filter)
    t = timing(spec, cfg)
    patt = spec.readout(t["readpatt"])
    raw_readout = patt.raw_readout
    if raw_readout is not None and cfg.zero_frame:
        raise JwcalError(f"{spec.detector}: no ZEROFRAME simulated for the {patt.name} readout")
    state = detector_state(spec, cfg.seed if cfg.detector_seed is None else cfg.detector_seed, window=sub)
    dx = cfg.dither[0] + cfg.pointing_offset[0]
    dy = cfg.dither[1] + cfg.pointing_offset[1]
    pointing = pointing_for(spec, cfg.ra, cfg.dec, cfg.roll, dx, dy)
    if scene is None:
        ra0, dec0 = _window_centre(spec, cfg)
        scene = random_scene(ra0, dec0, 0.75 * max(sub.xsize, sub.ysize) * max(spec.sci_scale), cfg.seed)
    rendered = render(scene, spec, filt, pointing, sub, offset=filter_offset(spec, filt.name))
    seed = _exposure_seed(cfg)
    ramp_options = raw_readout.ramp_options(options) if raw_readout is not None else options
    result = simulate_ramp(state, sub, patt, cfg.ngroups, cfg.nints, t["tframe"], rendered.rate,
                           seed=seed, options=ramp_options, zero_frame=cfg.zero_frame)
    if raw_readout is not None:
        # the readout's own raw layout (e.g. NIRSpec IRS2: reference pixels interleaved)
        result = raw_readout.raw_ramp(state, sub, patt, result, frame_time=t["tframe"], seed=seed,
                                      options=ramp_options)

    meta = build_metadata(spec, cfg, pointing, t)
    model = Level1bModel(meta=meta)
    model.data = result.data
    if result.zeroframe is not None:
        model.zeroframe = result.zeroframe
    start = _parse_date(cfg.date_obs)
    model.int_times = _int_times(cfg, t, start)
    model.group = _group_table(cfg, t, start, result.data.shape[-2], result.data.shape[-1])
    base = cfg.base_name
    uncal = write_fits_deterministic(model, outdir / f"{base}_uncal.fits", meta["date"])
    truth = _write_truth(outdir / f"{base}_truth.fits", spec, cfg, meta, state, sub, rendered, result)
    catalog = _write_catalog(outdir / f"{base}_truth.ecsv", spec, filt, rendered, cfg, pointing, sub)
    return ExposureProducts(cfg, uncal, truth, catalog, t["duration"], result.n_cosmic_rays,
                            {"n_large_events": result.n_large_events})


def _exposure_seed(cfg: ExposureConfig) -> int:
    ss = np.random.SeedSequence([int(cfg.seed) & 0xFFFFFFFF, cfg.observation, cfg.visit, cfg.activity,
                                 cfg.exposure, sum(map(ord, cfg.detector.upper()))])
    return int(ss.generate_state(1)[0])


def _write_truth(path, spec, cfg, meta, state, sub, rendered, result) -> Path:
    from astropy.io import fits

    from ..atomic import atomic_path

    vs = state.view(sub)
    hdr = fits.Header()
    for kw, value in (("DATE", meta["date"]), ("TELESCOP", "JWST"), ("INSTRUME", spec.instrument.upper()),
                      ("DETECTOR", spec.detector.upper()), ("FILTER", meta["instrument"].get("filter", "N/A")),
                      ("PUPIL", meta["instrument"].get("pupil", "N/A")), ("EXP_TYPE", spec.exp_type),
                      ("SUBARRAY", sub.name), ("SUBSTRT1", sub.xstart), ("SUBSTRT2", sub.ystart),
                      ("SUBSIZE1", sub.xsize), ("SUBSIZE2", sub.ysize), ("READPATT", meta["exposure"]["readpatt"]),
                      ("NGROUPS", cfg.ngroups), ("NINTS", cfg.nints), ("TFRAME", meta["exposure"]["frame_time"]),
                      ("TGROUP", meta["exposure"]["group_time"]), ("UNCAL", f"{cfg.base_name}_uncal.fits"),
                      ("SIMSEED", cfg.seed), ("DETSEED", cfg.seed if cfg.detector_seed is None else cfg.detector_seed),
                      ("NCOSMIC", result.n_cosmic_rays), ("NLARGECR", result.n_large_events)):
        hdr[kw] = value
    hdr["COMMENT"] = "SCI: true count rate in DN/s that calwebb_detector1 should recover (scene x flat / gain,"
    hdr["COMMENT"] = "dark current excluded, no IPC, linear); ELECTRON: scene in e-/s before the flat (flat=1);"
    hdr["COMMENT"] = "FLAT: pixel response used; DQ: the MASK reference flags of this window."
    sci = fits.ImageHDU(result.truth_rate, name="SCI")
    sci.header["BUNIT"] = "DN/s"
    ele = fits.ImageHDU(rendered.rate, name="ELECTRON")
    ele.header["BUNIT"] = "electron/s"
    flat = fits.ImageHDU(state.flat[vs], name="FLAT")
    dqh = fits.ImageHDU(state.mask[vs], name="DQ")
    hdul = fits.HDUList([fits.PrimaryHDU(header=hdr), sci, ele, flat, dqh])
    with atomic_path(Path(path), overwrite=True) as tmp:
        hdul.writeto(tmp, overwrite=True)
    return Path(path)


def _write_catalog(path, spec, filt, rendered, cfg, pointing, sub) -> Path:
    from astropy.table import Table

    from ..atomic import atomic_path

    rows = rendered.catalog
    table = Table()
    table["id"] = np.array([r["id"] for r in rows], np.int32)
    table["kind"] = [r["kind"] for r in rows]
    table["ra"] = np.array([r["ra"] for r in rows], np.float64)
    table["dec"] = np.array([r["dec"] for r in rows], np.float64)
    table["x"] = np.array([r["x"] for r in rows], np.float64)
    table["y"] = np.array([r["y"] for r in rows], np.float64)
    flux_jy = np.array([r["flux_jy"] for r in rows], np.float64)
    table["flux_jy"] = flux_jy
    table["flux_e_s"] = np.array([r["flux_e_s"] for r in rows], np.float64)
    table["flux_dn_s"] = table["flux_e_s"] / spec.gain
    with np.errstate(divide="ignore"):
        table["mag_ab"] = np.where(flux_jy > 0, -2.5 * np.log10(np.maximum(flux_jy, 1e-30) / 3631.0), np.nan)
    table["in_window"] = np.array([r["in_window"] for r in rows], bool)
    for col, unit in (("ra", "deg"), ("dec", "deg"), ("x", "pix"), ("y", "pix"), ("flux_jy", "Jy"),
                      ("flux_e_s", "electron/s"), ("flux_dn_s", "DN/s"), ("mag_ab", "mag")):
        table[col].unit = unit
    table.meta["comments"] = [
        f"jwcal simulator truth for {cfg.base_name}_uncal.fits",
        "x, y: 0-based pixel positions in this exposure's (subarray) science frame",
        "flux_e_s: total source flux in e-/s on an ideal detector (flat=1); flux_dn_s = flux_e_s / gain",
        f"filter {filt.name}: {electrons_per_jy(spec, filt):.6g} e-/s per Jy",
    ]
    buf = io.StringIO()
    table.write(buf, format="ascii.ecsv")
    with atomic_path(Path(path), overwrite=True) as tmp:
        tmp.write_text(buf.getvalue())
    return Path(path)


# -- observation plans ---------------------------------------------------------------------------
DITHER_PIXELS = [(0.0, 0.0), (10.5, 6.5), (21.25, -4.25), (-8.75, 15.75), (3.5, -12.5), (-15.25, -7.75),
                 (14.75, 18.25), (-4.5, -19.5), (25.5, 11.75)]


def dither_offsets(spec: DetectorSpec, n: int) -> list[tuple[float, float]]:
    """``n`` ideal-frame offsets (arcsec): sub-pixel phases plus a few tens of pixels."""
    if n < 1:
        raise JwcalError("--dithers must be at least 1")
    scale = float(np.mean(spec.sci_scale))
    pts = [DITHER_PIXELS[k % len(DITHER_PIXELS)] for k in range(n)]
    return [(round(px * scale + (k // len(DITHER_PIXELS)) * 3 * scale, 6), round(py * scale, 6))
            for k, (px, py) in enumerate(pts)]


def plan_observation(spec: DetectorSpec, *, filters=None, ngroups: int = 5, nints: int = 1,
                     readpatt: str | None = None, subarray: str = "FULL", dithers: int = 1,
                     mosaic: tuple[int, int] = (1, 1), ra: float = 53.16, dec: float = -27.78,
                     roll: float = 0.0, seed: int = 1, detector_seed: int | None = None,
                     program: str = "01234", observation: int = 1,
                     date_obs: str = "2024-03-01T00:00:00.000", overhead: float = 30.0,
                     zero_frame: bool = False) -> list[ExposureConfig]:
    """Exposures of a small mosaic (one visit per tile), one activity per filter and one
    exposure per dither position, in time order.  ``zero_frame``: also write each
    integration's ZEROFRAME (near-IR detectors)."""
    filters = list(filters or [spec.default_filter])
    for f in filters:
        spec.filter(f)
    spec.subarray(subarray)
    spec.readout(readpatt or spec.default_readpatt)
    if ngroups < 1 or nints < 1:
        raise JwcalError("--ngroups and --nints must be at least 1")
    nx_t, ny_t = mosaic
    if nx_t < 1 or ny_t < 1:
        raise JwcalError("--mosaic must be NXxNY with NX, NY >= 1")
    sub = spec.subarray(subarray)
    step_x = 0.9 * sub.xsize * spec.sci_scale[0]
    step_y = 0.9 * sub.ysize * spec.sci_scale[1]
    offsets = dither_offsets(spec, dithers)
    when = _parse_date(date_obs)
    configs = []
    for ty in range(ny_t):
        for tx in range(nx_t):
            tile = (((tx - (nx_t - 1) / 2.0) * step_x), ((ty - (ny_t - 1) / 2.0) * step_y))
            visit = ty * nx_t + tx + 1
            for fi, f in enumerate(filters):
                for di, d in enumerate(offsets):
                    cfg = ExposureConfig(instrument=spec.instrument, detector=spec.detector, filter=f,
                                         readpatt=readpatt, ngroups=ngroups, nints=nints, subarray=subarray,
                                         ra=ra, dec=dec, roll=roll, dither=d, pointing_offset=tile,
                                         patt_num=di + 1, num_dither=len(offsets), program=program,
                                         observation=observation, visit=visit, activity=fi + 1,
                                         exposure=di + 1, date_obs=_iso(when), seed=seed, zero_frame=zero_frame,
                                         detector_seed=detector_seed)
                    configs.append(cfg)
                    when += timedelta(seconds=timing(spec, cfg)["duration"] + overhead)
    return configs


def write_associations(spec: DetectorSpec, products: list[ExposureProducts], outdir) -> list[Path]:
    """A level-2 (image2, one product per exposure, members ``_rate``) and, per filter, a
    level-3 (image3, members ``_cal``) association."""
    from ..asn import from_list

    outdir = Path(outdir)
    if not products:
        return []
    cfg0 = products[0].config
    prefix = f"jw{cfg0.program}-o{cfg0.observation:03d}"
    paths = []
    rate_names = [f"{p.config.base_name}_rate.fits" for p in products]
    asn2 = from_list(rate_names, rule="DMS_Level2b_Base", asn_type="image2")
    asn2.program = cfg0.program
    asn2.asn_id = "a2001"
    asn2.asn_pool = f"{prefix}_pool"
    asn2.target = "t001"
    paths.append(asn2.write(outdir / f"{prefix}_image2_asn.json"))
    by_filter: dict[str, list] = {}
    for p in products:
        by_filter.setdefault(spec.filter(p.config.filter).name, []).append(p)
    for k, (fname, prods) in enumerate(sorted(by_filter.items())):
        filt = spec.filter(fname)
        parts = sorted({x.lower() for x in (filt.filter, filt.pupil) if x})   # DMS: clear-f200w
        optical = "-".join(parts) if parts else "clear"
        product = f"{prefix}_t001_{spec.instrument.lower()}_{optical}"
        asn3 = from_list([f"{p.config.base_name}_cal.fits" for p in prods], product_name=product,
                         rule="DMS_Level3_Base", asn_type="image3")
        asn3.program = cfg0.program
        asn3.asn_id = f"a3{k + 1:03d}"
        asn3.asn_pool = f"{prefix}_pool"
        asn3.target = "t001"
        paths.append(asn3.write(outdir / f"{product}_image3_asn.json"))
    return paths


def simulate_observation(spec: DetectorSpec, outdir, configs: list[ExposureConfig], *,
                         scene: Scene | None = None, options: RampOptions | None = None) -> list[ExposureProducts]:
    """Simulate every exposure of a plan over one shared scene (covering the whole mosaic)."""
    if not configs:
        return []
    c0 = configs[0]
    if scene is None:
        # the field is sized to the exposure window (a subarray gets a small, equally rich field)
        extent = max(max(abs(c.pointing_offset[0]), abs(c.pointing_offset[1])) for c in configs)
        sub = spec.subarray(c0.subarray)
        window = 0.75 * max(sub.xsize, sub.ysize) * max(spec.sci_scale)
        radius = window + extent
        n_scale = max(1.0, (radius / window) ** 2)
        ra0, dec0 = _window_centre(spec, c0)
        scene = random_scene(ra0, dec0, radius, c0.seed, n_stars=int(40 * n_scale),
                             n_galaxies=int(40 * n_scale))
    return [simulate_exposure(spec, c, outdir, scene, options=options) for c in configs]


def _window_centre(spec: DetectorSpec, cfg: ExposureConfig):
    """Sky position of the centre of the exposure's window (a subarray may be far from the
    aperture's reference point), without the deliberate pointing error."""
    from dataclasses import replace

    ra, dec = footprint(spec, replace(cfg, pointing_offset=(0.0, 0.0)))
    return float(np.mean(ra)), float(np.mean(dec))


def footprint(spec: DetectorSpec, cfg: ExposureConfig):
    """(RA, Dec) of the four corners of the exposure's window."""
    sub = spec.subarray(cfg.subarray)
    pointing = pointing_for(spec, cfg.ra, cfg.dec, cfg.roll, cfg.dither[0] + cfg.pointing_offset[0],
                            cfg.dither[1] + cfg.pointing_offset[1])
    x0, y0 = sub.xstart - 1.5, sub.ystart - 1.5
    x1, y1 = x0 + sub.xsize, y0 + sub.ysize
    return pixel_to_sky(spec, pointing, np.array([x0, x1, x1, x0]), np.array([y0, y0, y1, y1]))


__all__ = ["ExposureConfig", "ExposureProducts", "simulate_exposure", "simulate_observation",
           "plan_observation", "write_associations", "timing", "build_metadata", "footprint",
           "write_fits_deterministic"]
