"""NIRISS commissioning analyses on files: the Python side of ``jwcal niriss ...``.

Each function takes file names (or already-open models / astropy Tables), runs the array
code of :mod:`jwcal_niriss.analysis` and returns astropy Tables (and writes them as ECSV
when given an ``output``).  They work on ``_rate`` and ``_cal`` images written by jwcal or by
the STScI ``jwst`` pipeline (SCI, DQ and ERR extensions).  Bad input raises
:class:`jwcore.errors.BadInputError` / :class:`~jwcore.errors.ParameterError` with a one-line
message.

Workflows (from the NIRISS commissioning programmes):

* filter offsets: ``simplephot`` on an image per filter, then ``filteroffsets`` on two
  catalogues (the second is the zero-offset reference);
* flux calibration (CAP-020): ``ee`` on each dithered exposure of a standard star (EE tables
  named ``<filter>_<subarray>...``), ``meanflux`` per root name, ``sb``/``meansb`` for the
  profiles in annuli, ``totfluxes`` for aperture-corrected total count rates per filter, and
  ``countrates`` for the rates expected from the star's spectrum.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from pathlib import Path

import numpy as np

from jwcore.errors import BadInputError, ParameterError

from . import analysis as an

log = logging.getLogger("jwcal.niriss")

DEFAULT_EE_RADII = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0)
DEFAULT_SB_RADII = tuple(float(r) for r in range(1, 21))
FILTER_RE = re.compile(r"f\d{3}[wmn]", re.IGNORECASE)


# -- reading ------------------------------------------------------------------------------
class Image:
    """The arrays and the few keywords the analyses need."""

    def __init__(self, data, dq, err, name: str, meta: dict):
        self.data, self.dq, self.err, self.name, self.meta = data, dq, err, name, meta

    @property
    def filter(self) -> str:
        """NIRISS's filter in use: FILTER, or PUPIL when FILTER is CLEAR (short-wave filters)."""
        f = str(self.meta.get("filter") or "").upper()
        p = str(self.meta.get("pupil") or "").upper()
        return p if (not f or f.startswith("CLEAR")) and p else f


def _meta_value(model, dotted):
    cur = model.meta
    for part in dotted.split("."):
        try:
            cur = getattr(cur, part)
        except AttributeError:
            return None
        if cur is None:
            return None
    return cur if isinstance(cur, (str, int, float)) else None


def load_image(image) -> Image:
    """A 2-D image from a ``_rate``/``_cal`` file name or a model with ``data`` (and ``dq``, ``err``)."""
    opened = None
    if isinstance(image, (str, os.PathLike)):
        from jwcore.datamodel import open_model

        opened = model = open_model(image)
        name = Path(image).name
    else:
        model = image
        name = str(_meta_value(model, "filename") or type(model).__name__)
    try:
        data = getattr(model, "data", None)
        if data is None:
            raise BadInputError(f"{name}: no SCI data")
        data = np.asarray(data)
        if data.ndim != 2:
            raise BadInputError(f"{name}: needs a 2-D image (_rate or _cal), got {data.ndim}-D data "
                                f"({type(model).__name__})")
        dq = getattr(model, "dq", None)
        dq = np.zeros(data.shape, np.uint32) if dq is None else np.asarray(dq)
        err = getattr(model, "err", None)
        err = None if err is None else np.asarray(err)
        if dq.shape != data.shape or (err is not None and err.shape != data.shape):
            raise BadInputError(f"{name}: DQ/ERR shapes differ from SCI {data.shape}")
        meta = {k: _meta_value(model, p) for k, p in (
            ("filter", "instrument.filter"), ("pupil", "instrument.pupil"), ("instrument", "instrument.name"),
            ("detector", "instrument.detector"), ("subarray", "subarray.name"), ("exp_type", "exposure.type"),
            ("bunit", "bunit_data"))}
        out = Image(np.array(data, dtype=np.float32), np.array(dq, dtype=np.uint32),
                    None if err is None else np.array(err, dtype=np.float32), name, meta)
    finally:
        if opened is not None:
            opened.close()
    if out.meta.get("instrument") and str(out.meta["instrument"]).upper() != "NIRISS":
        log.warning("%s: instrument is %s, not NIRISS", name, out.meta["instrument"])
    return out


def read_table(table, what: str = "table"):
    """An astropy Table from a Table or a file (ECSV, or any ASCII table astropy can guess)."""
    from astropy.table import Table

    if isinstance(table, Table):
        return table
    path = Path(table)
    if not path.exists():
        raise BadInputError(f"{path}: no such file")
    import warnings

    from astropy.units import UnitsWarning

    errors = []
    for fmt in ("ascii.ecsv", "fits", "ascii"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnitsWarning)      # calspec's ANGSTROMS, FLAM: see _unit
                t = Table.read(path, format=fmt)
        except Exception as exc:  # astropy raises many kinds for the wrong format
            errors.append(f"{type(exc).__name__}")
            continue
        t.meta.setdefault("source_file", str(path))
        return t
    raise BadInputError(f"{path}: not a readable {what} ({', '.join(errors)})")


def _column(table, names, what, path=None, required=True):
    lower = {c.lower(): c for c in table.colnames}
    for n in names:
        if n.lower() in lower:
            return table[lower[n.lower()]]
    if required:
        where = path or table.meta.get("source_file", "table")
        raise BadInputError(f"{where}: no {what} column (looked for {', '.join(names)}; has {', '.join(table.colnames)})")
    return None


def write_table(table, path) -> Path:
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    table.write(path, format="ascii.ecsv", overwrite=True)
    return path


def _stem(name) -> str:
    n = Path(str(name)).name
    for ext in (".fits.gz", ".fits", ".fit", ".ecsv", ".radtab", ".sbtab", ".avtab", ".avsbtab"):
        if n.lower().endswith(ext):
            return n[: -len(ext)]
    return Path(n).stem


def _bad(exc: Exception, name: str) -> BadInputError:
    return BadInputError(f"{name}: {exc}")


# -- simplephot ---------------------------------------------------------------------------
def simplephot(image, *, nsigma: float = 100.0, output=None, aperture_radius: float = 4.0,
               centroid_radius: float = 3.0, sky_annulus=(8.0, 12.0), max_saturated: int = 1,
               kappa: float = 3.0):
    """Catalogue of point-like sources of one image (see :func:`analysis.simplephot`).

    Columns: id, x, y (0-based pixel centroids), flux, flux_err (aperture sum minus local
    sky, image units x pixels), sky, peak, npix, nsat, fwhm, roundness.
    """
    from astropy.table import Table

    if not nsigma > 0:
        raise ParameterError("nsigma must be positive")
    img = load_image(image)
    try:
        cat = an.simplephot(img.data, img.dq, img.err, nsigma=nsigma, aperture_radius=aperture_radius,
                            centroid_radius=centroid_radius, sky_annulus=sky_annulus, kappa=kappa,
                            max_saturated=max_saturated)
    except ValueError as exc:
        raise _bad(exc, img.name) from None
    t = Table()
    t["id"] = np.arange(1, len(cat) + 1)
    for col in ("x", "y", "flux", "flux_err", "sky", "peak"):
        t[col] = getattr(cat, col)
    t["npix"], t["nsat"] = cat.npix, cat.nsat
    t["fwhm"], t["roundness"] = cat.fwhm, cat.roundness
    for col in ("x", "y"):
        t[col].format = ".4f"
    for col in ("flux", "flux_err", "sky", "peak", "fwhm", "roundness"):
        t[col].format = ".5g"
    t.meta.update(file=img.name, filter=img.filter, pupil=img.meta.get("pupil"), subarray=img.meta.get("subarray"),
                  nsigma=float(nsigma), threshold=float(cat.threshold), sky=float(cat.sky_level),
                  sky_sigma=float(cat.sky_sigma), ndetected=cat.ndetected, aperture_radius=float(aperture_radius),
                  rejected=dict(cat.rejected), coordinates="0-based pixel centres")
    log.debug("%s: %d sources kept of %d detected above %.4g (sky %.4g, sigma %.3g); rejected %s",
             img.name, len(t), cat.ndetected, cat.threshold, cat.sky_level, cat.sky_sigma,
             ", ".join(f"{k} {v}" for k, v in cat.rejected.items() if v) or "none")
    if output is not None:
        write_table(t, output)
    return t


# -- filteroffsets ------------------------------------------------------------------------
def filteroffsets(tab1, tab2, *, output=None, maxdist: float = 2.0, kappa: float = 3.0, maxiter: int = 10,
                  plot=None):
    """Offsets of catalogue ``tab1`` relative to the reference ``tab2``.

    Returns ``(result, matched)``: the :class:`analysis.OffsetResult` (``result.x.mean``,
    ``result.y.mean`` are the clipped mean offsets) and the matched table.
    """
    from astropy.table import Table

    if not maxdist > 0:
        raise ParameterError("maxdist must be positive")
    t1, t2 = read_table(tab1, "catalogue"), read_table(tab2, "catalogue")
    x1, y1 = _column(t1, ("x", "xcentroid", "x_centroid"), "x"), _column(t1, ("y", "ycentroid", "y_centroid"), "y")
    x2, y2 = _column(t2, ("x", "xcentroid", "x_centroid"), "x"), _column(t2, ("y", "ycentroid", "y_centroid"), "y")
    res = an.filter_offsets(np.asarray(x1, float), np.asarray(y1, float), np.asarray(x2, float),
                            np.asarray(y2, float), maxdist=maxdist, kappa=kappa, maxiter=maxiter)
    if res.nmatched < 2:
        raise BadInputError(f"only {res.nmatched} source(s) matched within {maxdist:g} px: "
                            "try a larger --maxdist or check the catalogues")
    ids1 = _column(t1, ("id",), "id", required=False)
    ids2 = _column(t2, ("id",), "id", required=False)
    m = Table()
    m["id1"] = np.asarray(ids1)[res.i1] if ids1 is not None else res.i1 + 1
    m["id2"] = np.asarray(ids2)[res.i2] if ids2 is not None else res.i2 + 1
    m["x1"], m["y1"] = np.asarray(x1, float)[res.i1], np.asarray(y1, float)[res.i1]
    m["x2"], m["y2"] = np.asarray(x2, float)[res.i2], np.asarray(y2, float)[res.i2]
    m["dx"], m["dy"] = res.dx, res.dy
    m["used_x"], m["used_y"] = res.keep_x, res.keep_y
    for c in ("x1", "y1", "x2", "y2"):
        m[c].format = ".4f"
    for c in ("dx", "dy"):
        m[c].format = ".5f"
    m.meta.update(
        catalog1=str(t1.meta.get("source_file", t1.meta.get("file", "table 1"))),
        catalog2=str(t2.meta.get("source_file", t2.meta.get("file", "table 2"))),
        filter1=t1.meta.get("filter"), filter2=t2.meta.get("filter"), maxdist=float(maxdist), kappa=float(kappa),
        n1=len(t1), n2=len(t2), nmatched=res.nmatched,
        dx_mean=res.x.mean, dx_std=res.x.std, dx_err=res.x.error, dx_n=res.x.n,
        dy_mean=res.y.mean, dy_std=res.y.std, dy_err=res.y.error, dy_n=res.y.n,
        offsets="catalog1 - catalog2 (catalog2 is the reference), pixels")
    if output is not None:
        write_table(m, output)
    if plot is not None:
        from .plots import plot_offsets

        plot_offsets(res, plot, title=f"{m.meta['filter1'] or 'cat 1'} - {m.meta['filter2'] or 'cat 2'}")
    return res, m


def format_offsets(res, n1=None, n2=None, maxdist=None) -> str:
    """The lines ``jwcal niriss filteroffsets`` prints."""
    head = f"matched {res.nmatched} sources"
    if n1 is not None:
        head += f" of {n1} and {n2}"
    if maxdist is not None:
        head += f" within {maxdist:g} px"
    lines = [head]
    for axis, st in (("X", res.x), ("Y", res.y)):
        lines.append(f"{axis} offset: {st.mean:+.4f} +/- {st.error:.4f} px  (clipped sigma {st.std:.4f}, "
                     f"{st.n} of {res.nmatched} kept, {st.niter} iterations)")
    return "\n".join(lines)


# -- encircled energy ---------------------------------------------------------------------
def _radii(radii, default):
    r = np.asarray(default if radii is None else radii, dtype=np.float64).ravel()
    if r.size == 0 or not np.all(np.isfinite(r)) or np.any(r <= 0) or np.any(np.diff(r) <= 0):
        raise ParameterError("radii must be positive and increasing")
    return r


def ee(image, x: float, y: float, *, radii=None, usemedian: bool = False, output=None, fluxes=None,
       core_radius: float = 5.0, sky=None, sky_annulus=None, subpixel: bool = True, plot=None, **kwargs):
    """Encircled-energy table of the star near (x, y) (0-based pixels) in one image.

    Columns: radius, flux, flux_err, ee (flux / flux at the largest radius), ee_err, area,
    complete.  ``fluxes`` writes a one-row summary table (position, sky, counts and the flux
    at every radius).  Other keywords go to :func:`analysis.encircled_energy`.
    """
    from astropy.table import Table

    img = load_image(image)
    r = _radii(radii, DEFAULT_EE_RADII)
    ny, nx = img.data.shape
    if not (0 <= x < nx and 0 <= y < ny):
        raise ParameterError(f"({x:g}, {y:g}) is off the {nx}x{ny} image {img.name}")
    try:
        res = an.encircled_energy(img.data, img.dq, x, y, r, err=img.err, core_radius=core_radius,
                                  usemedian=usemedian, sky=sky, sky_annulus=sky_annulus, subpixel=subpixel,
                                  **kwargs)
    except ValueError as exc:
        raise _bad(exc, img.name) from None
    st = res.star
    if not st.converged:
        log.warning("%s: the centroid did not converge; using the brightest pixel (%.2f, %.2f)", img.name, st.x, st.y)
    if res.n_core_bad:
        log.info("%s: %d bad pixel(s) within %g px of the centre (%d saturated), left unchanged",
                 img.name, res.n_core_bad, core_radius, res.n_core_sat)
    if res.n_unreplaced:
        log.warning("%s: %d outer bad pixel(s) had no usable neighbours and were left out", img.name,
                    res.n_unreplaced)
    if not res.complete.all():
        log.warning("%s: apertures from %g px reach past the image edge", img.name, res.radius[~res.complete][0])
    t = Table()
    t["radius"] = res.radius
    t["flux"], t["flux_err"] = res.flux, res.flux_err
    t["ee"], t["ee_err"] = res.ee, res.ee_err
    t["area"], t["complete"] = res.area, res.complete
    for c in ("flux", "flux_err", "ee", "ee_err", "area"):
        t[c].format = ".6g"
    t.meta.update(file=img.name, filter=img.filter, pupil=img.meta.get("pupil"), subarray=img.meta.get("subarray"),
                  bunit=img.meta.get("bunit"), x=st.x, y=st.y, x_guess=float(x), y_guess=float(y),
                  centroid_converged=bool(st.converged), sky=st.sky, sky_sigma=st.sky_sigma, sky_err=st.sky_err,
                  nsky=st.nsky, core_radius=float(core_radius), n_core_saturated=res.n_core_sat,
                  n_core_bad=res.n_core_bad, n_replaced=res.n_replaced, n_unreplaced=res.n_unreplaced,
                  replacement=res.method, subpixel=bool(subpixel), ee_normalisation="flux at the largest radius")
    if output is not None:
        write_table(t, output)
    if fluxes is not None:
        f = Table()
        for k in ("file", "filter", "subarray", "x", "y", "sky", "sky_sigma", "n_core_saturated", "n_core_bad",
                  "n_replaced"):
            f[k] = [t.meta[k] if t.meta[k] is not None else ""]
        for rr, fl, fe in zip(res.radius, res.flux, res.flux_err):
            f[f"flux_r{rr:g}"] = [fl]
            f[f"err_r{rr:g}"] = [fe]
        write_table(f, fluxes)
    if plot is not None:
        from .plots import plot_profiles

        plot_profiles([t], plot, column="ee", title=f"{img.name} ({img.filter or '?'})", ylabel="encircled energy")
    return t


# -- mean EE / SB across exposures --------------------------------------------------------
def _find_tables(root_or_tables, suffix: str) -> list[str]:
    items = [str(a) for a in ([root_or_tables] if isinstance(root_or_tables, (str, os.PathLike)) else root_or_tables)]
    if len(items) == 1 and not Path(items[0]).exists():
        found = sorted(glob.glob(glob.escape(items[0]) + "*" + suffix))
        if not found:
            raise BadInputError(f"no tables {items[0]}*{suffix}")
        return found
    return items


def _stack(tables, names, value, error):
    r0 = np.asarray(tables[0]["radius"], float)
    vals, errs = [], []
    for t, n in zip(tables, names):
        r = np.asarray(_column(t, ("radius",), "radius", n), float)
        if r.shape != r0.shape or not np.allclose(r, r0):
            raise BadInputError(f"{n}: radii differ from those of {names[0]}")
        vals.append(np.asarray(_column(t, (value,), value, n), float))
        e = _column(t, (error,), error, n, required=False)
        errs.append(np.full(r.shape, np.nan) if e is None else np.asarray(e, float))
    return r0, np.array(vals), np.array(errs)


def meanflux(root_or_tables, *, output=None, plot=None):
    """Weighted mean EE (and flux) per radius over the EE tables of one filter/subarray.

    ``root_or_tables``: a root name (all ``<root>*.radtab`` files are used) or a list of
    tables.  Columns: radius, flux, flux_err, ee, ee_err, avflag, nused, ntables, and
    ``flag_<i>`` (1 where exposure i's EE is smaller than at the previous radius).
    """
    from astropy.table import Table

    names = _find_tables(root_or_tables, ".radtab")
    tables = [read_table(n, "EE table") for n in names]
    r, ee_v, ee_e = _stack(tables, names, "ee", "ee_err")
    _, fl_v, fl_e = _stack(tables, names, "flux", "flux_err")
    flags = an.monotonic_flags(ee_v, increasing=True)
    m_ee = an.mean_profiles(ee_v, ee_e, flags)
    m_fl = an.mean_profiles(fl_v, fl_e, flags)
    t = Table()
    t["radius"] = r
    t["flux"], t["flux_err"] = m_fl.mean, m_fl.err
    t["ee"], t["ee_err"] = m_ee.mean, m_ee.err
    t["avflag"], t["nused"] = m_ee.avflag, m_ee.nused
    t["ntables"] = np.full(len(r), len(tables))
    for i in range(len(tables)):
        t[f"flag_{i + 1}"] = flags[i].astype(np.int16)
    for c in ("flux", "flux_err", "ee", "ee_err"):
        t[c].format = ".6g"
    t.meta.update(inputs=[str(n) for n in names], filter=tables[0].meta.get("filter"),
                  subarray=tables[0].meta.get("subarray"),
                  flags="flag_i = 1: EE of input i smaller than at the previous radius; "
                        "avflag 0: every input flagged, plain mean")
    nflag = int(flags.sum())
    if nflag:
        log.warning("%d EE value(s) smaller than at the previous radius (flag_i columns)", nflag)
    if output is not None:
        write_table(t, output)
    if plot is not None:
        from .plots import plot_profiles

        plot_profiles(tables + [t], plot, column="ee", labels=[_stem(n) for n in names] + ["mean"],
                      title=f"mean EE ({len(tables)} exposures)", ylabel="encircled energy")
    return t


def sb(image, x: float, y: float, *, radii=None, width: float = 1.0, clip: bool = True, output=None,
       sky=None, sky_annulus=None, plot=None, **kwargs):
    """Surface-brightness profile (per pixel, sky-subtracted) in annuli about the star near (x, y).

    Columns: radius, sb, sb_err, npix, nclipped, nbad.
    """
    from astropy.table import Table

    img = load_image(image)
    r = _radii(radii, DEFAULT_SB_RADII)
    ny, nx = img.data.shape
    if not (0 <= x < nx and 0 <= y < ny):
        raise ParameterError(f"({x:g}, {y:g}) is off the {nx}x{ny} image {img.name}")
    try:
        res = an.surface_brightness(img.data, img.dq, x, y, r, width=width, clip_low=clip, sky=sky,
                                    sky_annulus=sky_annulus, **kwargs)
    except ValueError as exc:
        raise _bad(exc, img.name) from None
    t = Table()
    t["radius"] = res.radius
    t["sb"], t["sb_err"] = res.sb, res.sb_err
    t["npix"], t["nclipped"], t["nbad"] = res.npix, res.nclipped, res.nbad
    for c in ("sb", "sb_err"):
        t[c].format = ".6g"
    st = res.star
    t.meta.update(file=img.name, filter=img.filter, subarray=img.meta.get("subarray"), bunit=img.meta.get("bunit"),
                  x=st.x, y=st.y, sky=st.sky, sky_sigma=st.sky_sigma, width=float(width), clip_low=bool(clip),
                  units="image units per pixel, sky subtracted")
    if output is not None:
        write_table(t, output)
    if plot is not None:
        from .plots import plot_profiles

        plot_profiles([t], plot, column="sb", title=f"{img.name} ({img.filter or '?'})",
                      ylabel="surface brightness per pixel", logy=True)
    return t


def meansb(root_or_tables, *, output=None, plot=None):
    """Weighted mean SB per radius over the SB tables of one filter/subarray.

    ``root_or_tables``: a root name (all ``<root>*.sbtab`` files) or a list of tables.
    ``flag_<i>`` is 1 where input i has no SB at that radius (no usable pixels).  Unlike
    the EE, an SB profile need not fall monotonically (diffraction rings), so it is not
    flagged for rising.
    """
    from astropy.table import Table

    names = _find_tables(root_or_tables, ".sbtab")
    tables = [read_table(n, "SB table") for n in names]
    r, v, e = _stack(tables, names, "sb", "sb_err")
    flags = ~np.isfinite(v)
    m = an.mean_profiles(v, e, flags)
    t = Table()
    t["radius"] = r
    t["sb"], t["sb_err"] = m.mean, m.err
    t["avflag"], t["nused"] = m.avflag, m.nused
    t["ntables"] = np.full(len(r), len(tables))
    for i in range(len(tables)):
        t[f"flag_{i + 1}"] = flags[i].astype(np.int16)
    for c in ("sb", "sb_err"):
        t[c].format = ".6g"
    t.meta.update(inputs=[str(n) for n in names], filter=tables[0].meta.get("filter"),
                  flags="flag_i = 1: no SB from input i at that radius; avflag 0: none has one")
    if output is not None:
        write_table(t, output)
    if plot is not None:
        from .plots import plot_profiles

        plot_profiles(tables + [t], plot, column="sb", labels=[_stem(n) for n in names] + ["mean"],
                      title=f"mean SB ({len(tables)} exposures)", ylabel="surface brightness per pixel", logy=True)
    return t


# -- totfluxes ----------------------------------------------------------------------------
def filter_from_name(name) -> str | None:
    m = FILTER_RE.search(Path(str(name)).name)
    return m.group(0).upper() if m else None


def psf_ee_curve(table, name="PSF table"):
    """(radius, ee) of a PSF encircled-energy table (columns radius/ee, or the first two)."""
    t = read_table(table, "PSF EE table")
    r = _column(t, ("radius", "r", "rad"), "radius", name, required=False)
    e = _column(t, ("ee", "encircled_energy", "eer"), "ee", name, required=False)
    if r is None or e is None:
        if len(t.colnames) < 2:
            raise BadInputError(f"{name}: needs radius and EE columns")
        r, e = t[t.colnames[0]], t[t.colnames[1]]
    return np.asarray(r, float), np.asarray(e, float)


def total_count_rates(pairs, *, rmin: float = 5.0, rmax: float = 10.0):
    """Aperture-corrected total rates from ``{filter: (mean EE table, PSF EE table)}``.

    Columns: filter, countrate, err, err_stat, err_apcorr, nradii, apcorr, avtab, psftab.
    """
    from astropy.table import Table

    rows = []
    for filt in sorted(pairs):
        avtab, psftab = pairs[filt]
        t = read_table(avtab, "mean EE table")
        name = str(avtab if not hasattr(avtab, "meta") else avtab.meta.get("source_file", filt))
        pr, pe = psf_ee_curve(psftab, str(psftab))
        try:
            tf = an.aperture_corrected_total(_column(t, ("radius",), "radius", name),
                                             _column(t, ("flux",), "flux", name),
                                             _column(t, ("flux_err",), "flux_err", name, required=False),
                                             pr, pe, rmin=rmin, rmax=rmax)
        except ValueError as exc:
            raise _bad(exc, name) from None
        rows.append((filt, tf.countrate, tf.err, tf.err_stat, tf.err_apcorr, tf.nradii, tf.apcorr,
                     Path(name).name, Path(str(psftab)).name))
    if not rows:
        raise BadInputError("no filter with both a mean EE table and a PSF EE table")
    t = Table(rows=rows, names=("filter", "countrate", "err", "err_stat", "err_apcorr", "nradii", "apcorr",
                                "avtab", "psftab"))
    for c in ("countrate", "err", "err_stat", "err_apcorr", "apcorr"):
        t[c].format = ".6g"
    t.meta.update(rmin=float(rmin), rmax=float(rmax))
    return t


def totfluxes(subarray: str, *, directory=".", psf_dir=None, rmin: float = 5.0, rmax: float = 10.0, output=None):
    """Total count rate per filter for one subarray.

    Mean EE tables: ``<directory>/*<subarray>*.avtab`` (filter from the name, e.g.
    ``f090w_sub128.avtab``); PSF EE tables: ``<psf_dir>/*<filter>*psf.radtab``
    (case-insensitive; e.g. ``f090wpsf.radtab``).
    """
    directory = Path(directory)
    psf_dir = Path(psf_dir) if psf_dir is not None else directory
    if not directory.is_dir():
        raise BadInputError(f"{directory}: not a directory")
    sub = subarray.lower()
    avtabs = [p for p in sorted(directory.iterdir()) if p.name.lower().endswith(".avtab") and sub in p.name.lower()]
    if not avtabs:
        raise BadInputError(f"no mean EE tables *{subarray}*.avtab in {directory}")
    psfs = [p for p in sorted(psf_dir.iterdir()) if p.name.lower().endswith("psf.radtab")] if psf_dir.is_dir() else []
    pairs = {}
    for a in avtabs:
        f = filter_from_name(a)
        if f is None:
            log.warning("%s: no filter name in the file name; skipped", a.name)
            continue
        match = [p for p in psfs if f.lower() in p.name.lower()]
        if not match:
            log.warning("%s: no PSF EE table *%s*psf.radtab in %s; skipped", a.name, f.lower(), psf_dir)
            continue
        if f in pairs:
            log.warning("%s: a second mean EE table for %s; %s is used", a.name, f, pairs[f][0].name)
            continue
        pairs[f] = (a, match[0])
    t = total_count_rates(pairs, rmin=rmin, rmax=rmax)
    t.meta["subarray"] = subarray
    if output is not None:
        write_table(t, output)
    return t


# -- countrates ---------------------------------------------------------------------------
_UNIT_ALIASES = {"angstroms": "Angstrom", "angstrom": "Angstrom", "a": "Angstrom", "microns": "micron",
                 "micron": "micron", "um": "micron", "nm": "nm", "flam": "erg / (s cm2 Angstrom)",
                 "fnu": "erg / (s cm2 Hz)", "jy": "Jy", "mjy": "mJy"}


def _unit(col, default):
    import astropy.units as u

    unit = getattr(col, "unit", None)
    if unit is None:
        return u.Unit(default)
    if isinstance(unit, u.UnrecognizedUnit) or not isinstance(unit, u.UnitBase):
        s = str(unit).strip().lower()
        return u.Unit(_UNIT_ALIASES.get(s, default))
    return unit


def read_curve(path, kind: str, wave_unit: str = "Angstrom"):
    """(wavelength in Angstrom, values) of a spectrum (F_lambda in FLAM) or a throughput curve."""
    import astropy.units as u

    t = read_table(path, f"{kind} file")
    name = str(path)
    w = _column(t, ("wavelength", "wave", "lambda", "lam"), "wavelength", name, required=False)
    if kind == "spectrum":
        v = _column(t, ("flux", "flam", "f_lambda"), "flux", name, required=False)
    else:
        v = _column(t, ("throughput", "thr", "transmission", "t"), "throughput", name, required=False)
    if w is None or v is None:
        if len(t.colnames) < 2:
            raise BadInputError(f"{name}: needs wavelength and {kind} columns")
        w, v = t[t.colnames[0]], t[t.colnames[1]]
    wu = _unit(w, wave_unit)
    try:
        wave = (np.asarray(w, float) * wu).to_value(u.AA, equivalencies=u.spectral())
    except u.UnitConversionError:
        raise BadInputError(f"{name}: wavelength unit {wu} is not a length") from None
    vals = np.asarray(v, float)
    if kind == "spectrum":
        fu = _unit(v, "erg / (s cm2 Angstrom)")
        try:
            vals = (vals * fu).to_value(u.erg / u.s / u.cm ** 2 / u.AA, equivalencies=u.spectral_density(wave * u.AA))
        except u.UnitConversionError:
            raise BadInputError(f"{name}: flux unit {fu} is not a flux density") from None
    order = np.argsort(wave, kind="stable")
    wave, vals = wave[order], vals[order]
    keep = np.concatenate([[True], np.diff(wave) > 0])
    return wave[keep], vals[keep]


def throughput_files(throughputs=None) -> list[str]:
    """The given throughput files, or those in ``$NIS_SYNPHOT`` whose names hold a filter."""
    if throughputs:
        return [str(p) for p in throughputs]
    d = os.environ.get("NIS_SYNPHOT")
    if not d or not Path(d).is_dir():
        raise BadInputError("no throughput curves: give the files, or set NIS_SYNPHOT to their directory")
    files = [str(p) for p in sorted(Path(d).iterdir())
             if filter_from_name(p) and p.suffix.lower() in (".fits", ".fit", ".dat", ".txt", ".ecsv", ".csv")]
    if not files:
        raise BadInputError(f"NIS_SYNPHOT={d}: no throughput files with a filter name")
    return files


def countrates(spectrum, throughputs=None, *, area: float = an.JWST_AREA_CM2, gain: float = 1.61,
               engine: str = "auto", wave_unit: str = "Angstrom", output=None):
    """Expected count rates of a spectrum in each filter.

    Columns: filter, countrate_e (photons = electrons per second, the throughput including
    the QE), countrate_dn (DN/s, divided by ``gain``), engine, throughput (file name).
    """
    from astropy.table import Table

    if not area > 0 or not gain > 0:
        raise ParameterError("area and gain must be positive")
    wave, flux = read_curve(spectrum, "spectrum", wave_unit)
    rows = []
    for path in throughput_files(throughputs):
        tw, thr = read_curve(path, "throughput", wave_unit)
        try:
            rate, used = an.expected_countrate(wave, flux, tw, thr, area=area, engine=engine)
        except ImportError:
            raise ParameterError("engine synphot: synphot is not installed") from None
        except ValueError as exc:
            raise _bad(exc, Path(path).name) from None
        except Exception as exc:  # synphot's own errors (disjoint ranges, ...)
            if type(exc).__module__.startswith("synphot"):
                raise BadInputError(f"{Path(path).name}: synphot: {exc}") from None
            raise
        rows.append((filter_from_name(path) or _stem(path), rate, rate / gain, used, Path(path).name))
    t = Table(rows=rows, names=("filter", "countrate_e", "countrate_dn", "engine", "throughput"))
    for c in ("countrate_e", "countrate_dn"):
        t[c].format = ".6g"
    t.meta.update(spectrum=str(spectrum), area_cm2=float(area), gain=float(gain))
    if output is not None:
        write_table(t, output)
    return t
