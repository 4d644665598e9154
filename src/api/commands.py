"""Commands over HTTP: the request's headers in (If-Match, Idempotency-Key),
the outcome of `service.commands` out as a response (ETag, X-Position,
Location, Idempotent-Replayed).

`Settings.fault_injection = "crash_after_commit"` (dev and test only) ends
the process right after a command commits, before it answers, so the crash
tests can prove a retry is answered from the record.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api import presenters
from api.problems import PROBLEM_JSON, ApiProblem, problem_body, status_for
from domain.application import CommandResult
from domain.values import Actor, Context
from service import logs
from service.commands import CommandRequest, IdempotencyMismatch, Kind, Outcome
from service.hub import Services

log = logging.getLogger("disputes.api")
MAX_KEY = 255
ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')
Run = Callable[[Context, Mapping[str, Any]], CommandResult]
"""Calls one application command for the caller's context with the keywords given."""


def fingerprint(request: Request, body: Any) -> str:
    document = {"method": request.method, "path": request.url.path, "body": body}
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def parse_if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    match = ETAG.match(value)
    if not match:
        raise ApiProblem(422, "invalid_if_match", 'If-Match must be an ETag like "3"')
    return int(match.group(1))


def idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not value or len(value) > MAX_KEY or not value.isprintable():
        raise ApiProblem(422, "invalid_idempotency_key", f"Idempotency-Key must be 1 to {MAX_KEY} printable characters")
    return value


def command_request(
    services: Services, request: Request, actor: Actor, body: Any, kind: Kind, status: int
) -> CommandRequest:
    ctx = Context(
        actor=actor,
        at=services.clock(),
        request_id=request.state.request_id,
        idempotency_key=idempotency_key(request.headers.get("idempotency-key")),
    )
    expected = parse_if_match(request.headers.get("if-match"))
    return CommandRequest(ctx, expected, fingerprint(request, body), kind, status, status_for)


def handle(
    request: Request, services: Services, actor: Actor, body: Any, kind: Kind, status: int, run: Run
) -> JSONResponse:
    """Run a command for `actor` (`run(ctx, kw)` calls the application with `**kw`)
    and answer with what it did."""
    command = command_request(services, request, actor, body, kind, status)
    return execute(services, command, lambda: services.commands.run(command, lambda kw: run(command.ctx, kw)))


def execute(services: Services, command: CommandRequest, run: Callable[[], Outcome]) -> JSONResponse:
    """Answer with what `run` did for `command`."""
    try:
        outcome = run()
    except IdempotencyMismatch as mismatch:
        raise ApiProblem(422, "idempotency_mismatch", str(mismatch)) from None
    if outcome.how == "fresh":
        after_commit(services, command.ctx)
    return respond(outcome, command.ctx)


def after_commit(services: Services, ctx: Context) -> None:
    """The crash tests' fault: die after the commit, before the response is written."""
    if services.settings.fault_injection == "crash_after_commit":
        log.critical("fault injection: exiting after request %s committed", ctx.request_id)
        logging.shutdown()
        os._exit(137)


def respond(outcome: Outcome, ctx: Context) -> JSONResponse:
    if outcome.refusal is not None:
        refusal = outcome.refusal
        body = problem_body(refusal.status, refusal.code, refusal.detail)
        return JSONResponse(body, status_code=refusal.status, media_type=PROBLEM_JSON)
    dispute = outcome.dispute
    assert dispute is not None and outcome.position is not None
    logs.annotate(dispute_id=str(dispute.id))  # the one a POST /v1/disputes just opened, too
    replayed = outcome.how == "replayed"
    body = body_for(outcome, ctx.actor, dispute.modified_on if replayed else ctx.at)
    headers = {"ETag": f'"{dispute.version}"', "X-Position": str(outcome.position)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    if outcome.status == 201:
        headers["Location"] = location(outcome, body)
    return JSONResponse(body, status_code=outcome.status, headers=headers)


def body_for(outcome: Outcome, viewer: Actor, now: Any) -> dict[str, Any]:
    created = outcome.created()
    if outcome.kind == "dispute":
        return presenters.dispute(created, viewer, now).model_dump(mode="json")
    render: dict[str, Callable[[Any], BaseModel]] = {
        "offer": presenters.offer,
        "evidence": presenters.evidence,
        "message": presenters.message,
        "evidence_request": presenters.evidence_request,
    }
    body: dict[str, Any] = render[outcome.kind](created).model_dump(mode="json")
    return body


def location(outcome: Outcome, body: dict[str, Any]) -> str:
    assert outcome.dispute is not None
    base = f"/v1/disputes/{outcome.dispute.id}"
    return f"{base}/evidence/{body['id']}/content" if outcome.kind == "evidence" else base


def request_id(header: str | None) -> str:
    if header and 0 < len(header) <= 128 and header.isprintable():
        return header
    return uuid.uuid4().hex
