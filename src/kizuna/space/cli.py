"""The ``kizuna space`` command group. Each command lives in its own module and is added here."""

from __future__ import annotations

import click

from kizuna.space.pc_cli import pc
from kizuna.space.screen_cli import import_command, screen_command


@click.group()
def space() -> None:
    """Space catalogs, conjunction screening, collision probability and CDMs."""


space.add_command(pc)
space.add_command(screen_command)
space.add_command(import_command)
