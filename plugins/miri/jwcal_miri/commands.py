"""``jwcal miri ...`` commands (added while the MIRI plugin is installed)."""

from __future__ import annotations

import click


def register_commands(cli) -> None:
    """Add the ``miri`` group (``jwcal miri destripe``) to the ``jwcal`` command line."""
    from jwcore.destripe.command import destripe_command

    from .destripe_step import MiriDestripeStep

    group = cli.commands.get("miri")
    if group is None:
        group = click.Group("miri", help="MIRI tools (destriping).")
        cli.add_command(group)
    group.add_command(destripe_command(MiriDestripeStep))
