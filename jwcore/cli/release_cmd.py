"""``jwcal release``: flatten products into a clean folder with a manifest."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("release")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--output-dir", required=True, type=click.Path(file_okay=False), help="The release folder.")
@click.option("-s", "--suffix", "suffixes", multiple=True,
              help="Product suffixes to release (repeat; default: i2d, segm, cat).")
@click.option("--name", default=None, help="Release name recorded in the manifest (default: the folder's name).")
@click.option("--target", default=None, help="Target name for file names (default: each product's TARGPROP).")
@click.option("--link", is_flag=True, help="Hard-link instead of copying (same file system only).")
@click.option("--overwrite", is_flag=True, help="Release into a folder that is not empty.")
@click.option("-c", "--config", "survey_file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="A survey file: its [survey] output folder is the source and its name the release name.")
def release(sources, output_dir, suffixes, name, target, link, overwrite, survey_file):
    """Copy the products under SOURCES into one flat folder with manifest.json.

    Stage-3 products are named <target>_<instrument>_<filter>_<suffix> (e.g.
    ngc0628_nircam_f200w_i2d.fits), per-exposure products keep their name behind the target;
    the manifest lists each file's SHA-256, size, source and metadata, and the run records
    are copied to provenance/.

    \b
    Examples:
      jwcal release products/ -o release_v1
      jwcal release products/ -o release_v1 -s i2d -s cal --link
    """
    from ..survey.release import DEFAULT_SUFFIXES, release as do_release

    srcs = list(sources)
    if survey_file:
        from ..runner.config import load_param_file
        from ..survey.config import parse_survey

        survey = parse_survey(load_param_file(survey_file), survey_file)
        if survey is not None:
            name = name or survey.name
    manifest = do_release(srcs, output_dir, suffixes=tuple(suffixes) or DEFAULT_SUFFIXES,
                          name=name or Path(output_dir).name, link=link, target=target, overwrite=overwrite)
    import json

    doc = json.loads(manifest.read_text())
    for f in doc["files"]:
        click.echo(f"{f['file']}  <- {f['source']}")
    click.echo(f"released {len(doc['files'])} file(s) into {output_dir} ({manifest.name})", err=True)


COMMANDS = (release,)
