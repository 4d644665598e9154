"""Running one command with its preconditions: If-Match and Idempotency-Key.

The outcome says how the command ended and carries what a client must be
shown: the dispute as the command left it and the id of what it created,
never read a second time. With an Idempotency-Key, the key's claim is saved
in the same transaction as the command's events. A repeat (same caller, key
and request fingerprint) is answered from that record and appends nothing; a
repeat with another fingerprint is `IdempotencyMismatch`. Lasting refusals
(domain errors other than a stale version or a lost race) are recorded under
the key too. Requests racing under one key execute once: whichever commits
first is recorded, and every other is answered from that record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from domain.application import CommandResult, DisputeApp
from domain.decisions import child_id
from domain.dispute import Dispute
from domain.errors import ConcurrentModification, DomainError, VersionConflict
from domain.values import Context
from service.ports import IdempotencyClaim, IdempotencyKeyTaken, IdempotencyRecord, IdempotencyStore

Kind = Literal["dispute", "offer", "evidence", "message", "evidence_request"]
Decide = Callable[[Mapping[str, Any]], CommandResult]
"""Calls one DisputeApp command with `expected_version` and `save_kwargs` (the claim) as keywords."""


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before with a different request."""


@dataclass(frozen=True)
class CommandRequest:
    """One command as asked: who and when (ctx), its preconditions, and how it is
    recorded under an Idempotency-Key (the status a success or a refusal answers)."""

    ctx: Context
    expected_version: int | None
    fingerprint: str
    kind: Kind
    success_status: int
    refusal_status: Callable[[DomainError], int]


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    detail: str


@dataclass(frozen=True)
class Outcome:
    """How a command ended: `fresh` (it ran now), `replayed` (answered from the
    idempotency record of an earlier request) or `refused` (a refusal recorded
    under the key, answered again). Fresh refusals are raised, not returned."""

    how: Literal["fresh", "replayed", "refused"]
    status: int
    kind: Kind
    dispute: Dispute | None = None
    created_id: str | None = None
    position: int | None = None
    refusal: Refusal | None = None

    def created(self) -> Any:
        """The offer, evidence, message or evidence request the command created
        (the dispute itself for `dispute`)."""
        assert self.dispute is not None, "only a success has a dispute"
        if self.kind == "dispute":
            return self.dispute
        items: dict[str, list[Any]] = {
            "offer": self.dispute.offers,
            "evidence": self.dispute.evidence,
            "message": self.dispute.messages,
            "evidence_request": self.dispute.evidence_requests,
        }
        return next(item for item in items[self.kind] if item.id == self.created_id)


@dataclass
class CommandService:
    app: DisputeApp
    idempotency: IdempotencyStore

    def run(self, request: CommandRequest, decide: Decide) -> Outcome:
        """Run `decide` once for `request`, or answer from the key's record."""
        key = request.ctx.idempotency_key
        kw: dict[str, Any] = {"expected_version": request.expected_version}
        if key is None:
            return self._fresh(request, decide({**kw, "save_kwargs": {}}))
        scope = request.ctx.actor.id
        previous = self.idempotency.select_idempotency(scope, key)
        if previous is not None:
            return self._replay(request, previous)
        outcome = {"status": request.success_status, "kind": request.kind}
        claim = IdempotencyClaim(scope, key, request.fingerprint, outcome)
        try:
            result = decide({**kw, "save_kwargs": {"idempotency": claim}})
        except IdempotencyKeyTaken:
            return self._replay(request, self._recorded(scope, key))
        except DomainError as error:
            return self._refuse(request, scope, key, error)
        return self._fresh(request, result)

    def _fresh(self, request: CommandRequest, result: CommandResult) -> Outcome:
        created = str(result.dispute_id) if request.kind == "dispute" else result.created_id
        return Outcome("fresh", request.success_status, request.kind, result.dispute, created, result.position)

    def _refuse(self, request: CommandRequest, scope: str, key: str, error: DomainError) -> Outcome:
        """Record a lasting refusal, then answer with what the key records: a request
        racing under the same key may have committed first (and then this one lost
        the race with DisputeExists or a stale version, not with the key)."""
        if not isinstance(error, (VersionConflict, ConcurrentModification)):
            problem = {"code": error.code, "detail": error.detail}
            outcome = {"status": request.refusal_status(error), "problem": problem}
            self.idempotency.insert_idempotency_outcome(IdempotencyClaim(scope, key, request.fingerprint, outcome))
        recorded = self.idempotency.select_idempotency(scope, key)
        if recorded is None:
            raise error
        return self._replay(request, recorded)

    def _recorded(self, scope: str, key: str) -> IdempotencyRecord:
        taken = self.idempotency.select_idempotency(scope, key)
        assert taken is not None, "a taken key has a record"
        return taken

    def _replay(self, request: CommandRequest, record: IdempotencyRecord) -> Outcome:
        if record.fingerprint != request.fingerprint:
            raise IdempotencyMismatch("this Idempotency-Key was used with a different request")
        status, kind = int(record.outcome["status"]), record.outcome.get("kind", request.kind)
        if "problem" in record.outcome:
            problem = record.outcome["problem"]
            return Outcome("refused", status, kind, refusal=Refusal(status, problem["code"], problem["detail"]))
        assert record.dispute_id is not None and record.version is not None and record.position is not None
        # A replay shows the dispute as the original command left it: a load, but
        # only for repeats, never on the command path itself.
        dispute = self.app.dispute(UUID(record.dispute_id), version=record.version)
        return Outcome("replayed", status, kind, dispute, created_child_id(dispute, kind), record.position)


def created_child_id(dispute: Dispute, kind: Kind) -> str:
    """What a recorded command created: it was the command's last event."""
    return str(dispute.id) if kind == "dispute" else child_id(dispute.id, kind, dispute.version)
