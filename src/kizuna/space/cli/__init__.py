"""The ``kizuna space`` commands, and what joins the space domain to a node: reading the space
objects a user may see through the gate, storing conjunctions as that user.

The group is here; each command lives in its own module and is added here.

The commands are imported when used: the numeric stack they need (numpy, scipy, sgp4) would
otherwise add most of a second to every ``kizuna`` command, space or not.
"""

from __future__ import annotations

import importlib

import click

__all__ = ["COMMANDS", "space"]

#: command name -> "module:attribute"
COMMANDS = {
    "import": "kizuna.space.cli.importer:import_command",
    "pc": "kizuna.space.cli.pc:pc",
    "screen": "kizuna.space.cli.screen:screen_command",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup)
def space() -> None:
    """Space catalogs, conjunction screening, collision probability and CDMs."""
