"""``jwcal simulate``: realistic raw exposures, their truth, associations and references."""

from __future__ import annotations

import time
from pathlib import Path

import click


def _split(values) -> list[str]:
    out: list[str] = []
    for v in values or ():
        out.extend(x.strip() for x in str(v).split(",") if x.strip())
    return out


def _mosaic(text: str) -> tuple[int, int]:
    from ..errors import JwcalError

    try:
        nx, ny = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise JwcalError(f"--mosaic {text!r}: expected NXxNY, e.g. 2x1") from None
    if nx < 1 or ny < 1:
        raise JwcalError(f"--mosaic {text!r}: both numbers must be at least 1")
    return nx, ny


@click.command("simulate")
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--instrument", "-i", required=True, help="nircam, niriss, miri, fgs or nirspec.")
@click.option("--detector", "-d", default=None, help="Detector (default: the instrument's first), e.g. NRCA1.")
@click.option("--filter", "-f", "filters", multiple=True,
              help="Filter(s); repeat or separate with commas (default: the detector's default).")
@click.option("--ngroups", type=int, default=5, show_default=True)
@click.option("--nints", type=int, default=1, show_default=True)
@click.option("--readpatt", default=None, help="Readout pattern (default: the detector's, e.g. RAPID).")
@click.option("--subarray", default="FULL", show_default=True)
@click.option("--dithers", type=int, default=1, show_default=True, help="Dither positions per filter and tile.")
@click.option("--mosaic", default="1x1", show_default=True, help="Mosaic tiles NXxNY (one visit per tile).")
@click.option("--ra", type=float, default=53.16, show_default=True, help="Target RA (deg).")
@click.option("--dec", type=click.FloatRange(-90.0, 90.0), default=-27.78, show_default=True,
              help="Target Dec (deg).")
@click.option("--roll", type=float, default=0.0, show_default=True, help="ROLL_REF (deg).")
@click.option("--date-obs", default="2024-03-01T00:00:00", show_default=True, help="Start of the first exposure (UTC).")
@click.option("--program", default="01234", show_default=True, help="Program number (5 digits).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed: same seed, same bytes.")
@click.option("--refs-dir", type=click.Path(file_okay=False), default=None,
              help="Where to write the reference set and its store index (default OUTDIR/refs).")
@click.option("--no-refs", is_flag=True, help="Do not write reference files.")
@click.option("--full-frame-refs", is_flag=True,
              help="Write full-frame references even for a subarray (default: cut to the subarray).")
@click.option("--noiseless", is_flag=True, help="Expectation values only (no noise, no cosmic rays).")
@click.option("--no-cosmic-rays", is_flag=True, help="Leave out cosmic rays.")
@click.option("--zero-frame", is_flag=True,
              help="Also write each integration's ZEROFRAME (near-IR; used by ramp_fit for pixels saturated in group 1).")
@click.option("--threads", type=int, default=2, show_default=True)
def simulate(outdir, instrument, detector, filters, ngroups, nints, readpatt, subarray, dithers, mosaic, ra, dec,
             roll, date_obs, program, seed, refs_dir, no_refs, full_frame_refs, noiseless, no_cosmic_rays, zero_frame, threads):
    """Simulate raw JWST imaging exposures into OUTDIR.

    Writes <name>_uncal.fits, <name>_truth.fits (true count rate in DN/s) and
    <name>_truth.ecsv (sources) per exposure, a level-2 and per-filter level-3 association,
    and (unless --no-refs) a consistent reference set with its local-store index.
    """
    from ..errors import JwcalError
    from ..sim.detector import get_detector
    from ..sim.exposure import plan_observation, simulate_observation, write_associations
    from ..sim.ramp import RampOptions

    if not (len(program) == 5 and program.isdigit()):
        raise JwcalError(f"--program {program!r}: expected 5 digits, e.g. 01234")
    if threads < 1:
        raise JwcalError("--threads must be at least 1")
    spec = get_detector(instrument, detector)
    if zero_frame and spec.is_si_as:
        raise JwcalError(f"--zero-frame: {spec.instrument} {spec.detector} (Si:As) has no zero frame "
                         "(only the near-infrared detectors write one)")
    flist = _split(filters) or [spec.default_filter]
    plan = plan_observation(spec, filters=flist, ngroups=ngroups, nints=nints, readpatt=readpatt,
                            subarray=subarray, dithers=dithers, mosaic=_mosaic(mosaic), ra=ra, dec=dec,
                            roll=roll, seed=seed, program=program, date_obs=date_obs, zero_frame=zero_frame)
    out = Path(outdir)
    t0 = time.perf_counter()
    options = RampOptions(noiseless=noiseless, cosmic_rays=not no_cosmic_rays, threads=threads)
    products = simulate_observation(spec, out, plan, options=options)
    for p in products:
        click.echo(f"wrote {p.uncal}")
    asns = write_associations(spec, products, out)
    for a in asns:
        click.echo(f"wrote {a}")
    click.echo(f"simulated {len(products)} exposure(s) of {spec.instrument} {spec.detector} in "
               f"{time.perf_counter() - t0:.1f} s")
    if no_refs:
        return
    from ..sim.references import build_store, write_reference_set

    refs = Path(refs_dir) if refs_dir else out / "refs"
    patt = spec.readout(readpatt or spec.default_readpatt)
    window = None if (full_frame_refs or spec.subarray(subarray).name == "FULL") else subarray
    paths = write_reference_set(spec, refs, seed=seed, filters=flist, subarrays=[subarray], readpatt=patt.name,
                                ngroups=ngroups, nints=max(nints, 2), window=window)
    store = build_store(refs, paths)
    click.echo(f"wrote {len(paths)} reference files and {store.root / 'store.json'}")


COMMANDS = (simulate,)
