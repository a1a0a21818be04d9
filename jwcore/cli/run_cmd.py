"""``jwcal run`` and ``jwcal step``."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..errors import BadInputError, JwcalError, ParameterError
from ..runner.config import load_param_file, merge, parse_cli_overrides

log = logging.getLogger("jwcal.run")

_EXTRA = {"ignore_unknown_options": True, "allow_extra_args": True}


def split_args(args) -> tuple[list[str], list[str]]:
    """Separate input paths from ``--name=value`` / ``--name value`` parameter overrides."""
    inputs, params = [], []
    args = list(args)
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            params.append(a)
            if "=" not in a:
                if i + 1 >= len(args):
                    raise ParameterError(f"parameter {a} needs a value")
                params.append(args[i + 1])
                i += 1
        else:
            inputs.append(a)
        i += 1
    return inputs, params


def _store(refs):
    from ..refs.store import LocalStore, default_store_path

    return LocalStore(Path(refs) if refs else default_store_path())


@click.command(context_settings=_EXTRA)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--pipeline", "pipeline", default=None, help="Pipeline name (detector1, image2, image3...); default: from each input's EXP_TYPE.")
@click.option("--stage", type=click.IntRange(1, 3), default=None, help="Stage to run (1, 2 or 3); default: from each input's product type.")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default=None, help="Folder for products (default: beside each input).")
@click.option("-c", "--config", "param_file", type=click.Path(dir_okay=False), default=None, help="Parameter file (TOML or stpipe .asdf).")
@click.option("--refs", type=click.Path(file_okay=False), default=None, envvar="JWCAL_REFS", help="Local reference store [env JWCAL_REFS].")
def run(args, pipeline, stage, output_dir, param_file, refs):
    """Run pipelines on INPUT files, folders or association files.

    \b
    Examples:
      jwcal run jw01_nrca1_uncal.fits -o out
      jwcal run out/*_rate.fits --stage 2 --steps.flat_field.skip=true
      jwcal run mosaic_asn.json --pipeline image3 -c params.toml
    """
    from ..execute.plan import plan
    from ..execute.serial import run_unit
    from ..plugins import get_plugin_manager

    inputs, param_args = split_args(args)
    if not inputs:
        raise BadInputError("no input given (jwcal run INPUT... ; see jwcal run --help)")
    config = merge(load_param_file(param_file) if param_file else {}, parse_cli_overrides(param_args))
    pm = get_plugin_manager()
    units, failures = plan(inputs, pm.registry, pipeline, stage)
    for f in failures:
        log.error("%s", f.message)
    store = _store(refs)
    outcomes = []
    for n, unit in enumerate(units, 1):
        log.info("[%d/%d] %s: %s", n, len(units), unit.name, unit.pipeline)
        outcomes.append(run_unit(unit, pm, config, output_dir=output_dir, store=store))
    _summary(outcomes, failures)
    if failures or any(o.status != "ok" for o in outcomes):
        raise SystemExit(1)


def _summary(outcomes, failures) -> None:
    ok = sum(o.status == "ok" for o in outcomes)
    bad = len(outcomes) - ok + len(failures)
    click.echo(f"{'input':48} {'pipeline':12} {'status':7} {'time':>8}  products / reason", err=True)
    for o in outcomes:
        what = ", ".join(p.name for p in o.outputs) if o.status == "ok" else o.message
        click.echo(f"{o.unit.name[:48]:48} {o.unit.pipeline:12} {o.status:7} {o.seconds:7.1f}s  {what}", err=True)
    for f in failures:
        click.echo(f"{Path(f.input).name[:48]:48} {'-':12} {'failed':7} {'':>8}  {f.message}", err=True)
    click.echo(f"jwcal run: {ok} succeeded, {bad} failed", err=True)


@click.command(context_settings=_EXTRA)
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default=None, help="Folder for the output.")
@click.option("-c", "--config", "param_file", type=click.Path(dir_okay=False), default=None, help="Parameter file (TOML or stpipe .asdf).")
@click.option("--refs", type=click.Path(file_okay=False), default=None, envvar="JWCAL_REFS", help="Local reference store [env JWCAL_REFS].")
def step(name, args, output_dir, param_file, refs):
    """Run the single step NAME on INPUT files (saved with the step's suffix).

    \b
    Example:
      jwcal step jump jw01_nrca1_linearity.fits --rejection_threshold=5 -o out
    """
    from ..datamodel import open_model
    from ..runner.context import RunContext
    from ..plugins import get_plugin_manager

    inputs, param_args = split_args(args)
    if not inputs:
        raise BadInputError(f"no input given (jwcal step {name} INPUT...)")
    pm = get_plugin_manager()
    cls = pm.registry.step(name)
    file_cfg = load_param_file(param_file) if param_file else {}
    params = merge(file_cfg.get("steps", {}).get(name, {}), parse_cli_overrides(param_args))
    params.setdefault("save_results", "true")
    failed = 0
    for path in inputs:
        try:
            s = cls(**params)
            ctx = RunContext(pm=pm, input_path=Path(path), output_dir=output_dir, store=_store(refs),
                             protect=(Path(path),))
            with open_model(path) as model:
                s.run(model, ctx)
            click.echo(f"{path}: {', '.join(str(p) for p in ctx.written) or 'done (not saved)'}", err=True)
        except JwcalError as exc:   # one bad input does not stop the others
            failed += 1
            click.echo(f"jwcal: error: {exc}", err=True)
    if failed:
        raise SystemExit(1)


COMMANDS = (run, step)
