"""A fresh copy of the repository as a new user's clone would have it: the
tracked and new (not ignored) files of this working tree, with this tree's
.venv linked in so nothing is installed again."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def repository_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def fresh_copy(destination: Path) -> Path:
    for name in repository_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    (destination / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    return destination
