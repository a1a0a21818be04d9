"""``jwcal niriss ...``: the NIRISS commissioning analyses on the command line.

Thin click wrappers over :mod:`jwcal_niriss.commissioning`; the NIRISS plugin adds the
``niriss`` group through ``jwcal_register_commands``.  Coordinates are 0-based pixels.
"""

from __future__ import annotations

from pathlib import Path

import click

from . import commissioning as nc


class Radii(click.ParamType):
    """Comma-separated radii in pixels: ``1,2,3,5``, or ``start:stop:step`` ranges (stop included)."""

    name = "radii"

    def convert(self, value, param, ctx):
        if isinstance(value, (list, tuple)):
            return tuple(float(v) for v in value)
        out = []
        try:
            for part in str(value).split(","):
                part = part.strip()
                if not part:
                    continue
                if ":" in part:
                    a, b, *s = (float(p) for p in part.split(":"))
                    step = s[0] if s else 1.0
                    if step <= 0:
                        raise ValueError
                    n = int(round((b - a) / step))
                    out.extend(a + step * i for i in range(n + 1))
                else:
                    out.append(float(part))
        except ValueError:
            self.fail(f"{value!r}: expected numbers like 1,2,3 or 1:10:1", param, ctx)
        if not out or any(r <= 0 for r in out) or any(b <= a for a, b in zip(out, out[1:])):
            self.fail(f"{value!r}: radii must be positive and increasing", param, ctx)
        return tuple(out)


RADII = Radii()


def _png(output, kind, plot):
    """``<output stem>_<kind>.png`` beside the output table (None without --plot)."""
    if not plot:
        return None
    stem = nc._stem(output)
    return Path(output).with_name(f"{stem}.png" if kind in stem else f"{stem}_{kind}.png")


def _echo_table(t):
    click.echo("\n".join(t.pformat(max_lines=-1, max_width=-1)))


@click.group()
def niriss():
    """NIRISS commissioning analyses: filter offsets and imaging flux calibration.

    \b
    Filter offsets:   simplephot (per image), filteroffsets (two catalogues).
    Flux calibration: ee, meanflux, sb, meansb, totfluxes, countrates.
    Inputs are _rate/_cal images from jwcal or jwst; pixel coordinates are 0-based.
    """


@niriss.command()
@click.argument("image", type=click.Path(dir_okay=False))
@click.option("--nsigma", type=float, default=100.0, show_default=True,
              help="Detection threshold in sky sigmas above the sky.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Catalogue (ECSV)  [default: <image>_simplephot.ecsv]")
@click.option("--aperture", type=float, default=4.0, show_default=True, help="Aperture radius (pixels).")
@click.option("--centroid-radius", type=float, default=3.0, show_default=True,
              help="Centroid window radius (pixels).")
@click.option("--sky-annulus", type=(float, float), default=(8.0, 12.0), show_default=True,
              help="Local sky annulus radii (pixels).")
@click.option("--max-saturated", type=int, default=1, show_default=True,
              help="Reject sources with more SATURATED pixels than this.")
def simplephot(image, nsigma, output, aperture, centroid_radius, sky_annulus, max_saturated):
    """Catalogue point sources of IMAGE: centroids and aperture photometry.

    Sources with more than --max-saturated saturated pixels, or touching DO_NOT_USE pixels,
    are dropped.
    """
    output = output or f"{nc._stem(image)}_simplephot.ecsv"
    t = nc.simplephot(image, nsigma=nsigma, output=output, aperture_radius=aperture,
                      centroid_radius=centroid_radius, sky_annulus=sky_annulus, max_saturated=max_saturated)
    rej = ", ".join(f"{k} {v}" for k, v in t.meta["rejected"].items() if v) or "none"
    click.echo(f"{Path(image).name}: {len(t)} sources (detected {t.meta['ndetected']} above "
               f"{t.meta['threshold']:.5g}; rejected: {rej}) -> {output}")


@niriss.command()
@click.argument("tab1", type=click.Path(dir_okay=False))
@click.argument("tab2", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "matched", type=click.Path(dir_okay=False), default="filteroffsets.ecsv",
              show_default=True, help="Matched sources (ECSV).")
@click.option("--maxdist", type=float, default=2.0, show_default=True, help="Matching radius (pixels).")
@click.option("--kappa", type=float, default=3.0, show_default=True, help="Clipping threshold (sigmas).")
@click.option("--maxiter", type=int, default=10, show_default=True, help="Clipping iterations at most.")
@click.option("--plot/--no-plot", default=True, show_default=True,
              help="Write the dx/dy scatter as <output>_offsets.png.")
def filteroffsets(tab1, tab2, matched, maxdist, kappa, maxiter, plot):
    """Offsets of catalogue TAB1 relative to the reference TAB2 (simplephot tables).

    Prints the kappa-sigma clipped mean X and Y offsets (TAB1 - TAB2, pixels).
    """
    res, m = nc.filteroffsets(tab1, tab2, output=matched, maxdist=maxdist, kappa=kappa, maxiter=maxiter,
                              plot=_png(matched, "offsets", plot))
    click.echo(nc.format_offsets(res, m.meta["n1"], m.meta["n2"], maxdist))


@niriss.command()
@click.argument("image", type=click.Path(dir_okay=False))
@click.argument("x", type=float)
@click.argument("y", type=float)
@click.option("--radii", type=RADII, help="Measurement radii (pixels)  [default: 1 to 20]")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="EE table (ECSV)  [default: <image>.radtab]")
@click.option("--fluxes", type=click.Path(dir_okay=False), help="Also write a one-row flux summary table.")
@click.option("--usemedian", is_flag=True,
              help="Replace outer bad and low (< sky - 3 sigma) pixels from a median-filtered image "
                   "instead of a polynomial surface fit.")
@click.option("--core-radius", type=float, default=5.0, show_default=True,
              help="Inner radius whose bad pixels are only counted (pixels).")
@click.option("--sky", type=float, help="Fixed sky level instead of the annulus measurement.")
@click.option("--sky-annulus", type=(float, float), help="Sky annulus radii  [default: rmax+2, rmax+12]")
@click.option("--subpixel/--no-subpixel", default=True, show_default=True,
              help="Correct the cut pixels at each aperture edge for the flux gradient (off: plain "
                   "exact-overlap sums, as photutils).")
@click.option("--plot/--no-plot", default=True, show_default=True, help="Write <output>_ee.png.")
def ee(image, x, y, radii, output, fluxes, usemedian, core_radius, sky, sky_annulus, subpixel, plot):
    """Encircled energy of the star near (X, Y) in IMAGE."""
    output = output or f"{nc._stem(image)}.radtab"
    t = nc.ee(image, x, y, radii=radii, usemedian=usemedian, output=output, fluxes=fluxes, core_radius=core_radius,
              sky=sky, sky_annulus=sky_annulus, subpixel=subpixel, plot=_png(output, "ee", plot))
    m = t.meta
    click.echo(f"{m['file']}: centre ({m['x']:.3f}, {m['y']:.3f}), sky {m['sky']:.5g} +/- {m['sky_sigma']:.3g}; "
               f"core (r <= {m['core_radius']:g}): {m['n_core_bad']} bad, {m['n_core_saturated']} saturated; "
               f"{m['n_replaced']} outer pixel(s) replaced ({m['replacement']}) -> {output}")
    _echo_table(t)


@niriss.command()
@click.argument("tables", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Mean EE table  [default: <root>.avtab]")
@click.option("--plot/--no-plot", default=True, show_default=True, help="Write <output>_meanee.png.")
def meanflux(tables, output, plot):
    """Weighted mean EE over exposures: TABLES is a root name (<root>*.radtab) or EE tables."""
    root = tables[0] if len(tables) == 1 and not Path(tables[0]).exists() else None
    output = output or (f"{root}.avtab" if root else "meanflux.avtab")
    t = nc.meanflux(tables[0] if root else list(tables), output=output, plot=_png(output, "meanee", plot))
    click.echo(f"{len(t.meta['inputs'])} EE tables -> {output}")
    _echo_table(t)


@niriss.command()
@click.argument("image", type=click.Path(dir_okay=False))
@click.argument("x", type=float)
@click.argument("y", type=float)
@click.option("--radii", type=RADII, help="Annulus centre radii (pixels)  [default: 1 to 20]")
@click.option("--width", type=float, default=1.0, show_default=True, help="Annulus width (pixels).")
@click.option("--noclip", is_flag=True, help="Keep pixels more than 3 sigma below the sky.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="SB table  [default: <image>.sbtab]")
@click.option("--sky", type=float, help="Fixed sky level instead of the annulus measurement.")
@click.option("--sky-annulus", type=(float, float), help="Sky annulus radii  [default: rmax+w+2, rmax+w+12]")
@click.option("--plot/--no-plot", default=True, show_default=True, help="Write <output>_sb.png.")
def sb(image, x, y, radii, width, noclip, output, sky, sky_annulus, plot):
    """Surface-brightness profile in annuli about the star near (X, Y) in IMAGE."""
    output = output or f"{nc._stem(image)}.sbtab"
    t = nc.sb(image, x, y, radii=radii, width=width, clip=not noclip, output=output, sky=sky,
              sky_annulus=sky_annulus, plot=_png(output, "sb", plot))
    m = t.meta
    click.echo(f"{m['file']}: centre ({m['x']:.3f}, {m['y']:.3f}), sky {m['sky']:.5g} +/- {m['sky_sigma']:.3g}; "
               f"{int(t['nclipped'].sum())} low pixel(s) clipped -> {output}")
    _echo_table(t)


@niriss.command()
@click.argument("tables", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Mean SB table  [default: <root>.avsbtab]")
@click.option("--plot/--no-plot", default=True, show_default=True, help="Write <output>_meansb.png.")
def meansb(tables, output, plot):
    """Weighted mean SB over exposures: TABLES is a root name (<root>*.sbtab) or SB tables."""
    root = tables[0] if len(tables) == 1 and not Path(tables[0]).exists() else None
    output = output or (f"{root}.avsbtab" if root else "meansb.avsbtab")
    t = nc.meansb(tables[0] if root else list(tables), output=output, plot=_png(output, "meansb", plot))
    click.echo(f"{len(t.meta['inputs'])} SB tables -> {output}")
    _echo_table(t)


@niriss.command()
@click.argument("subarray")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Where the <filter>_<subarray>*.avtab tables are.")
@click.option("--psf-dir", type=click.Path(file_okay=False), help="Where the *<filter>*psf.radtab tables are  [default: --dir]")
@click.option("--rmin", type=float, default=5.0, show_default=True, help="Smallest radius used (pixels).")
@click.option("--rmax", type=float, default=10.0, show_default=True, help="Largest radius used (pixels).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="totfluxes.ecsv", show_default=True)
def totfluxes(subarray, directory, psf_dir, rmin, rmax, output):
    """Aperture-corrected total count rate per filter for SUBARRAY."""
    t = nc.totfluxes(subarray, directory=directory, psf_dir=psf_dir, rmin=rmin, rmax=rmax, output=output)
    _echo_table(t["filter", "countrate", "err", "nradii", "apcorr"])
    click.echo(f"-> {output}")


@niriss.command()
@click.argument("spectrum", type=click.Path(dir_okay=False))
@click.argument("throughputs", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--area", type=float, default=nc.an.JWST_AREA_CM2, show_default=True,
              help="Collecting area (cm^2).")
@click.option("--gain", type=float, default=1.61, show_default=True, help="e-/DN for the DN/s column.")
@click.option("--engine", type=click.Choice(["auto", "numpy", "synphot"]), default="auto", show_default=True,
              help="auto: synphot when installed.")
@click.option("--wave-unit", default="Angstrom", show_default=True, help="Wavelength unit of files without one.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="countrates.ecsv", show_default=True)
def countrates(spectrum, throughputs, area, gain, engine, wave_unit, output):
    """Expected count rates of SPECTRUM through each THROUGHPUT curve.

    SPECTRUM: wavelength and F_lambda (calspec FITS or a text table); THROUGHPUT files:
    wavelength and total throughput (default: the files in $NIS_SYNPHOT).
    """
    t = nc.countrates(spectrum, throughputs, area=area, gain=gain, engine=engine, wave_unit=wave_unit,
                      output=output)
    _echo_table(t)
    click.echo(f"-> {output}")


COMMANDS = (niriss,)
