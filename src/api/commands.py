"""Running a command over HTTP: If-Match, Idempotency-Key, ETag, X-Position.

With an Idempotency-Key, the key's claim is saved in the same transaction
as the command's events. A repeat (same caller, key and request) is answered
from that record by rendering the dispute at the recorded version, so it
returns the original status and body and appends nothing; a repeat with a
different request is 422 `idempotency_mismatch`. Refusals (4xx domain errors)
are recorded too, except transient ones (412, concurrent modification).
Requests racing under one key execute once: whichever commits first is
recorded, and every other is answered from that record.

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
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from fastapi import Request
from fastapi.responses import JSONResponse

from api import presenters
from api.problems import PROBLEM_JSON, ApiProblem, domain_problem, problem_body
from bootstrap import Services
from domain.application import CommandResult
from domain.dispute import Dispute
from domain.errors import ConcurrentModification, DomainError, VersionConflict
from domain.values import Actor, Context
from service.ports import IdempotencyClaim, IdempotencyKeyTaken, IdempotencyRecord

log = logging.getLogger("disputes.api")
Kind = Literal["dispute", "offer", "evidence", "message", "evidence_request"]
MAX_KEY = 255
ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


@dataclass(frozen=True)
class Call:
    """One command request: who, when, under which keys."""

    services: Services
    ctx: Context
    expected_version: int | None
    fingerprint: str

    @property
    def actor(self) -> Actor:
        return self.ctx.actor


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


def new_call(services: Services, request: Request, actor: Actor, body: Any) -> Call:
    ctx = Context(
        actor=actor,
        at=services.clock(),
        request_id=request.state.request_id,
        idempotency_key=idempotency_key(request.headers.get("idempotency-key")),
    )
    return Call(services, ctx, parse_if_match(request.headers.get("if-match")), fingerprint(request, body))


Run = Callable[[Call, dict[str, Any]], CommandResult]


def handle(
    request: Request, services: Services, actor: Actor, body: Any, kind: Kind, status: int, run: Run
) -> JSONResponse:
    """Run a command for `actor`: `run(call, kw)` calls the application with `**kw`
    (the expected version and the idempotency claim to save)."""
    call = new_call(services, request, actor, body)
    return execute(
        call,
        kind,
        status,
        lambda save_kwargs: run(call, {"expected_version": call.expected_version, "save_kwargs": save_kwargs}),
    )


def execute(
    call: Call,
    kind: Kind,
    status: int,
    run: Callable[[Mapping[str, Any]], CommandResult],
) -> JSONResponse:
    key = call.ctx.idempotency_key
    if key is None:
        result = run({})
        after_commit(call)
        return render(call.services, kind, status, result.dispute_id, result.version, result.position, call)
    previous = call.services.idempotency.select_idempotency(call.actor.id, key)
    if previous is not None:
        return replay(call, previous)
    claim = IdempotencyClaim(call.actor.id, key, call.fingerprint, {"status": status, "kind": kind})
    try:
        result = run({"idempotency": claim})
    except IdempotencyKeyTaken:
        taken = call.services.idempotency.select_idempotency(call.actor.id, key)
        assert taken is not None, "a taken key has a record"
        return replay(call, taken)
    except DomainError as error:
        return refuse(call, key, error)
    after_commit(call)
    return render(call.services, kind, status, result.dispute_id, result.version, result.position, call)


def refuse(call: Call, key: str, error: DomainError) -> JSONResponse:
    """Record a lasting refusal, then answer with what the key records: a request
    racing under the same key may have committed first (and then this one lost
    the race with DisputeExists or a stale version, not with the key)."""
    if not isinstance(error, (VersionConflict, ConcurrentModification)):
        code, body = domain_problem(error)
        refusal = IdempotencyClaim(call.actor.id, key, call.fingerprint, {"status": code, "problem": body})
        call.services.idempotency.insert_idempotency_outcome(refusal)
    recorded = call.services.idempotency.select_idempotency(call.actor.id, key)
    if recorded is None:
        raise error
    return replay(call, recorded)


def after_commit(call: Call) -> None:
    """The crash tests' fault: die after the commit, before the response is written."""
    if call.services.settings.fault_injection == "crash_after_commit":
        log.critical("fault injection: exiting after request %s committed", call.ctx.request_id)
        logging.shutdown()
        os._exit(137)


def replay(call: Call, record: IdempotencyRecord) -> JSONResponse:
    if record.fingerprint != call.fingerprint:
        raise ApiProblem(422, "idempotency_mismatch", "this Idempotency-Key was used with a different request")
    outcome = record.outcome
    if "problem" in outcome:
        # Re-rendered, not returned as stored: stores may reorder a JSON document's keys.
        problem = outcome["problem"]
        body = problem_body(int(outcome["status"]), problem["code"], problem["detail"])
        return JSONResponse(body, status_code=int(outcome["status"]), media_type=PROBLEM_JSON)
    assert record.dispute_id is not None and record.version is not None and record.position is not None
    return render(
        call.services,
        outcome["kind"],
        int(outcome["status"]),
        UUID(record.dispute_id),
        record.version,
        record.position,
        call,
        replayed=True,
    )


def render(
    services: Services,
    kind: Kind,
    status: int,
    dispute_id: UUID,
    version: int,
    position: int,
    call: Call,
    *,
    replayed: bool = False,
) -> JSONResponse:
    dispute = services.app.dispute(dispute_id, version=version)
    now = dispute.modified_on if replayed else call.ctx.at
    body = body_for(kind, dispute, call.actor, now)
    headers = {"ETag": f'"{version}"', "X-Position": str(position)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    if status == 201:
        headers["Location"] = location(kind, dispute, body)
    return JSONResponse(body, status_code=status, headers=headers)


def body_for(kind: Kind, dispute: Dispute, viewer: Actor, now: Any) -> dict[str, Any]:
    if kind == "dispute":
        return presenters.dispute(dispute, viewer, now).model_dump(mode="json")
    if kind == "offer":
        return presenters.offer(dispute.offers[-1]).model_dump(mode="json")
    if kind == "evidence":
        return presenters.evidence(dispute.evidence[-1]).model_dump(mode="json")
    if kind == "message":
        return presenters.message(dispute.messages[-1]).model_dump(mode="json")
    return presenters.evidence_request(dispute.evidence_requests[-1]).model_dump(mode="json")


def location(kind: Kind, dispute: Dispute, body: dict[str, Any]) -> str:
    base = f"/v1/disputes/{dispute.id}"
    return f"{base}/evidence/{body['id']}/content" if kind == "evidence" else base


def request_id(header: str | None) -> str:
    if header and 0 < len(header) <= 128 and header.isprintable():
        return header
    return uuid.uuid4().hex
