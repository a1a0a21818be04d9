"""``jwcal``: the click group, logging set-up, and one-line errors for user mistakes."""

from __future__ import annotations

import logging
import sys

import click

from ..errors import JwcalError

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (so captured or redirected stderr works)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def setup_logging(level: str = "INFO") -> None:
    root = logging.getLogger("jwcal")
    root.setLevel(level.upper())
    if not any(getattr(h, "_jwcal", False) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S"))
        handler._jwcal = True
        root.addHandler(handler)
        root.propagate = False


class JwcalGroup(click.Group):
    """Turns :class:`JwcalError` into ``jwcal: error: <one line>`` and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except JwcalError as exc:
            click.echo(f"jwcal: error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=JwcalGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jwcal", prog_name="jwcal", message="%(prog)s %(version)s")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="How much to log (to stderr).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
def cli(log_level, quiet):
    """jwcal: calibrate JWST exposures, from raw ramps to mosaics and catalogs.

    Instruments, steps and extra commands come from installed plugins: see 'jwcal plugins'.
    """
    setup_logging("WARNING" if quiet else log_level)


def _add_core_commands(group: click.Group) -> None:
    from . import asn_cmd, demo_cmd, info_cmd, plugins_cmd, refs_cmd, run_cmd, sim_cmd

    for module in (run_cmd, info_cmd, plugins_cmd, asn_cmd, refs_cmd, sim_cmd, demo_cmd):
        for command in module.COMMANDS:
            group.add_command(command)
    from . import align_cmd, download_cmd, psf_cmd, release_cmd

    for module in (align_cmd, psf_cmd, release_cmd, download_cmd):   # survey tools (docs/survey.md)
        for command in module.COMMANDS:
            group.add_command(command)


_add_core_commands(cli)
_plugins_added = False


def add_plugin_commands() -> None:
    """Let every loaded plugin add its commands (``jwcal_register_commands``), once."""
    global _plugins_added
    if _plugins_added:
        return
    _plugins_added = True
    from ..plugins import get_plugin_manager

    pm = get_plugin_manager()
    for impl in pm.hook.jwcal_register_commands.get_hookimpls():
        info = pm.infos.get(impl.plugin_name)
        try:
            impl.function(cli)
        except Exception as exc:  # a broken plugin must not break the CLI
            if info is not None:
                from ..plugins import _warn_broken

                info.error = f"jwcal_register_commands raised {type(exc).__name__}: {exc}"
                _warn_broken(info)


def main(argv=None) -> int:
    import warnings

    warnings.filterwarnings("ignore", category=RuntimeWarning, message="jwcal plugin")  # logged instead
    setup_logging()
    try:
        add_plugin_commands()
    except JwcalError as exc:
        click.echo(f"jwcal: error: {exc}", err=True)
        return exc.exit_code
    try:
        rv = cli.main(args=argv, prog_name="jwcal", standalone_mode=False)
        if isinstance(rv, int):
            return rv
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except JwcalError as exc:
        click.echo(f"jwcal: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("jwcal: interrupted", err=True)
        return 130
    return 0


def entry() -> None:  # console_scripts
    sys.exit(main())
