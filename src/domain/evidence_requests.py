"""Evidence requests, tracked one by one: an agent asks a party for evidence by
a due time; the party's next upload fulfils it (the oldest open one, or the one
the upload names); else its own deadline `evidence_request:<id>` passes and the
system actor records its expiry.

Each party's deadline (`evidence_request_buyer` / `_seller`) is kept beside
them as the earliest due time of that party's open requests. Every event that
opens, moves or closes a request carries the recomputed map, so the deadline
read model and the scheduler see both names.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from domain import events as ev
from domain import guards, validation
from domain.deadline_names import PARTY_DEADLINES, party_deadline, request_deadline, requested_id
from domain.decisions import DisputeDecisions
from domain.errors import EvidenceRequestNotFound, EvidenceRequestNotOpen
from domain.state import DisputeState
from domain.values import PARTIES, Action, Actor, Context, EvidenceRequest, EvidenceRequestStatus, Role
from domain.visibility import ensure_can_see

OPEN = EvidenceRequestStatus.OPEN


def request_to_fulfil(dispute: DisputeState, actor: Actor, at: datetime, named: str | None) -> EvidenceRequest | None:
    """The request an upload by `actor` at `at` fulfils: the one it names (which
    must be open and addressed to the uploader), else the oldest open request
    addressed to it, else none (agents' uploads fulfil nothing)."""
    if named is None:
        if actor.role not in PARTIES:
            return None
        return next((r for r in dispute.requests_to(actor.role) if dispute.request_open_at(r, at)), None)
    ensure_can_see(dispute, actor)
    guards.ensure_role_may(Action.SUBMIT_EVIDENCE, actor)
    found = next((r for r in dispute.evidence_requests if r.id == named), None)
    if found is None:
        raise EvidenceRequestNotFound(f"no evidence request {named} in this dispute")
    if found.party is not actor.role:
        raise EvidenceRequestNotOpen(f"evidence request {named} is addressed to the {found.party.value}, not to you")
    if found.status is not OPEN:
        raise EvidenceRequestNotOpen(f"evidence request {named} is {found.status.value}")
    if not dispute.request_open_at(found, at):
        raise EvidenceRequestNotOpen(f"evidence request {named} was due at {found.due_at.isoformat()}")
    return found


class DisputeEvidenceRequests(DisputeDecisions):
    def request_evidence(self, ctx: Context, party: Role, note: str, due_in: timedelta) -> str:
        guards.check(self, Action.REQUEST_EVIDENCE, ctx.actor, ctx.at)
        validation.party(party)
        validation.text("note", note)
        validation.positive_duration("due_in", due_in)
        due_at = validation.due_after(ctx.at, due_in, "due_in")
        request_id = self._new_id("evidence_request")
        self._emit(
            ev.EvidenceRequested,
            ctx,
            evidence_request_id=request_id,
            party=party.value,
            note=note,
            due_at=due_at,
            deadlines=self._with_requests(due={request_id: due_at}, new={request_id: party}),
        )
        return request_id

    # ------------------------------------------------------------ fulfilment
    def _fulfil(self, ctx: Context, request: EvidenceRequest, evidence_id: str) -> None:
        self._emit(
            ev.EvidenceRequestFulfilled,
            ctx,
            evidence_request_id=request.id,
            evidence_id=evidence_id,
            party=request.party.value,
            deadlines=self._with_requests(closing={request.id}),
        )

    # ---------------------------------------------------------------- expiry
    def _expire_requests(self, ctx: Context, name: str) -> None:
        """The system actor's expiry of a request's own deadline or of a party's:
        each due request of that party records `EvidenceRequestLapsed`, and when
        the party's deadline (its earliest due time) passed, `EvidenceRequestExpired`
        for it. Whichever name the scheduler reaches first does both; the other
        then finds its deadline closed or moved."""
        named = requested_id(name)
        if named is not None:
            request = self._evidence_request(named)
            party, lapsing = request.party, [request]
        else:
            party = PARTY_DEADLINES[name]
            lapsing = [r for r in self.requests_to(party) if r.own_deadline and r.status is OPEN and r.due_at <= ctx.at]
        party_name = party_deadline(party)
        party_due = self.deadlines.get(party_name)
        for r in sorted(lapsing, key=lambda r: r.due_at):
            self._emit(
                ev.EvidenceRequestLapsed,
                ctx,
                deadline=request_deadline(r.id),
                due_at=r.due_at,
                evidence_request_id=r.id,
                party=party.value,
                deadlines=self._with_requests(closing={r.id}),
            )
        if party_due is None or party_due > ctx.at:
            return
        if name != party_name and self.deadlines.get(party_name) == party_due:
            return  # the party's earliest request is another one, still open
        legacy = {r.id for r in self.requests_to(party) if self._legacy_open(r)}  # they expire with it
        self._emit(
            ev.EvidenceRequestExpired,
            ctx,
            deadline=party_name.value,
            due_at=party_due,
            deadlines=self._with_requests(closing=legacy),
        )

    # ------------------------------------------------------------- extension
    def _extended_requests(self, name: str, due_at: datetime, extend_by: timedelta) -> dict[str, datetime]:
        """The map after extending a request's own deadline (that request moves) or
        a party's (every open request of that party moves by `extend_by`, so the
        party's deadline moves by exactly that much)."""
        named = requested_id(name)
        if named is not None:
            return self._with_requests(due={named: due_at})
        party = PARTY_DEADLINES[name]
        moved = {
            r.id: validation.due_after(self.deadlines[request_deadline(r.id)], extend_by, "extend_by")
            for r in self.requests_to(party)
            if request_deadline(r.id) in self.deadlines
        }
        return self._with_requests(due=moved, legacy_by=extend_by)

    # --------------------------------------------------------------- helpers
    def _evidence_request(self, request_id: str) -> EvidenceRequest:
        found = next((r for r in self.evidence_requests if r.id == request_id), None)
        if found is None:
            raise EvidenceRequestNotFound(f"no evidence request {request_id} in this dispute")
        return found

    @staticmethod
    def _legacy_open(request: EvidenceRequest) -> bool:
        return request.status is OPEN and not request.own_deadline

    def _with_requests(
        self,
        *,
        due: dict[str, datetime] | None = None,
        new: dict[str, Role] | None = None,
        closing: Collection[str] = (),
        legacy_by: timedelta | None = None,
    ) -> dict[str, datetime]:
        """The open-deadline map after requests get a due time (`new` ones, or
        moved ones) or close: each open request's own deadline, and each party's
        deadline as the earliest due time of its open requests (absent when it
        has none)."""
        parties = {r.id: r.party for r in self.evidence_requests} | (new or {})
        kept = {k: v for k, v in self.deadlines.items() if requested_id(k) not in closing}
        kept.update({request_deadline(i): at for i, at in (due or {}).items()})
        for party in PARTIES:
            dues = [at for k, at in kept.items() if (i := requested_id(k)) is not None and parties[i] is party]
            name = party_deadline(party)
            for r in self.requests_to(party):
                if self._legacy_open(r) and r.id not in closing:
                    legacy_due = self.deadlines.get(name, r.due_at)
                    dues.append(validation.due_after(legacy_due, legacy_by, "extend_by") if legacy_by else legacy_due)
            kept.pop(name, None)
            if dues:
                kept[name] = min(dues)
        return {str(k): v for k, v in kept.items()}
