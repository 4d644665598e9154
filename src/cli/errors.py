"""Configuration and connection errors as one clear line (exit 2); the
traceback only with `disputes --debug`."""

from __future__ import annotations

from pydantic import ValidationError

from bootstrap import STORE_UNREACHABLE
from service.settings import ConfigurationError

CONFIGURATION: tuple[type[BaseException], ...] = (ValidationError, ConfigurationError)
EXPECTED: tuple[type[BaseException], ...] = (*CONFIGURATION, *STORE_UNREACHABLE)


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def describe(error: BaseException) -> str:
    """What went wrong, for a person, on one line."""
    if isinstance(error, ValidationError):
        problems = []
        for each in error.errors():
            name = "DISPUTES_" + "_".join(str(part) for part in each["loc"]).upper() if each["loc"] else "settings"
            problems.append(f"{name}: {each['msg']}")
        return "configuration error: " + "; ".join(problems)
    if isinstance(error, ConfigurationError):
        return f"configuration error: {one_line(error)}"
    return f"cannot reach the database: {one_line(error)} ({type(error).__name__})"
