"""A ``destripe`` click command made from a destriping step (used by instrument plugins).

``jwcal nircam destripe IMAGE... -o OUT [--method median|pca] [--nsigma 3] ...``: each input
is destriped and written to ``OUT`` under its own file name (so a folder of destriped
``_cal`` files can go straight on to stage 3), or with ``--suffix S`` as ``<base>_S.fits``.
One option per step parameter is generated from the step's ``spec``.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["destripe_command"]


def _option(p):
    name = "--" + p.name.replace("_", "-")
    if p.type is bool:
        return click.option(f"{name}/--no-{p.name.replace('_', '-')}", p.name, default=p.default, show_default=True,
                            help=p.help)
    kind = click.Choice(p.choices) if p.choices else p.type
    return click.option(name, p.name, type=kind, default=p.default, show_default=True, help=p.help)


def destripe_command(step_cls, name: str = "destripe"):
    """A click command running ``step_cls`` on image files."""

    def run(images, output_dir, suffix, **params):
        from ..datamodel import open_model, write
        from ..errors import JwcalError
        from ..runner.context import RunContext
        from ..runner.naming import output_path
        from ..plugins import get_plugin_manager

        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        pm = get_plugin_manager()
        failed = 0
        for path in map(Path, images):
            try:
                target = output_path(path, suffix, out) if suffix else out / path.name
                ctx = RunContext(pm=pm, input_path=path, output_dir=out, protect=(path,))
                step = step_cls(**params)
                with open_model(path) as model:
                    model.load_all()
                    result = step.run(model, ctx).model
                    write(result, target, protect=(path,))
                status = result.meta.get(f"cal_step.{step.status_key}")
                click.echo(f"{path} -> {target} ({status})", err=True)
            except JwcalError as exc:
                failed += 1
                click.echo(f"jwcal: error: {path}: {exc}", err=True)
        if failed:
            raise SystemExit(1)

    run.__doc__ = (f"{step_cls.description or 'Destripe'} ({step_cls.name} step) on IMAGE files "
                   "(rate, rateints, cal, calints); writes them to OUTPUT_DIR under the same name.")
    cmd = run
    for p in reversed([p for p in step_cls.spec]):
        cmd = _option(p)(cmd)
    cmd = click.option("--suffix", default=None, help="Write <base>_<suffix>.fits instead of the input's name.")(cmd)
    cmd = click.option("-o", "--output-dir", required=True, type=click.Path(file_okay=False),
                       help="Folder for the destriped files.")(cmd)
    cmd = click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))(cmd)
    return click.command(name)(cmd)
