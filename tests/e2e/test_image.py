"""The Docker image, checked without Docker's engine: the Dockerfile's stages,
user, data paths and health check (run for real against a server), the build
context's exclusions, and the lock file it installs from agreeing with
pyproject.toml."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from service.settings import Settings
from support.live_server import LiveServer, free_port
from support.stores import settings_for

ROOT = Path(__file__).parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.MULTILINE)


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arguments for word, arguments in self.instructions if word == keyword]


def dockerfile_stages() -> list[Stage]:
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    stages: list[Stage] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        word, _, arguments = line.strip().partition(" ")
        if word.upper() == "FROM":
            base, _, name = arguments.partition(" AS ")
            stages.append(Stage(base.strip(), name.strip() or None))
        else:
            stages[-1].instructions.append((word.upper(), arguments.strip()))
    return stages


def image_env() -> dict[str, str]:
    final = dockerfile_stages()[-1]
    pairs = " ".join(final.all("ENV"))
    return dict(re.findall(r"(\w+)=(\S+)", pairs))


def test_the_image_is_built_in_one_stage_and_run_from_another() -> None:
    build, final = dockerfile_stages()[0], dockerfile_stages()[-1]
    assert len(dockerfile_stages()) >= 2
    assert build.name == "build"
    installs = " ".join(build.all("RUN"))
    assert "--require-hashes" in installs and "-r requirements.lock" in installs
    assert "--no-build-isolation" in installs, "the build backend comes from the lock, not fetched unpinned"
    assert any(c.startswith("--from=build ") for c in final.all("COPY"))
    assert not any("pip install" in run for run in final.all("RUN")), "nothing is installed in the runtime stage"
    assert build.base == final.base


def test_the_image_runs_as_an_unprivileged_user_with_data_under_data() -> None:
    final = dockerfile_stages()[-1]
    users = final.all("USER")
    assert users and users[-1] not in {"root", "0"}
    assert any("useradd" in run and users[-1] in run for run in final.all("RUN"))
    env = image_env()
    settings = Settings(**{k.removeprefix("DISPUTES_").lower(): v for k, v in env.items() if k.startswith("DISPUTES_")})
    assert settings.backend == "sqlite"
    for path in (settings.sqlite_path, settings.blob_dir, settings.var_dir):
        assert Path(path).is_relative_to("/data"), path
    assert final.all("CMD") == ['["disputes", "serve"]']
    assert env["DISPUTES_HOST"] == "0.0.0.0"


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", "var", ".env", ".git"} <= ignored
    assert not {"src", "pyproject.toml", "README.md", "requirements.lock"} & ignored


def healthcheck_command() -> list[str]:
    (check,) = dockerfile_stages()[-1].all("HEALTHCHECK")
    exec_form = check[check.index("CMD ") + 4 :]
    command: list[str] = json.loads(exec_form)
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


def test_the_health_check_passes_on_a_ready_server_and_fails_without_one(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    assert "/readyz" in " ".join(healthcheck_command())
    env = {**os.environ, "DISPUTES_PORT": str(free_port())}
    assert subprocess.run(healthcheck_command(), check=False, env=env, capture_output=True, timeout=30).returncode != 0
    live = LiveServer(settings_for("sqlite", tmp_path, request), tmp_path)
    live.start(in_process_workers="true")
    try:
        env["DISPUTES_PORT"] = str(live.port)
        done = subprocess.run(healthcheck_command(), check=False, env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
    finally:
        live.stop()


def locked() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def required_with_extras(requirement: Requirement) -> list[Requirement]:
    """The requirement and what its extras add (read from the installed distribution)."""
    found = [requirement]
    for line in metadata.requires(requirement.name) or []:
        extra = Requirement(line)
        marker = extra.marker
        if marker is None or marker.evaluate({"extra": ""}):
            continue  # not added by an extra
        if any(marker.evaluate({"extra": e}) for e in requirement.extras):
            found.append(extra)
    return found


def test_the_lock_pins_every_runtime_dependency_within_pyproject_bounds_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = locked()
    wanted = [Requirement(line) for line in project["project"]["dependencies"]]
    wanted += [Requirement(line) for line in project["build-system"]["requires"]]
    for requirement in wanted:
        for each in required_with_extras(requirement):
            name = canonicalize_name(each.name)
            assert name in pins, f"{each} is not in requirements.lock: run scripts/lock"
            assert each.specifier.contains(pins[name], prereleases=True), (
                f"requirements.lock pins {name}=={pins[name]}, outside {each}: run scripts/lock"
            )
    text = (ROOT / "requirements.lock").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[-1].strip())
    assert all("--hash=sha256:" in block for block in blocks if PIN.match(block))


def test_the_lock_is_made_for_the_images_python() -> None:
    header = (ROOT / "requirements.lock").read_text().splitlines()[1]
    python = re.search(r"Python (\d+\.\d+)", header)
    assert python is not None
    assert all(stage.base.startswith(f"python:{python.group(1)}-") for stage in dockerfile_stages())
