"""``jwcal align``: absolute astrometric alignment of cal/i2d files from a table."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("align")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-t", "--table", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Alignment table (FITS, ECSV or CSV): file/visit/observation and dra, ddec [arcsec], rotation [deg].")
@click.option("-o", "--output-dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the aligned files (written under their own names).")
@click.option("--suffix", default=None, help="Write <base>_<suffix>.fits instead of the input's name.")
@click.option("--missing", type=click.Choice(["error", "skip"]), default="error", show_default=True,
              help="A file no row matches: fail, or leave it out.")
def align(images, table, output_dir, suffix, missing):
    """Apply tabulated absolute astrometric corrections to the WCS of IMAGES (cal or i2d).

    Each file's correction is the table row naming its file, else its visit (jwPPPPPOOOVVV),
    else its observation (jwPPPPP-oOOO), else a '*' row.  Shifts are tangent-plane offsets
    east and north in arcsec; rotations are degrees from north towards east about the row's
    ra0/dec0 (default: the image's reference pixel).  The gwcs is corrected and the FITS WCS
    keywords and S_REGION refitted to it.

    \b
    Example:
      jwcal align out/*_cal.fits --table shifts.ecsv -o aligned/
    """
    from ..astrometry import apply_correction, keys_for, read_alignment_table
    from ..datamodel import open_model, write
    from ..errors import JwcalError
    from ..runner.naming import output_path

    tab = read_alignment_table(table)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in map(Path, images):
        try:
            with open_model(path) as model:
                model.load_all()
                keys = keys_for(model.meta, path.name)
                found = tab.lookup(keys)
                if found is None:
                    msg = f"{path.name}: no row of {table} matches ({', '.join(f'{k}={v}' for k, v in keys.items())})"
                    if missing == "skip":
                        click.echo(f"skipped {msg}", err=True)
                        continue
                    raise JwcalError(msg)
                what, value, corr = found
                apply_correction(model, corr)
                target = output_path(path, suffix, out) if suffix else out / path.name
                write(model, target, protect=(path,))
            click.echo(f"{path} -> {target} ({what} {value}: dra={corr.dra:g}\" ddec={corr.ddec:g}\" "
                       f"rotation={corr.rotation:g} deg)", err=True)
        except JwcalError as exc:
            failed += 1
            click.echo(f"jwcal: error: {exc}", err=True)
    if failed:
        raise SystemExit(1)


COMMANDS = (align,)
