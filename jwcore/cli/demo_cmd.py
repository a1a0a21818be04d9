"""``jwcal demo``: the embedded default end to end: simulate a small program, calibrate it."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("folder", type=click.Path(file_okay=False), default="demo")
@click.option("--instrument", default="nircam", show_default=True)
@click.option("--detector", default="NRCA1", show_default=True)
@click.option("--filters", default="F150W,F200W", show_default=True)
@click.option("--subarray", default="SUB640", show_default=True)
@click.option("--ngroups", type=int, default=6, show_default=True)
@click.option("--dithers", type=int, default=3, show_default=True)
@click.option("-j", "--jobs", type=click.IntRange(1), default=None, help="Parallel workers (default: all cores).")
@click.pass_context
def demo(ctx, folder, instrument, detector, filters, subarray, ngroups, dithers, jobs):
    """Simulate a small dithered two-filter program with its reference files into FOLDER/raw,
    calibrate it through every stage into FOLDER/out, and write an HTML report.

    No network is needed: the simulator writes the raw exposures, their truth and a local
    reference store.
    """
    from .run_cmd import run
    from .sim_cmd import simulate

    root = Path(folder)
    raw, out = root / "raw", root / "out"
    if not list(raw.glob("*_uncal.fits")):
        ctx.invoke(simulate, outdir=str(raw), instrument=instrument, detector=detector, filters=(filters,),
                   ngroups=ngroups, nints=1, readpatt=None, subarray=subarray, dithers=dithers, mosaic="1x1",
                   ra=53.16, dec=-27.78, roll=0.0, date_obs="2024-03-01T00:00:00", program="01234", seed=1,
                   refs_dir=None, no_refs=False, full_frame_refs=False, noiseless=False, no_cosmic_rays=False,
                   threads=2)
    click.echo(f"calibrating {raw} -> {out}", err=True)
    try:
        ctx.invoke(run, args=(str(raw),), pipeline=None, stage=None, to_stage=3, output_dir=str(out), param_file=None,
                   refs=str(raw / "refs"), jobs=jobs, executor="processes", scheduler=None, force=False, manifest=None)
    finally:
        record = out / "jwcal_run_latest.json"
        if record.exists():
            from ..execute.report import render

            click.echo(f"report: {render(record, out / 'report.html')}", err=True)


COMMANDS = (demo,)
