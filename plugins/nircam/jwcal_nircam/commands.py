"""``jwcal nircam ...`` commands (added while the NIRCam plugin is installed)."""

from __future__ import annotations

import click


def register_commands(cli) -> None:
    """Add the ``nircam`` group (``jwcal nircam destripe``) to the ``jwcal`` command line."""
    from jwcore.destripe.command import destripe_command

    from .destripe_step import NircamDestripeStep

    group = cli.commands.get("nircam")
    if group is None:
        group = click.Group("nircam", help="NIRCam tools (destriping).")
        cli.add_command(group)
    group.add_command(destripe_command(NircamDestripeStep))
