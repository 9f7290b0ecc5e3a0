"""What the command modules share: the stderr console and the node directory argument."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

#: Messages go to stderr, so stdout carries only what scripts capture (tokens, ids, bundles).
err = Console(stderr=True, soft_wrap=True)
node_dir = click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
