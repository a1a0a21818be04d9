"""``jwcal plugins``, ``jwcal steps``, ``jwcal plugin new``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins(as_json):
    """List loaded plugins: version, instruments, EXP_TYPEs, steps (and broken ones)."""
    from ..plugins import get_plugin_manager

    pm = get_plugin_manager()
    pm.registry  # stamps the infos with what each plugin registered
    infos = sorted(pm.infos.values(), key=lambda i: (not i.builtin, i.name))
    if as_json:
        click.echo(json.dumps([{**asdict(i), "broken": i.broken} for i in infos], indent=2))
        return
    for i in infos:
        state = "BROKEN" if i.broken else ("built-in" if i.builtin else "plugin")
        click.echo(f"{i.name}  [{state}]  {i.label}")
        if i.error:
            click.echo(f"    error: {i.error}")
        if i.instruments:
            click.echo(f"    instruments: {', '.join(i.instruments)}")
        if i.exp_types:
            click.echo(f"    EXP_TYPEs:   {', '.join(i.exp_types)}")
        if i.pipelines:
            click.echo(f"    pipelines:   {', '.join(i.pipelines)}")
        if i.steps:
            click.echo(f"    steps:       {', '.join(i.steps)}")


@click.command()
@click.argument("names", nargs=-1)
def steps(names):
    """List steps with their parameters and reference types (or only NAMES)."""
    from ..plugins import get_plugin_manager

    reg = get_plugin_manager().registry
    chosen = names or sorted(n for n in reg.steps if "::" not in n)
    for name in chosen:
        cls = reg.step(name)
        click.echo(f"{name}  ({reg.step_owner.get(name, '?')})  {cls.description}")
        if cls.reference_file_types:
            click.echo(f"    references: {', '.join(cls.reference_file_types)}")
        for p in cls.spec:
            choices = f" {{{', '.join(map(str, p.choices))}}}" if p.choices else ""
            click.echo(f"    --steps.{name}.{p.name}={p.default!r}  [{p.type.__name__}{choices}] {p.help}")


@click.group()
def plugin():
    """Write and check jwcal plugins."""


@plugin.command("new")
@click.argument("name")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default=".", show_default=True)
def plugin_new(name, output_dir):
    """Create a plugin project NAME (a step, a pipeline, a test) ready to pip install."""
    from ..plugin_template import write_template

    root = write_template(name, Path(output_dir))
    click.echo(f"created {root}; next: pip install -e {root} && pytest {root}")


COMMANDS = (plugins, steps, plugin)
