"""``jwcal download``: a program's products from MAST, resumable and checked."""

from __future__ import annotations

import os

import click


@click.command("download")
@click.argument("program")
@click.option("-o", "--output-dir", required=True, type=click.Path(file_okay=False), help="Where the files go.")
@click.option("-p", "--product", "products", multiple=True,
              help="Product types to fetch (repeat): uncal, rate, cal, i2d, asn... [default: uncal].")
@click.option("-i", "--instrument", "instruments", multiple=True, help="Only these instruments (repeat).")
@click.option("-f", "--filter", "filters", multiple=True, help="Only these filters (repeat).")
@click.option("--obs", "observations", multiple=True, help="Only these observation numbers (repeat).")
@click.option("--mast-url", default=None, envvar="JWCAL_MAST_URL",
              help="MAST address [env JWCAL_MAST_URL; default https://mast.stsci.edu].")
@click.option("--token", default=None, envvar="MAST_API_TOKEN", help="MAST token for exclusive-access data [env MAST_API_TOKEN].")
@click.option("--retries", type=click.IntRange(0), default=3, show_default=True, help="Retries per file.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds before a stalled request fails.")
@click.option("--dry-run", is_flag=True, help="List the files without downloading them.")
def download(program, output_dir, products, instruments, filters, observations, mast_url, token, retries, timeout,
             dry_run):
    """Download a JWST program's products from MAST into OUTPUT_DIR (PROGRAM: 2107, say).

    Interrupted files are resumed (HTTP Range) on the next try or the next run; each file is
    checked (size, server checksums, FITS CHECKSUM/DATASUM) before it is put in place, and
    download_manifest.json records what is complete, so re-running fetches only what is
    missing.  astroquery is used for the query when it is installed (and --mast-url is not
    given); otherwise the MAST API is called directly.

    \b
    Example:
      jwcal download 2107 -o raw/ -i nircam -i miri -p uncal
    """
    from ..survey.download import MAST_URL, MastClient, download_products, query_products

    client = MastClient(mast_url or MAST_URL, timeout=timeout, token=token)
    found = query_products(program, client, instruments=instruments, filters=filters, observations=observations,
                           types=tuple(p.upper() for p in products) or ("UNCAL",),
                           use_astroquery=mast_url is None)
    total = sum(p.size or 0 for p in found)
    click.echo(f"program {program}: {len(found)} file(s), {total / 1e9:.2f} GB", err=True)
    if dry_run:
        for p in found:
            click.echo(f"{p.filename}\t{p.size or '?'}\t{p.subgroup}")
        return

    def progress(rec):
        extra = f" (resumed at {rec['resumed_from']} bytes)" if rec.get("resumed_from") else ""
        click.echo(f"{rec['status']:10} {rec['file']}{extra}{'  ' + rec['message'] if rec['message'] else ''}", err=True)

    results = download_products(found, output_dir, client, retries=retries, progress=progress)
    bad = [r for r in results if r["status"] == "failed"]
    click.echo(f"jwcal download: {len(results) - len(bad)} ok, {len(bad)} failed -> {os.fspath(output_dir)}", err=True)
    if bad:
        raise SystemExit(1)


COMMANDS = (download,)
