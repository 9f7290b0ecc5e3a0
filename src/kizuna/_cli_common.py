"""What the command modules share: the stderr console, the node directory argument and the
check of a new organization's, user's, peer's or community's name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console

from kizuna.node import name_problem

#: Messages go to stderr, so stdout carries only what scripts capture (tokens, ids, bundles).
err = Console(stderr=True, soft_wrap=True)
node_dir = click.argument("directory", type=click.Path(file_okay=False, path_type=Path))


def new_name(kind: str) -> Callable[[click.Context, click.Parameter, str], str]:
    """A click callback refusing (exit status 2, before the node is opened) a name that
    :func:`kizuna.node.name_problem` refuses for a new *kind* (``user``, ``organization``,
    ``peer``, ``community``)."""

    def check(ctx: click.Context, param: click.Parameter, value: str) -> str:
        problem = name_problem(kind, value)
        if problem is not None:
            raise click.BadParameter(problem)
        return value

    return check


def new_names(
    kind: str,
) -> Callable[[click.Context, click.Parameter, tuple[str, ...]], tuple[str, ...]]:
    """:func:`new_name` for an option given several times: each value is checked."""

    def check(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            problem = name_problem(kind, value)
            if problem is not None:
                raise click.BadParameter(problem)
        return values

    return check
