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
@click.option("--stage", type=click.IntRange(1, 3), default=None, help="Run only this stage (1, 2 or 3).")
@click.option("--to-stage", type=click.IntRange(1, 3), default=3, show_default=True, help="Go on through the later stages up to this one.")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default=".", show_default=True, help="Folder for products.")
@click.option("-c", "--config", "param_file", type=click.Path(dir_okay=False), default=None, help="Parameter file (TOML or stpipe .asdf).")
@click.option("--refs", type=click.Path(file_okay=False), default=None, envvar="JWCAL_REFS", help="Local reference store [env JWCAL_REFS].")
@click.option("-j", "--jobs", type=click.IntRange(1), default=None, help="Parallel workers (default: the machine's cores).")
@click.option("--executor", type=click.Choice(["processes", "serial", "dask"]), default="processes", show_default=True,
              help="Where units run: local processes, this process, or Dask.")
@click.option("--scheduler", default=None, help="Dask scheduler address (with --executor dask); default: a LocalCluster.")
@click.option("--force", is_flag=True, help="Recompute products that are up to date.")
@click.option("--manifest", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Re-run a recorded run (its inputs, options, parameters and references).")
def run(args, pipeline, stage, to_stage, output_dir, param_file, refs, jobs, executor, scheduler, force, manifest):
    """Calibrate INPUT files, folders or association files.

    Each raw exposure goes through stage 1, then stage 2, then (grouped into level-3
    associations by program, observation, instrument and filter) stage 3, as far as
    --to-stage and the plugins allow.  Products that are up to date are not recomputed.

    A parameter file with a [survey] table (targets, instruments, filters, local paths and
    per-instrument parameters; see docs/survey.md) needs no INPUT: the exposures it selects
    are run as one run per target and instrument into <output>/<target>/<instrument>/.
    A [steps.X] table with insert_after/insert_before inserts the registered step X.

    \b
    Examples:
      jwcal run raw/ -o out                       # the whole program, stages 1-3
      jwcal run jw01_nrca1_uncal.fits --stage 1 --steps.jump.rejection_threshold=5
      jwcal run out/*_rate.fits --stage 2 --steps.flat_field.skip=true
      jwcal run mosaic_asn.json -c params.toml -j 2 --executor dask
      jwcal run --config survey.toml              # a whole survey
    """
    from ..execute.record import pinned_references, read_manifest
    from ..plugins import get_plugin_manager

    inputs, param_args = split_args(args)
    pinned = {}
    if manifest:
        doc = read_manifest(manifest)
        inputs = inputs or doc["inputs"]
        o = doc["options"]
        pipeline, stage, to_stage = pipeline or o.get("pipeline"), stage or o.get("stage"), o.get("to_stage", to_stage)
        config = merge(doc.get("config", {}), parse_cli_overrides(param_args))
        pinned = pinned_references(doc)
    else:
        file_cfg = load_param_file(param_file) if param_file else {}
        from ..survey.config import parse_survey

        survey = parse_survey(file_cfg, param_file)
        if survey is not None:
            _run_survey(survey, inputs, param_args, pipeline=pipeline, stage=stage, to_stage=to_stage,
                        output_dir=output_dir, refs=refs, jobs=jobs, executor=executor, scheduler=scheduler,
                        force=force)
            return
        config = merge(file_cfg, parse_cli_overrides(param_args))
    if not inputs:
        raise BadInputError("no input given (jwcal run INPUT... ; see jwcal run --help)")
    pm = get_plugin_manager()
    results, failures, record = _execute(pm, inputs, Path(output_dir), config, pipeline=pipeline, stage=stage,
                                         to_stage=to_stage, refs=refs, jobs=jobs, executor=executor,
                                         scheduler=scheduler, force=force, pinned=pinned)
    _summary(results, failures)
    if record:
        click.echo(f"run record: {record}", err=True)
    if failures or any(o.status not in ("ok", "up-to-date") for _, o in results):
        raise SystemExit(1)


def _execute(pm, inputs, out: Path, config, *, pipeline, stage, to_stage, refs, jobs, executor, scheduler, force,
             pinned=None):
    """Plan and run one graph; returns ``(results, failures, run record path or None)``."""
    import sys

    from ..execute.orchestrate import RunOptions, now, record_run, run_graph
    from ..execute.plan import Planner
    from ..runner.config import validate_for

    planner = Planner(pm.registry, out, pipeline, stage, to_stage).plan(inputs)
    validate_for(config, {(u.pipeline, u.instrument): pm.registry.pipeline(u.pipeline, u.instrument)
                          for u in planner.units}.values(), pm.registry)
    for note in planner.notes:
        log.info("%s", note)
    for f in planner.failures:
        log.error("%s", f.message)
    started = now()
    opts = RunOptions(output_dir=out, config=config, executor=executor, jobs=jobs, scheduler=scheduler,
                      force=force, store=_store(refs), pinned=pinned or {})
    results = run_graph(pm, planner.units, opts) if planner.units else []
    record = None
    if results:
        record = record_run(pm, results, command=["jwcal", *sys.argv[1:]],
                            options={"pipeline": pipeline, "stage": stage, "to_stage": to_stage, "executor": executor,
                                     "jobs": jobs, "output_dir": str(out.resolve()), "refs": str(opts.store.root)},
                            inputs=inputs, config=config, output_dir=out, started=started)
    return results, planner.failures, record


def _given(name: str) -> bool:
    """True when the user set option ``name`` on the command line or through its env var."""
    from click.core import ParameterSource

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    return ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def _run_survey(survey, inputs, param_args, *, pipeline, stage, to_stage, output_dir, refs, jobs, executor,
                scheduler, force) -> None:
    """One run per (target, instrument) of a survey file; command-line options win over [survey]."""
    from ..plugins import get_plugin_manager
    from ..survey.config import select_groups

    pm = get_plugin_manager()
    overrides = parse_cli_overrides(param_args)
    root = Path(output_dir) if _given("output_dir") else survey.output
    refs = refs if _given("refs") else (str(survey.refs) if survey.refs else refs)
    stage = stage if _given("stage") else survey.stage
    to_stage = to_stage if _given("to_stage") else survey.to_stage
    executor = executor if _given("executor") or not survey.executor else survey.executor
    jobs = jobs if _given("jobs") else survey.jobs
    groups = select_groups(survey, inputs or None, root)
    bad = 0
    for g in groups:
        click.echo(f"== {survey.name}: {g.target or 'no target'} / {g.instrument}: {len(g.inputs)} exposure(s) "
                   f"-> {g.output_dir}", err=True)
        config = merge(survey.config_for(g.instrument), overrides)
        results, failures, record = _execute(pm, g.inputs, g.output_dir, config, pipeline=pipeline, stage=stage,
                                             to_stage=to_stage, refs=refs, jobs=jobs, executor=executor,
                                             scheduler=scheduler, force=force)
        _summary(results, failures)
        if record:
            click.echo(f"run record: {record}", err=True)
        bad += len(failures) + sum(o.status not in ("ok", "up-to-date") for _, o in results)
    click.echo(f"jwcal run: survey {survey.name}: {len(groups)} group(s), "
               f"{'all succeeded' if not bad else f'{bad} failure(s)'}", err=True)
    if bad:
        raise SystemExit(1)


def _summary(results, failures) -> None:
    ok = sum(o.status in ("ok", "up-to-date") for _, o in results)
    bad = len(results) - ok + len(failures)
    click.echo(f"{'unit':52} {'pipeline':10} {'status':10} {'time':>7}  products / reason", err=True)
    for u, o in results:
        what = ", ".join(Path(p).name for p in o.outputs) if o.status in ("ok", "up-to-date") else o.message
        click.echo(f"{u.name[:52]:52} {u.pipeline:10} {o.status:10} {o.seconds:6.1f}s  {what}", err=True)
    for f in failures:
        click.echo(f"{Path(f.input).name[:52]:52} {'-':10} {'failed':10} {'':>7}  {f.message}", err=True)
    click.echo(f"jwcal run: {ok} succeeded, {bad} failed or skipped", err=True)


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
    from ..runner.config import step_params

    params = merge(step_params(file_cfg.get("steps", {}).get(name, {})), parse_cli_overrides(param_args))
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


@click.command()
@click.argument("run_file", type=click.Path(dir_okay=False, exists=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="HTML file (default: beside RUN_FILE).")
def report(run_file, output):
    """Render a run record (jwcal_run_*.json) as an HTML page with quick-look images."""
    from ..execute.report import render

    click.echo(str(render(run_file, output)))


COMMANDS = (run, step, report)
