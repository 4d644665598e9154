"""Random command mixes for property tests: each step a command with
hypothesis-drawn arguments, and scripted prefixes that bring a dispute into
each status first. Shared by the domain's invariants and the read models'
follow-the-aggregate tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from domain.dispute import Dispute
from domain.policy import Policy
from domain.values import (
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
from support.builders import (
    AGENT,
    AUDITOR,
    BUYER,
    ORDER_AMOUNT,
    OTHER_AGENT,
    OTHER_BUYER,
    SELLER,
    SYSTEM,
    T0,
    fake_file,
)

POLICY = Policy()
ANYONE = [BUYER, SELLER, AGENT, OTHER_AGENT, AUDITOR, SYSTEM, OTHER_BUYER]
money = st.builds(
    Money,
    st.integers(min_value=1, max_value=2000) | st.integers(min_value=-5, max_value=2600),
    st.sampled_from(["USD", "USD", "USD", "EUR"]),
)
maybe_money = st.none() | money
text = st.text(max_size=30)

Step = Callable[[Dispute, Context, Any], None]


def _offer_id(d: Dispute, pick: int) -> str:
    return d.pending_offer_id or d.offers[pick % len(d.offers)].id


STEPS: dict[str, tuple[st.SearchStrategy[Any], Step]] = {
    "propose": (
        st.sampled_from([Remedy.REFUND_ONLY, Remedy.PARTIAL_REFUND, Remedy.RETURN_AND_REFUND]).flatmap(
            lambda r: st.tuples(st.just(r), st.builds(Money, st.integers(1, 2000), st.just("USD")))
        )
        | st.tuples(st.just(Remedy.REPLACEMENT), st.none())
        | st.tuples(st.sampled_from(list(Remedy)), maybe_money),
        lambda d, c, a: d.propose_offer(c, a[0], a[1], "n"),
    ),
    "accept": (st.integers(0, 5), lambda d, c, a: d.accept_offer(c, _offer_id(d, a), "", POLICY)),
    "reject": (st.integers(0, 5), lambda d, c, a: d.reject_offer(c, _offer_id(d, a), "no")),
    "evidence": (
        st.integers(1, 30 * 1024 * 1024),
        lambda d, c, a: d.submit_evidence(
            c,
            kind=EvidenceKind.PHOTO,
            description="x",
            sha256=fake_file()[0],
            size=a,
            media_type="image/png",
            blob_key="k",
            policy=POLICY,
        ),
    ),
    "message": (text, lambda d, c, a: d.post_message(c, a or "hi")),
    "escalate": (text, lambda d, c, a: d.escalate(c, a, POLICY)),
    "withdraw": (text, lambda d, c, a: d.withdraw(c, a)),
    "ship": (text, lambda d, c, a: d.ship_return(c, "UPS", a or "1Z", POLICY)),
    "receipt": (
        st.sampled_from(list(ReturnCondition)),
        lambda d, c, a: d.confirm_return_receipt(c, a, "", POLICY),
    ),
    "request": (
        st.tuples(st.sampled_from([Role.BUYER, Role.SELLER]), st.integers(-1, 5)),
        lambda d, c, a: d.request_evidence(c, a[0], "please", timedelta(days=a[1])),
    ),
    "extend": (
        st.tuples(st.sampled_from(list(Deadline)), st.integers(-1, 3)),
        lambda d, c, a: d.extend_deadline(c, a[0], timedelta(days=a[1]), "because"),
    ),
    "ruling": (
        st.tuples(st.sampled_from(list(Outcome)), st.none() | money, st.booleans()),
        lambda d, c, a: d.issue_ruling(c, a[0], a[1], a[2], "decided", POLICY),
    ),
    "appeal": (text, lambda d, c, a: d.appeal_ruling(c, a or "the agent missed my photos", POLICY)),
    "decide_appeal": (
        st.sampled_from(
            [
                (AppealDecision.UPHELD, None, None, None),
                (AppealDecision.OVERTURNED, Outcome.REFUND_FULL, Money(2000, "USD"), True),
                (AppealDecision.OVERTURNED, Outcome.NO_REFUND, None, False),
            ]
        )
        | st.tuples(
            st.sampled_from(list(AppealDecision)),
            st.none() | st.sampled_from(list(Outcome)),
            maybe_money,
            st.none() | st.booleans(),
        ),
        lambda d, c, a: d.decide_appeal(c, a[0], a[1], a[2], a[3], "reviewed again"),
    ),
    "claim": (st.tuples(st.booleans(), text), lambda d, c, a: d.claim(c, a[0], a[1])),
    "release": (text, lambda d, c, a: d.release(c, a)),
    "expire": (st.integers(0, 9), lambda d, c, a: d.expire_deadline(c, _deadline(d, a), POLICY)),
}

# Mostly the actor the spec expects for a step, sometimes anyone at all.
LIKELY = {
    "propose": [BUYER, SELLER],
    "accept": [BUYER, SELLER],
    "reject": [BUYER, SELLER],
    "evidence": [BUYER, SELLER, AGENT],
    "message": [BUYER, SELLER, AGENT],
    "escalate": [BUYER, SELLER],
    "withdraw": [BUYER],
    "ship": [BUYER],
    "receipt": [SELLER],
    "request": [AGENT],
    "extend": [AGENT],
    "ruling": [AGENT],
    "appeal": [BUYER, SELLER],
    "decide_appeal": [OTHER_AGENT],
    "claim": [AGENT, OTHER_AGENT],
    "release": [AGENT, OTHER_AGENT],
    "expire": [SYSTEM],
}


def _deadline(d: Dispute, pick: int) -> Deadline:
    open_deadlines = sorted(d.deadlines)
    return open_deadlines[pick % len(open_deadlines)] if open_deadlines else list(Deadline)[pick]


minutes = st.integers(0, 180) | st.integers(0, 12 * 24 * 60)
# Withdrawal ends a dispute at once, so it is drawn less often than the rest.
WEIGHTED_NAMES = [n for n in sorted(STEPS) for _ in range(1 if n == "withdraw" else 4)]
step = st.sampled_from(WEIGHTED_NAMES).flatmap(
    lambda name: st.tuples(
        st.just(name),
        st.sampled_from(LIKELY[name]) | st.sampled_from(ANYONE),
        STEPS[name][0],
        minutes,
    )
)

COUNTER = ("propose", SELLER, (Remedy.PARTIAL_REFUND, Money(800, "USD")), 10)
RETURN_AGREED = [("propose", SELLER, (Remedy.RETURN_AND_REFUND, Money(1500, "USD")), 10), ("accept", BUYER, 0, 10)]
# Scripted starts, so deep states (returns, review) are explored as often as the opening.
PREFIXES: dict[str, list[Any]] = {
    "awaiting_seller": [],
    "negotiating": [COUNTER],
    "awaiting_return": RETURN_AGREED,
    "return_in_transit": [*RETURN_AGREED, ("ship", BUYER, "1Z", 10)],
    "under_review": [COUNTER, ("escalate", BUYER, "stuck", 10)],
    "ruled": [
        COUNTER,
        ("escalate", BUYER, "stuck", 10),
        ("ruling", AGENT, (Outcome.REFUND_PARTIAL, Money(500, "USD"), True), 10),
    ],
    "under_appeal": [
        COUNTER,
        ("escalate", BUYER, "stuck", 10),
        ("ruling", AGENT, (Outcome.NO_REFUND, None, False), 10),
        ("appeal", BUYER, "the photos show the damage", 10),
    ],
}


def opened(remedy: Remedy, order_id: str, policy: Policy, now: datetime = T0) -> Dispute:
    """A dispute the buyer opens for the mixes: wrong item, 12.00 of the order's amount."""
    return Dispute.open(
        Context(BUYER, now, "r0"),
        order_id=order_id,
        seller_id=SELLER.id,
        reason=Reason.WRONG_ITEM,
        remedy=remedy,
        refund=None if remedy is Remedy.REPLACEMENT else Money(1200, "USD"),
        order_amount=ORDER_AMOUNT,
        description="wrong colour",
        policy=policy,
    )
