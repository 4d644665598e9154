"""Structured logs for every process (API, workers, scheduler, CLI): one JSON
object per line through structlog, or `DISPUTES_LOG_FORMAT=console` for humans.

Every line carries `time`, `level`, `logger` and `process`; the lines of an
HTTP request also carry its `request_id`, `route`, `actor` and `dispute_id`.
Libraries log through the standard `logging` module (uvicorn's access log
included); structlog's `ProcessorFormatter` renders their records like ours.

A request's fields live in one dict per request held by a context variable:
code running in a worker thread (FastAPI runs sync dependencies and routes in
a thread pool with a copy of the context) adds to the same dict with
`annotate`, so the access log line written afterwards sees what it added."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

_request_fields: ContextVar[dict[str, Any] | None] = ContextVar("disputes_request_fields", default=None)
ACCESS_LOGGER = "uvicorn.access"


def begin_request(**fields: Any) -> dict[str, Any]:
    """Start a request's fields (in the task that serves it)."""
    started = dict(fields)
    _request_fields.set(started)
    return started


def annotate(**fields: Any) -> None:
    """Add fields to every later line of the current request (no-op outside one)."""
    current = _request_fields.get()
    if current is not None:
        current.update({k: v for k, v in fields.items() if v is not None})


def _add_request_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    for key, value in (_request_fields.get() or {}).items():
        event_dict.setdefault(key, value)
    return event_dict


def _access_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """uvicorn's access record ('%s - "%s %s HTTP/%s" %d') as fields."""
    record, args = event_dict.get("_record"), event_dict.pop("positional_args", None)
    if record is not None and record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) == 5:
        client, method, path, http_version, status = args
        event_dict.update(
            event="request", client=client, method=method, path=path, http_version=http_version, status=status
        )
    return event_dict


def _process_name(name: str) -> Processor:
    def add(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("process", name)
        return event_dict

    return add


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a line is logged (a CLI test runner swaps it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure_logging(
    log_format: Literal["json", "console"] = "json", level: str = "INFO", process: str = "disputes"
) -> None:
    """Route every logger (ours, uvicorn's, the libraries') to one stderr handler."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_request_fields,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        _process_name(process),
        _access_fields,
    ]
    renderer: Processor
    if log_format == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        final: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]
    else:
        renderer = structlog.processors.JSONRenderer(default=str)
        final = [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ]
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=final, pass_foreign_args=True)
    )
    root = logging.getLogger()
    # Ours replace ours (configured again); others (a test runner's capture) stay.
    root.handlers = [h for h in root.handlers if not isinstance(h, _StderrHandler)] + [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", ACCESS_LOGGER):
        named = logging.getLogger(name)
        named.handlers = []
        named.propagate = True
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
