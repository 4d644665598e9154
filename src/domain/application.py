"""The application service: its methods are the commands of the dispute domain.

Each command loads the dispute, lets the aggregate decide, and saves the new
events in one transaction, returning what a client needs (id, version and the
global position of the last event). A command that loses a race with another
writer is retried on fresh state, unless the caller named the version it
expected (If-Match), in which case it fails with VersionConflict.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import RecordConflictError

from domain.decided import Decided
from domain.dispute import Dispute
from domain.errors import (
    ConcurrentModification,
    DisputeExists,
    DisputeNotFound,
    DomainError,
    VersionConflict,
)
from domain.policy import Policy
from domain.values import (
    Actor,
    AppealDecision,
    Context,
    Deadline,
    EvidenceKind,
    Money,
    Outcome,
    Reason,
    Remedy,
    ReturnCondition,
    Role,
)
from domain.visibility import ensure_can_see, may_see, missing_dispute

T = TypeVar("T")
MAX_ATTEMPTS = 8


class Committer(Protocol):
    """Saves a decided dispute, possibly together with other commands (group commit)."""

    def save(self, dispute: Dispute, save_kwargs: Mapping[str, Any]) -> list[Any]: ...


@dataclass(frozen=True)
class CommandResult:
    """What a command did: the dispute as the command left it (so a caller
    renders its answer without loading it again), the global position of its
    last event, and the id of what it created (offer, evidence, message,
    evidence request), if anything."""

    dispute: Dispute
    position: int
    created_id: str | None = None

    @property
    def dispute_id(self) -> UUID:
        return self.dispute.id

    @property
    def version(self) -> int:
        return self.dispute.version


class DisputeApp(Application[UUID]):
    name = "disputes"

    def __init__(self, env: Mapping[str, str] | None = None, policy: Policy | None = None) -> None:
        super().__init__(env)
        self.policy = policy or Policy()
        self.listeners: list[Callable[[], None]] = []
        self.committer: Committer | None = None
        self._decided = Decided(int(self.env.get("AGGREGATE_CACHE_MAXSIZE") or 0))
        interval = int(self.env.get("SNAPSHOT_INTERVAL") or 0)
        if interval > 0 and self.snapshots is not None:
            self.snapshotting_intervals = {Dispute: interval}  # type: ignore[misc]  # per instance, from settings

    # ------------------------------------------------------------- commands
    def open_dispute(
        self,
        ctx: Context,
        *,
        order_id: str,
        seller_id: str,
        reason: Reason,
        remedy: Remedy,
        refund: Money | None,
        order_amount: Money,
        description: str,
        save_kwargs: Mapping[str, Any] | None = None,
    ) -> CommandResult:
        # Decide first: a caller who may never open a dispute is refused (403)
        # without learning whether this order already has one.
        dispute = Dispute.open(
            ctx,
            order_id=order_id,
            seller_id=seller_id,
            reason=reason,
            remedy=remedy,
            refund=refund,
            order_amount=order_amount,
            description=description,
            policy=self.policy,
        )
        if dispute.id in self.repository:
            raise DisputeExists(f"order {order_id} already has a dispute")
        try:
            recordings = self._save(dispute, save_kwargs or {})
        except RecordConflictError:
            raise DisputeExists(f"order {order_id} already has a dispute") from None
        return CommandResult(dispute, recordings[-1].notification.id)

    def propose_offer(
        self, dispute_id: UUID, ctx: Context, remedy: Remedy, refund: Money | None, note: str, **kw: Any
    ) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.propose_offer(ctx, remedy, refund, note), **kw)

    def accept_offer(self, dispute_id: UUID, ctx: Context, offer_id: str, note: str, **kw: Any) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.accept_offer(ctx, offer_id, note, self.policy), **kw)

    def reject_offer(self, dispute_id: UUID, ctx: Context, offer_id: str, reason: str, **kw: Any) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.reject_offer(ctx, offer_id, reason), **kw)

    def submit_evidence(
        self,
        dispute_id: UUID,
        ctx: Context,
        *,
        kind: EvidenceKind,
        description: str,
        sha256: str,
        size: int,
        media_type: str,
        blob_key: str,
        **kw: Any,
    ) -> CommandResult:
        def submit(d: Dispute) -> str:
            return d.submit_evidence(
                ctx,
                kind=kind,
                description=description,
                sha256=sha256,
                size=size,
                media_type=media_type,
                blob_key=blob_key,
                policy=self.policy,
            )

        return self._run(dispute_id, ctx, submit, **kw)

    def post_message(
        self, dispute_id: UUID, ctx: Context, body: str, to: Role | None = None, **kw: Any
    ) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.post_message(ctx, body, to, self.policy), **kw)

    def escalate(self, dispute_id: UUID, ctx: Context, reason: str, **kw: Any) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.escalate(ctx, reason, self.policy), **kw)

    def withdraw(self, dispute_id: UUID, ctx: Context, reason: str, **kw: Any) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.withdraw(ctx, reason), **kw)

    def ship_return(
        self, dispute_id: UUID, ctx: Context, carrier: str, tracking_number: str, **kw: Any
    ) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.ship_return(ctx, carrier, tracking_number, self.policy), **kw)

    def confirm_return_receipt(
        self, dispute_id: UUID, ctx: Context, condition: ReturnCondition, note: str, **kw: Any
    ) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.confirm_return_receipt(ctx, condition, note, self.policy), **kw)

    def request_evidence(
        self, dispute_id: UUID, ctx: Context, party: Role, note: str, due_in: timedelta, **kw: Any
    ) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.request_evidence(ctx, party, note, due_in), **kw)

    def extend_deadline(
        self,
        dispute_id: UUID,
        ctx: Context,
        deadline: Deadline,
        extend_by: timedelta,
        reason: str,
        **kw: Any,
    ) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.extend_deadline(ctx, deadline, extend_by, reason), **kw)

    def issue_ruling(
        self,
        dispute_id: UUID,
        ctx: Context,
        outcome: Outcome,
        refund: Money | None,
        seller_at_fault: bool,
        rationale: str,
        **kw: Any,
    ) -> CommandResult:
        return self._run(
            dispute_id,
            ctx,
            lambda d: d.issue_ruling(ctx, outcome, refund, seller_at_fault, rationale, self.policy),
            **kw,
        )

    def appeal(self, dispute_id: UUID, ctx: Context, reason: str, **kw: Any) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.appeal_ruling(ctx, reason, self.policy), **kw)

    def decide_appeal(
        self,
        dispute_id: UUID,
        ctx: Context,
        decision: AppealDecision,
        outcome: Outcome | None,
        refund: Money | None,
        seller_at_fault: bool | None,
        rationale: str,
        **kw: Any,
    ) -> CommandResult:
        return self._run(
            dispute_id,
            ctx,
            lambda d: d.decide_appeal(ctx, decision, outcome, refund, seller_at_fault, rationale),
            **kw,
        )

    def claim(self, dispute_id: UUID, ctx: Context, force: bool, reason: str, **kw: Any) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.claim(ctx, force, reason), **kw)

    def release(self, dispute_id: UUID, ctx: Context, reason: str, **kw: Any) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.release(ctx, reason), **kw)

    def expire_deadline(self, dispute_id: UUID, ctx: Context, deadline: Deadline, **kw: Any) -> CommandResult:
        return self._run(dispute_id, ctx, lambda d: d.expire_deadline(ctx, deadline, self.policy), **kw)

    # -------------------------------------------------------------- queries
    def dispute(self, dispute_id: UUID, version: int | None = None) -> Dispute:
        try:
            dispute: object = self.repository.get(dispute_id, version=version)
        except AggregateNotFoundError:
            raise DisputeNotFound(f"no dispute {dispute_id}") from None
        if not isinstance(dispute, Dispute):  # another aggregate of the same store (an order)
            raise DisputeNotFound(f"no dispute {dispute_id}")
        return dispute

    def dispute_for(self, dispute_id: UUID, actor: Actor, version: int | None = None) -> Dispute:
        """The dispute if the caller may see it. Buyers and sellers get the same
        NotParty for a missing dispute as for someone else's, so ids do not leak."""
        try:
            dispute = self.dispute(dispute_id, version)
        except DisputeNotFound as missing:
            raise missing_dispute(actor, missing.detail) from None
        ensure_can_see(dispute, actor)
        return dispute

    # -------------------------------------------------------------- running
    def _save(self, dispute: Dispute, save_kwargs: Mapping[str, Any]) -> list[Any]:
        if self.committer is not None:
            return self.committer.save(dispute, save_kwargs)
        return self.save(dispute, **save_kwargs)

    def _run(
        self,
        dispute_id: UUID,
        ctx: Context,
        decide: Callable[[Dispute], T],
        *,
        expected_version: int | None = None,
        save_kwargs: Mapping[str, Any] | None = None,
    ) -> CommandResult:
        for attempt in range(MAX_ATTEMPTS):
            # The first attempt decides on the copy this process last saved, without
            # reading the store; anything it may have missed is caught at insert.
            cached = self._decided.copy_of(dispute_id) if attempt == 0 else None
            if cached is not None and not may_see(ctx.actor, cached):
                cached = None
            dispute = cached if cached is not None else self.dispute_for(dispute_id, ctx.actor)
            if expected_version is not None and dispute.version != expected_version:
                if cached is not None:
                    continue  # the copy may be stale: the store decides the version
                raise VersionConflict(f"the dispute is at version {dispute.version}, not {expected_version}")
            try:
                created = decide(dispute)
            except DomainError:
                if cached is not None:
                    continue  # refused on a copy that may be stale: decide again on the stored dispute
                raise
            try:
                recordings = self._save(dispute, save_kwargs or {})
            except RecordConflictError:
                self._decided.forget(dispute_id)
                if expected_version is not None:
                    raise VersionConflict("another command changed the dispute first") from None
                if cached is None:
                    time.sleep(random.uniform(0, 0.002 * 2**attempt))  # noqa: S311 - jitter, not crypto
                continue
            self._decided.keep(dispute)
            created_id = created if isinstance(created, str) else None
            return CommandResult(dispute, recordings[-1].notification.id, created_id)
        raise ConcurrentModification("the dispute kept changing; try again")
