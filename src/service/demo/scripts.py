"""What happens in a dispute: a table of weighted scripts.

Each script plays one course a dispute can take, from the buyer's opening
request to wherever it ends (or to the end of the simulation: recent disputes
stay open). A dispute's seller is drawn first; the scripts its behaviour plays
are then drawn by weight, so a responsive seller mostly settles, an
unresponsive one lets deadlines decide and one often at fault ends up ruled
against. A new course is a function and a row in SCRIPTS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.values import AppealDecision, Deadline, EvidenceKind, Outcome, Reason, Remedy, ReturnCondition, Role
from service.demo.life import Life
from service.demo.population import Behaviour

B, S, A = Role.BUYER, Role.SELLER, Role.AGENT
EVERY_REASON = tuple(Reason)
ITEM_IN_HAND = (
    Reason.NOT_AS_DESCRIBED,
    Reason.QUALITY_ISSUE,
    Reason.WRONG_ITEM,
    Reason.DAMAGED,
    Reason.MISSING_PARTS,
)
"""Reasons for which there is something to send back or photograph."""
NOT_ARRIVED = (Reason.NOT_RECEIVED, Reason.RETURNED_TO_SENDER, Reason.CUSTOMS_HELD, Reason.FAKE_TRACKING)
REFUNDS = (Remedy.REFUND_ONLY, Remedy.PARTIAL_REFUND)


def buyer_shows_it(life: Life) -> None:
    """What a buyer attaches right after opening, by reason."""
    reason = life.dispute.reason
    if reason is Reason.DAMAGED:
        life.evidence(B, EvidenceKind.PHOTO, "The box arrived crushed, the item is broken")
    elif reason in ITEM_IN_HAND:
        life.evidence(B, EvidenceKind.PHOTO, "What I received, next to the listing")
    else:
        life.evidence(B, EvidenceKind.SCREENSHOT, "The carrier's tracking page")
    if life.rng.random() < 0.35:
        life.evidence(B, EvidenceKind.ORDER_CONFIRMATION, "My order confirmation")


def seller_proof(life: Life) -> None:
    if life.dispute.reason in NOT_ARRIVED:
        life.evidence(S, EvidenceKind.TRACKING, "Carrier's proof of delivery")
    else:
        life.evidence(S, EvidenceKind.RECEIPT, "Packing slip and dispatch receipt")


# ---------------------------------------------------------------- agreement
def accepts_request(life: Life) -> None:
    buyer_shows_it(life)
    life.wait_within(Deadline.SELLER_RESPONSE, 0.01, 0.3)
    if life.rng.random() < 0.3:
        life.say(S, "Could you tell us the batch number on the label?")
        life.wait_hours(1, 12)
        life.say(B, "It says B-1142.")
        life.wait_hours(0.5, 6)
    if life.rng.random() < 0.5:
        life.say(S, "Sorry about this, we will make it right.")
    life.accept(S, "Accepted as requested")


def counter_then_accept(life: Life) -> None:
    buyer_shows_it(life)
    life.wait_within(Deadline.SELLER_RESPONSE, 0.05, 0.6)
    life.say(S, "We can offer part of the price back; the item is still usable.")
    life.offer(S, Remedy.PARTIAL_REFUND, life.share(0.3, 0.7), "Partial refund, keep the item")
    life.wait_hours(1, 48)
    if life.rng.random() < 0.4:
        life.say(B, "Could you do a little more? It really is not usable as it is.")
        life.wait_hours(1, 20)
        life.say(S, "Sorry, that is the best we can do on this one.")
        life.wait_hours(1, 20)
    life.accept(B, "OK, that works for me")


def haggle(life: Life) -> None:
    buyer_shows_it(life)
    life.wait_within(Deadline.SELLER_RESPONSE, 0.1, 0.8)
    life.reject(S, "The listing was accurate; we cannot refund in full")
    life.say(S, "Every unit is checked before it ships.")
    life.wait_hours(2, 30)
    life.say(B, "The photos speak for themselves.")
    life.offer(B, Remedy.PARTIAL_REFUND, life.share(0.6, 0.9), "Meet me part of the way")
    life.wait_hours(2, 40)
    life.offer(S, Remedy.PARTIAL_REFUND, life.share(0.2, 0.45), "This is what we can do")
    life.wait_hours(1, 30)
    life.reject(B, "Too little for what arrived")
    life.wait_hours(2, 40)
    seller_proof(life)
    life.offer(S, Remedy.PARTIAL_REFUND, life.share(0.45, 0.6), "Final offer")
    life.wait_hours(1, 24)
    life.accept(B, "Fine, let's close this")


def replacement_sent(life: Life) -> None:
    buyer_shows_it(life)
    life.wait_within(Deadline.SELLER_RESPONSE, 0.05, 0.5)
    if life.dispute.requested_remedy is not Remedy.REPLACEMENT:
        life.offer(S, Remedy.REPLACEMENT, None, "We will send a new one today")
        life.wait_hours(1, 30)
        life.accept(B, "A replacement is fine")
    else:
        life.accept(S, "Replacement on its way")


# ------------------------------------------------------------------ returns
def agree_on_return(life: Life) -> None:
    buyer_shows_it(life)
    life.wait_within(Deadline.SELLER_RESPONSE, 0.05, 0.5)
    if life.dispute.requested_remedy is Remedy.RETURN_AND_REFUND:
        life.accept(S, "Please send it back, label attached")
    else:
        life.offer(S, Remedy.RETURN_AND_REFUND, life.order, "Full refund once it is back with us")
        life.wait_hours(1, 30)
        life.accept(B, "I will send it back")


def return_completed(life: Life) -> None:
    agree_on_return(life)
    life.wait_within(Deadline.RETURN_SHIPPING, 0.05, 0.6)
    life.ship_return()
    life.wait_within(Deadline.RETURN_RECEIPT, 0.1, 0.8)
    life.confirm_receipt(ReturnCondition.RECEIVED_OK, "Received in good condition, refund issued")


def return_disputed(life: Life) -> None:
    agree_on_return(life)
    life.wait_within(Deadline.RETURN_SHIPPING, 0.1, 0.7)
    life.ship_return()
    life.wait_within(Deadline.RETURN_RECEIPT, 0.2, 0.9)
    condition = life.rng.choice((ReturnCondition.RECEIVED_DAMAGED, ReturnCondition.WRONG_ITEM_RETURNED))
    life.confirm_receipt(condition, "This is not what we sent out")
    life.wait_within(Deadline.REVIEW_SLA, 0.05, 0.3)
    life.request_evidence(S, "Photos of the returned parcel as it arrived, please", days=3)
    life.wait_hours(2, 40)
    life.evidence(S, EvidenceKind.PHOTO, "The returned parcel, opened")
    life.wait_within(Deadline.REVIEW_SLA, 0.2, 0.8)
    if life.rng.random() < 0.5:
        life.rule(Outcome.REFUND_PARTIAL, life.share(0.3, 0.7), False, "Damage shared between carrier and buyer")
    else:
        life.rule(Outcome.REFUND_FULL, None, True, "The seller's photos do not show return damage")


def return_never_shipped(life: Life) -> None:
    agree_on_return(life)
    if life.rng.random() < 0.5:
        life.wait_hours(24, 120)
        life.say(S, "Have you sent it yet? The label expires soon.")
    life.run_out()


def return_never_confirmed(life: Life) -> None:
    agree_on_return(life)
    life.wait_within(Deadline.RETURN_SHIPPING, 0.1, 0.6)
    life.ship_return()
    life.wait_hours(72, 160)
    life.say(B, "Tracking says you received it a while ago. Where is my refund?")
    life.run_out()


# --------------------------------------------------------------- deadlines
def silent_seller(life: Life) -> None:
    buyer_shows_it(life)
    life.wait_hours(24, 80)
    life.say(B, "Hello? I have not heard anything yet.")
    life.run_out()


def negotiation_runs_out(life: Life) -> None:
    buyer_shows_it(life)
    life.wait_within(Deadline.SELLER_RESPONSE, 0.2, 0.9)
    life.offer(S, Remedy.PARTIAL_REFUND, life.share(0.1, 0.3), "That is all we can offer")
    life.wait_hours(4, 48)
    life.reject(B, "Not acceptable")
    life.wait_past(Deadline.NEGOTIATION)  # nobody moves: the system actor escalates
    life.wait_within(Deadline.REVIEW_SLA, 0.1, 0.9)
    at_fault = life.rng.random() < 0.6
    outcome = Outcome.REFUND_FULL if at_fault else Outcome.REFUND_PARTIAL
    life.rule(outcome, life.share(0.4, 0.6), at_fault, "Neither side moved; decided on the evidence")


# ------------------------------------------------------------------ rulings
def ruled_for_buyer(life: Life) -> None:
    buyer_shows_it(life)
    life.wait_within(Deadline.SELLER_RESPONSE, 0.3, 0.9)
    life.offer(S, Remedy.PARTIAL_REFUND, life.share(0.05, 0.2), "Take it or leave it")
    life.wait_hours(2, 30)
    life.reject(B, "That is nowhere near the price")
    life.wait_hours(1, 20)
    life.evidence(B, EvidenceKind.COMMUNICATION, "Our conversation before the order")
    life.escalate(B, "The seller will not offer a fair refund")
    life.wait_within(Deadline.REVIEW_SLA, 0.05, 0.3)
    life.say(A, "I am reviewing this dispute and will decide within the week.")
    life.request_evidence(S, "Proof of what was shipped, please", days=2)
    life.say(A, "I have asked the seller for proof of shipment.", to=B)
    life.wait_past(Deadline.EVIDENCE_REQUEST_SELLER)  # the seller never sends it
    life.rule(Outcome.REFUND_FULL, None, True, "The seller did not show what was shipped")


def ruled_for_seller(life: Life) -> None:
    buyer_shows_it(life)
    life.wait_within(Deadline.SELLER_RESPONSE, 0.05, 0.6)
    seller_proof(life)
    life.reject(S, "Our records show this order was fulfilled as listed")
    life.wait_hours(2, 40)
    life.escalate(B, "I want an agent to look at this")
    life.say(B, "The seller's document is for another parcel.")
    life.wait_within(Deadline.REVIEW_SLA, 0.05, 0.4)
    life.request_evidence(B, "Anything showing the problem you describe", days=3)
    life.wait_hours(3, 48)
    life.evidence(B, EvidenceKind.SCREENSHOT, "Screenshot of my messages")
    life.evidence(A, EvidenceKind.OTHER, "Carrier's investigation report")
    life.wait_within(Deadline.REVIEW_SLA, 0.2, 0.8)
    life.rule(Outcome.NO_REFUND, None, False, "Delivery and contents are confirmed by the carrier")


def review_overdue(life: Life) -> None:
    buyer_shows_it(life)
    life.wait_within(Deadline.SELLER_RESPONSE, 0.1, 0.8)
    life.offer(S, Remedy.PARTIAL_REFUND, life.share(0.2, 0.5), "Half way")
    life.wait_hours(2, 30)
    life.offer(B, Remedy.PARTIAL_REFUND, life.share(0.7, 0.95), "Almost all of it")
    life.wait_hours(2, 30)
    life.escalate(S, "The buyer will not accept a reasonable offer")
    life.say(S, "We offered half; the item was used for a month.")
    if life.rng.random() < 0.5:
        life.wait_within(Deadline.REVIEW_SLA, 0.5, 0.9)
        life.extend(Deadline.REVIEW_SLA, 3, "Waiting for the carrier's report")
        life.wait_within(Deadline.REVIEW_SLA, 0.3, 0.9)
    else:
        life.wait_past(Deadline.REVIEW_SLA)  # the queue was long: the SLA is breached
    life.rule(Outcome.REFUND_PARTIAL, life.share(0.4, 0.7), life.rng.random() < 0.5, "Split the difference")


# ------------------------------------------------------------------ appeals
def appeal_upheld(life: Life) -> None:
    """Ruled against the seller, who appeals; another agent upholds the ruling."""
    ruled_for_buyer(life)
    life.wait_within(Deadline.APPEAL_WINDOW, 0.1, 0.8)
    life.appeal(S, "The ruling ignores that the buyer refused a fair offer")
    life.evidence(S, EvidenceKind.RECEIPT, "Dispatch receipt, sent after the ruling")
    life.wait_within(Deadline.APPEAL_REVIEW, 0.2, 0.9)
    life.decide_appeal(AppealDecision.UPHELD, rationale="The seller still does not show what was shipped")


def appeal_overturned(life: Life) -> None:
    """Ruled against the buyer, who appeals with new evidence; another agent
    overturns the ruling, sometimes after the appeal's review target passed."""
    ruled_for_seller(life)
    life.wait_within(Deadline.APPEAL_WINDOW, 0.1, 0.8)
    life.appeal(B, "The carrier's report is for another parcel")
    life.evidence(B, EvidenceKind.PHOTO, "The parcel label, with another tracking number")
    if life.rng.random() < 0.5:
        life.wait_past(Deadline.APPEAL_REVIEW)  # a long appeals queue: its target is breached
    else:
        life.wait_within(Deadline.APPEAL_REVIEW, 0.3, 0.9)
    if life.rng.random() < 0.5:
        outcome, refund = Outcome.REFUND_FULL, None
    else:
        outcome, refund = Outcome.REFUND_PARTIAL, life.share(0.4, 0.8)
    life.decide_appeal(AppealDecision.OVERTURNED, outcome, refund, True, "The label shows another parcel")


def handed_over(life: Life) -> None:
    """Escalated; the first agent claims it, then releases it to the queue, and
    another agent takes it up and rules."""
    buyer_shows_it(life)
    life.wait_within(Deadline.SELLER_RESPONSE, 0.2, 0.8)
    life.offer(S, Remedy.PARTIAL_REFUND, life.share(0.1, 0.3), "A small gesture")
    life.wait_hours(2, 30)
    life.escalate(B, "The seller's offer does not cover the problem")
    life.wait_within(Deadline.REVIEW_SLA, 0.05, 0.3)
    life.say(A, "I am looking into this dispute.")
    life.wait_within(Deadline.REVIEW_SLA, 0.1, 0.4)
    life.release("Out of office: back to the queue")
    life.wait_hours(1, 24)
    life.say(A, "I have taken over this dispute from my colleague.")
    life.wait_within(Deadline.REVIEW_SLA, 0.2, 0.8)
    at_fault = life.rng.random() < 0.5
    life.rule(Outcome.REFUND_PARTIAL, life.share(0.3, 0.7), at_fault, "Part of the price back for the trouble")


# -------------------------------------------------------------- withdrawals
def found_it(life: Life) -> None:
    life.wait_hours(2, 90)
    if life.rng.random() < 0.5:
        life.say(S, "The carrier shows it is on its way, please give it a few more days.")
        life.wait_hours(12, 60)
    life.withdraw("The parcel arrived after all")


def talked_round(life: Life) -> None:
    buyer_shows_it(life)
    life.wait_within(Deadline.SELLER_RESPONSE, 0.05, 0.5)
    life.say(S, "This model works that way by design; see page 4 of the manual.")
    seller_proof(life)
    life.wait_hours(2, 48)
    life.say(B, "I see, thanks for explaining.")
    life.withdraw("Misunderstanding, sorted out with the seller")


@dataclass(frozen=True)
class Script:
    name: str
    play: Callable[[Life], None]
    weights: dict[Behaviour, int]
    """How often a seller of each behaviour ends up in it (absent: never)."""
    remedies: tuple[Remedy, ...]
    """What the buyer may ask for when opening."""
    reasons: tuple[Reason, ...] = EVERY_REASON


R, H, U, F = Behaviour.RESPONSIVE, Behaviour.HAGGLER, Behaviour.UNRESPONSIVE, Behaviour.AT_FAULT
SCRIPTS: tuple[Script, ...] = (
    Script("accepts_request", accepts_request, {R: 12, H: 2, F: 2}, (*REFUNDS, Remedy.REPLACEMENT)),
    Script("counter_then_accept", counter_then_accept, {R: 5, H: 6, F: 2}, (Remedy.REFUND_ONLY, Remedy.REPLACEMENT)),
    Script("haggle", haggle, {H: 6, F: 2}, (Remedy.REFUND_ONLY, Remedy.RETURN_AND_REFUND)),
    Script("replacement_sent", replacement_sent, {R: 4, H: 1}, (Remedy.REPLACEMENT, Remedy.REFUND_ONLY), ITEM_IN_HAND),
    Script("return_completed", return_completed, {R: 6, H: 4, F: 1}, (Remedy.RETURN_AND_REFUND,), ITEM_IN_HAND),
    Script("return_disputed", return_disputed, {H: 2, F: 4}, (Remedy.RETURN_AND_REFUND,), ITEM_IN_HAND),
    Script("return_never_shipped", return_never_shipped, {R: 1, H: 2, U: 1, F: 1}, (*REFUNDS,), ITEM_IN_HAND),
    Script("return_never_confirmed", return_never_confirmed, {U: 3, F: 4}, (Remedy.RETURN_AND_REFUND,), ITEM_IN_HAND),
    Script("silent_seller", silent_seller, {U: 12, F: 3}, (*REFUNDS, Remedy.REPLACEMENT)),
    Script("negotiation_runs_out", negotiation_runs_out, {H: 3, U: 3, F: 1}, (*REFUNDS,)),
    Script("ruled_for_buyer", ruled_for_buyer, {H: 1, U: 1, F: 6}, (Remedy.REFUND_ONLY,)),
    Script("ruled_for_seller", ruled_for_seller, {R: 3, H: 4}, (*REFUNDS,), (*NOT_ARRIVED, Reason.NOT_AS_DESCRIBED)),
    Script("review_overdue", review_overdue, {H: 2, U: 1, F: 2}, (*REFUNDS,)),
    Script("appeal_upheld", appeal_upheld, {H: 1, U: 1, F: 3}, (Remedy.REFUND_ONLY,)),
    Script("appeal_overturned", appeal_overturned, {R: 2, H: 2}, (*REFUNDS,), (*NOT_ARRIVED, Reason.NOT_AS_DESCRIBED)),
    Script("handed_over", handed_over, {R: 1, H: 2, F: 1}, (*REFUNDS,)),
    Script("found_it", found_it, {R: 2, H: 2, U: 2, F: 1}, (*REFUNDS, Remedy.REPLACEMENT), NOT_ARRIVED),
    Script("talked_round", talked_round, {R: 2, H: 2}, (*REFUNDS,), ITEM_IN_HAND),
)


def scripts_for(behaviour: Behaviour) -> tuple[list[Script], list[int]]:
    playing = [s for s in SCRIPTS if behaviour in s.weights]
    return playing, [s.weights[behaviour] for s in playing]
