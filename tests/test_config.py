"""kizuna.toml: read into typed settings (a wrong type is refused with the setting's name),
written as valid TOML whatever the values."""

from __future__ import annotations

import tomllib
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna import config
from kizuna.config import NodeConfig
from kizuna.errors import ConfigError

BASE = {"name": "n", "org": "o", "country": "JPN"}


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / config.CONFIG_NAME).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('max_page_size = "10"', "max_page_size must be an integer, not a string ('10')"),
        ("max_page_size = true", "max_page_size must be an integer, not a boolean (True)"),
        ("max_page_size = 1.5", "max_page_size must be an integer, not a number (1.5)"),
        ("value_index = 1", "value_index must be true or false, not an integer (1)"),
        ("tls_cert = 443", "tls_cert must be a string, not an integer (443)"),
        ('communities = "NATO"', "communities must be a list of strings, not a string ('NATO')"),
        (
            'communities = ["NATO", 7]',
            "communities must be a list of strings; item 2 is an integer (7)",
        ),
        ("database = { url = 'x' }", "database must be a string, not a table ({'url': 'x'})"),
    ],
)
def test_a_wrong_type_is_refused_naming_the_setting(tmp_path: Path, line: str, says: str) -> None:
    directory = _write(tmp_path, 'name = "n"\norg = "o"\ncountry = "JPN"\n' + line + "\n")
    with pytest.raises(ConfigError) as exc:
        config.load(directory)
    assert exc.value.message == f"{directory / config.CONFIG_NAME}: {says}"


def test_a_missing_or_unknown_setting_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing setting\(s\) country$"):
        config.from_dict({"name": "n", "org": "o"})
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) colour; known: "):
        config.from_dict({**BASE, "colour": "blue"})
    with pytest.raises(ConfigError, match="is not valid TOML"):
        config.load(_write(tmp_path, "name = \n"))


def test_every_setting_has_a_type_the_reader_checks() -> None:
    """A setting of another type (a dict, an optional) would be read unchecked: refuse it here."""
    plain = {str, int, bool, float}
    for f in fields(NodeConfig):
        tp = get_type_hints(NodeConfig)[f.name]
        if get_origin(tp) is list:
            assert get_args(tp)[0] in plain, f.name
        else:
            assert tp in plain, f"{f.name}: {tp}"


def _sample_value(tp: Any) -> Any:
    if get_origin(tp) is list:
        return ["A", "B"]
    return {str: "text", int: 7, bool: False, float: 0.5}[tp]


def test_each_setting_reads_back_what_was_written(tmp_path: Path) -> None:
    hints = get_type_hints(NodeConfig)
    values = {f.name: _sample_value(hints[f.name]) for f in fields(NodeConfig)}
    cfg = NodeConfig(**values)
    config.save(tmp_path, cfg)
    assert config.load(tmp_path) == cfg


text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@settings(max_examples=200, deadline=None)
@given(name=text, database=text, communities=st.lists(text, max_size=4))
def test_any_text_is_written_as_toml_that_reads_back_the_same(
    tmp_path_factory: pytest.TempPathFactory, name: str, database: str, communities: list[str]
) -> None:
    directory = tmp_path_factory.mktemp("cfg")
    cfg = replace(NodeConfig(**BASE), name=name, database=database, communities=communities)
    config.save(directory, cfg)
    assert config.load(directory) == cfg


@pytest.mark.parametrize(
    "value", ["\x00", "\x1f", "\x7f", "a\r\nb", '\\"', "\u2028", "ÿ", "\U0001f600", "\t\b\f"]
)
def test_control_characters_and_escapes_stay_valid_toml(value: str) -> None:
    assert tomllib.loads(f"k = {config.toml_value(value)}") == {"k": value}


@pytest.mark.parametrize("value", [0.0, -1.5, 1e300, float("inf"), float("-inf")])
def test_floats_are_written_as_toml_reads_them(value: float) -> None:
    assert tomllib.loads(f"k = {config.toml_value(value)}") == {"k": value}


def test_text_toml_cannot_hold_is_refused_naming_the_setting(tmp_path: Path) -> None:
    cfg = replace(NodeConfig(**BASE), tls_key="\udc80")
    with pytest.raises(ConfigError, match=r"^tls_key cannot be written to kizuna.toml: "):
        config.save(tmp_path, cfg)
    assert not (tmp_path / config.CONFIG_NAME).exists()
