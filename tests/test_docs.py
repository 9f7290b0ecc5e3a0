"""Docs that cannot drift: every setting documented with its default, the CLI reference current."""

from __future__ import annotations

import dataclasses
import runpy
from pathlib import Path
from typing import Any

import pytest

from kizuna.config import NodeConfig

ROOT = Path(__file__).resolve().parents[1]
OPERATORS = ROOT / "docs" / "operators.md"
CLI_DOCS = ROOT / "docs" / "cli.md"
GENERATOR = ROOT / "scripts" / "gen-cli-docs"


def settings_table() -> dict[str, str]:
    """The settings table of docs/operators.md: setting name -> default cell."""
    text = OPERATORS.read_text(encoding="utf-8")
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1]
    return rows


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


@pytest.mark.parametrize("setting", dataclasses.fields(NodeConfig), ids=lambda f: f.name)
def test_every_setting_is_documented_with_its_default(setting: dataclasses.Field[Any]) -> None:
    rows = settings_table()
    assert setting.name in rows, f"docs/operators.md does not document the setting {setting.name}"
    if setting.default is not dataclasses.MISSING:
        default: Any = setting.default
    elif setting.default_factory is not dataclasses.MISSING:
        default = setting.default_factory()
    else:
        assert rows[setting.name] == "required", setting.name
        return
    assert rows[setting.name] == f"`{_toml(default)}`", (
        f"docs/operators.md gives {setting.name} the default {rows[setting.name]}; "
        f"the code says {_toml(default)}"
    )


def test_no_documented_setting_is_unknown() -> None:
    assert set(settings_table()) == set(NodeConfig.setting_names())


def test_cli_reference_is_current() -> None:
    """docs/cli.md is exactly what scripts/gen-cli-docs writes for today's command tree."""
    generator = runpy.run_path(str(GENERATOR), run_name="gen_cli_docs")
    expected = generator["render"]()
    assert CLI_DOCS.read_text(encoding="utf-8") == expected, (
        "docs/cli.md is stale: run .venv/bin/python scripts/gen-cli-docs and commit docs/cli.md"
    )


def test_cli_reference_covers_every_command() -> None:
    from kizuna.cli import main

    generator = runpy.run_path(str(GENERATOR), run_name="gen_cli_docs")
    paths = [ctx.command_path for ctx, _ in generator["commands"](main)]
    text = CLI_DOCS.read_text(encoding="utf-8")
    assert "kizuna init" in paths and "kizuna collection add" in paths
    for path in paths:
        assert f"\n## {path}\n" in text, path
