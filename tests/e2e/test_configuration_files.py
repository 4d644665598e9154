""".env.example, the docs/configuration.md table and Settings name the same
variables, with the same defaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_LINE = re.compile(r"^#\s?(DISPUTES_[A-Z0-9_]+)=(.*)$", re.MULTILINE)
TABLE_ROW = re.compile(r"^\|\s*`(DISPUTES_[A-Z0-9_]+)`\s*\|(.*?)\|(.*)\|\s*$", re.MULTILINE)


def example_values() -> dict[str, str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    found = EXAMPLE_LINE.findall(text)
    names = [name for name, _ in found]
    assert len(names) == len(set(names)), "a variable appears twice in .env.example"
    return dict(found)


def table() -> dict[str, tuple[str, str]]:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    return {name: (default.strip(), meaning.strip()) for name, default, meaning in TABLE_ROW.findall(text)}


def env_names() -> set[str]:
    return {f"DISPUTES_{name.upper()}" for name in Settings.model_fields}


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    assert set(example_values()) == env_names()


def test_env_example_and_the_docs_list_the_same_variables() -> None:
    assert set(example_values()) == set(table())


def test_each_variable_has_a_meaning_above_it_in_env_example() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if EXAMPLE_LINE.match(line):
            assert number > 0 and lines[number - 1].startswith("# ") and len(lines[number - 1]) > 3, line


def comparable(value: Any) -> Any:
    return None if value in ("", None) else value


@pytest.mark.parametrize("name", sorted(env_names()))
def test_env_example_gives_the_settings_default(name: str) -> None:
    field = name.removeprefix("DISPUTES_").lower()
    value = example_values()[name]
    default = Settings.model_fields[field].default
    if value == "":
        assert comparable(default) is None, f"{name}: .env.example leaves empty what defaults to {default!r}"
        return
    parsed = getattr(Settings(**{field: value}), field)  # type: ignore[arg-type]
    assert parsed == default, f"{name}={value} in .env.example, but the default is {default!r}"
    documented_default = table()[name][0]
    assert f"`{value}`" in documented_default, (
        f"docs/configuration.md gives {documented_default!r} as the default of {name}, .env.example {value!r}"
    )
