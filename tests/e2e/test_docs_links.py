"""The docs stand on their own: every link in every markdown file of the
repository points at a file inside it (no absolute URLs, nothing outside the
checkout), and docs/configuration.md lists every settings field."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from service.settings import Settings  # the one import of the settings class (it may move)

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = ROOT / "docs" / "configuration.md"
SKIPPED_DIRS = {".venv", "var", ".git", "node_modules"}

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[^\S\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:\s*(<[^>\n]*>|\S+)", re.MULTILINE)
AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>")
HREF = re.compile(r"<a\s[^>]*?\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)
ENV_ROW = re.compile(r"^\|\s*`(DISPUTES_[A-Z0-9_]+)`\s*\|", re.MULTILINE)


def markdown_files() -> list[Path]:
    """Tracked and new (not ignored) *.md files; a walk when git is unavailable."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "*.md"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        paths = [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        paths = list(ROOT.rglob("*.md"))
    return sorted(
        p
        for p in paths
        if p.is_file()
        and not any(part in SKIPPED_DIRS or part.startswith(".") for part in p.relative_to(ROOT).parts[:-1])
    )


def without_code(text: str) -> str:
    """Fenced blocks and code spans hold examples, not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def link_targets(text: str) -> list[str]:
    prose = without_code(text)
    found = [m.group(1) for m in INLINE_LINK.finditer(prose)]
    found += [m.group(1) for m in REFERENCE_DEFINITION.finditer(prose)]
    found += [m.group(1) for m in AUTOLINK.finditer(prose)]
    found += [next(g for g in m.groups() if g is not None) for m in HREF.finditer(text)]
    return [t[1:-1] if t.startswith("<") and t.endswith(">") else t for t in found]


def problem_with(source: Path, target: str) -> str | None:
    """Why `target`, linked from `source`, is not a link inside the repository (None: it is)."""
    if not target.strip():
        return "empty link target"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return "absolute URL (link to a file in the repository instead)"
    if not parts.path:
        return None  # an anchor in the same file
    if parts.path.startswith("/"):
        return "absolute path"
    resolved = (source.parent / unquote(parts.path)).resolve()
    if not resolved.is_relative_to(ROOT):
        return "points outside the repository"
    if not resolved.exists():
        return "no such file in the repository"
    return None


def test_the_link_scanner_finds_links_and_skips_code() -> None:
    sample = (
        'See [the API](docs/api.md#errors), ![a picture](img/p.png "title"),\n'
        '<a href="https://example.com/x">here</a>, <https://example.org>, and\n'
        "[ref]: ../outside.md\n"
        "`[not a link](nowhere.md)`\n"
        "```\n[nor this](nowhere.md)\n```\n"
    )
    assert link_targets(sample) == [
        "docs/api.md#errors",
        "img/p.png",
        "../outside.md",
        "https://example.org",
        "https://example.com/x",
    ]
    here = ROOT / "README.md"
    assert problem_with(here, "docs/api.md#errors") is None
    assert problem_with(here, "#what-it-is") is None
    assert problem_with(here, "https://example.com") is not None
    assert problem_with(here, "http://example.com") is not None
    assert problem_with(here, "../shared/spec/api.md") is not None
    assert problem_with(here, "docs/missing.md") is not None


def test_markdown_files_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in markdown_files()}
    assert {"README.md", "docs/api.md", "docs/domain.md", "docs/configuration.md"} <= names


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_stay_inside_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    bad = [f"{target}: {why}" for target in link_targets(text) if (why := problem_with(path, target)) is not None]
    assert bad == [], f"{path.relative_to(ROOT)} links outside the repository or to missing files"


def settings_env_names() -> set[str]:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else None
        names.add((alias or f"{prefix}{name}").upper())
    return names


def test_configuration_table_lists_every_setting() -> None:
    documented = set(ENV_ROW.findall(CONFIGURATION.read_text(encoding="utf-8")))
    expected = settings_env_names()
    assert sorted(expected - documented) == [], "settings missing from the docs/configuration.md table"
    assert sorted(documented - expected) == [], "docs/configuration.md documents variables Settings does not read"
