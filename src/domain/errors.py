"""Named domain errors. Each has a stable machine `code`; the API maps codes
to HTTP statuses in one place (api.problems)."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotParty(DomainError):
    """The caller is a buyer or seller who is not party to this dispute."""

    code = "not_party"


class DisputeNotFound(DomainError):
    code = "dispute_not_found"


class RoleNotAllowed(DomainError):
    """The caller's role may never take this action."""

    code = "role_not_allowed"


class InvalidTransition(DomainError):
    """The action is not possible in the current status, or not the caller's turn."""

    code = "invalid_transition"


class ActionWindowClosed(InvalidTransition):
    """The deadline that closes this action is due (its expiry may not be recorded
    yet). An illegal transition like any other for clients: same code, its own
    detail. (Not the `DeadlinePassed` event, which records an expiry.)"""

    code = "invalid_transition"


class OfferNotFound(DomainError):
    code = "offer_not_found"


class OfferNotPending(InvalidTransition):
    code = "invalid_transition"


class DisputeExists(DomainError):
    code = "dispute_exists"


class AlreadyEscalated(InvalidTransition):
    code = "invalid_transition"


class EvidenceNotAccepted(DomainError):
    """Evidence is refused: the evidence window is closed and no evidence request
    addressed to the caller is open. (Not the `EvidenceWindowClosed` event.)"""

    code = "evidence_window_closed"


class EvidenceQuotaExceeded(DomainError):
    code = "evidence_quota_exceeded"


class MessageLimitReached(DomainError):
    """The dispute holds as many messages as the policy allows."""

    code = "message_limit"


class DeadlineNotOpen(DomainError):
    code = "deadline_not_open"


class DeadlineNotDue(DomainError):
    code = "deadline_not_due"


class VersionConflict(DomainError):
    """The caller's expected version is stale (If-Match)."""

    code = "version_conflict"


class ConcurrentModification(DomainError):
    """Another command committed first and retrying did not resolve it."""

    code = "concurrent_modification"


class InvalidValue(DomainError):
    """A command argument breaks a rule (amounts, lengths, currencies...)."""

    code = "invalid_value"


class RefundExceedsOrder(InvalidValue):
    code = "refund_exceeds_order"


class CurrencyMismatch(InvalidValue):
    code = "currency_mismatch"


class RefundRequired(InvalidValue):
    code = "refund_required"


class TextTooLong(InvalidValue):
    code = "text_too_long"


class SameAgent(InvalidTransition):
    """An appeal is decided by an agent other than the one whose ruling is appealed."""

    code = "same_agent"


class ClaimedByAnotherAgent(DomainError):
    """Another agent handles the dispute: taking it over needs force and a reason."""

    code = "claimed_by_another_agent"


class NotClaimant(InvalidTransition):
    """Only the agent who handles a dispute releases it."""

    code = "not_claimant"


class OutcomeRequired(InvalidValue):
    """An overturned appeal names the new outcome."""

    code = "outcome_required"
