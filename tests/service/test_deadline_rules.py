"""Once a deadline is due, the actions it closes are refused, even before the
scheduler records the expiry: a late answer never beats a missed deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.application import DisputeApp
from domain.errors import ActionWindowClosed
from domain.values import Action, Deadline, Remedy, ReturnCondition, Status
from support.builders import AGENT, BUYER, SELLER, SYSTEM, Scenario, scenario_in, usd


def past(s: Scenario, app: DisputeApp, deadline: Deadline) -> None:
    """Move the scenario's clock just past `deadline` (which stays open: no scheduler here)."""
    s.clock.now = app.dispute(s.id).deadlines[deadline] + timedelta(seconds=1) - s.clock.step


def test_a_seller_answering_after_the_response_window_is_refused(app: DisputeApp) -> None:
    s = Scenario(app).open()
    past(s, app, Deadline.SELLER_RESPONSE)
    with pytest.raises(ActionWindowClosed):
        app.accept_offer(s.id, s.clock.ctx(SELLER), s.pending_offer_id(), "too late")
    assert Action.ACCEPT_OFFER not in app.dispute(s.id).allowed_actions(SELLER, s.clock.now + s.clock.step)
    app.expire_deadline(s.id, s.clock.ctx(SYSTEM), Deadline.SELLER_RESPONSE)
    assert app.dispute(s.id).status is Status.RESOLVED


def test_offers_are_refused_once_the_negotiation_window_ends_but_escalation_is_not(app: DisputeApp) -> None:
    s = scenario_in(app, Status.NEGOTIATING)
    past(s, app, Deadline.NEGOTIATION)
    with pytest.raises(ActionWindowClosed):
        app.propose_offer(s.id, s.clock.ctx(BUYER), Remedy.PARTIAL_REFUND, usd(900), "")
    app.escalate(s.id, s.clock.ctx(BUYER), "time is up anyway")
    assert app.dispute(s.id).status is Status.UNDER_REVIEW


def test_a_return_shipped_after_its_deadline_is_refused(app: DisputeApp) -> None:
    s = scenario_in(app, Status.AWAITING_RETURN)
    past(s, app, Deadline.RETURN_SHIPPING)
    with pytest.raises(ActionWindowClosed):
        app.ship_return(s.id, s.clock.ctx(BUYER), "UPS", "1Z-late")


def test_a_receipt_confirmed_after_its_deadline_is_refused(app: DisputeApp) -> None:
    s = scenario_in(app, Status.RETURN_IN_TRANSIT)
    past(s, app, Deadline.RETURN_RECEIPT)
    with pytest.raises(ActionWindowClosed):
        app.confirm_return_receipt(s.id, s.clock.ctx(SELLER), ReturnCondition.RECEIVED_OK, "late")


def test_an_agent_extension_reopens_the_window(app: DisputeApp) -> None:
    s = Scenario(app).open()
    past(s, app, Deadline.SELLER_RESPONSE)
    app.extend_deadline(s.id, s.clock.ctx(AGENT), Deadline.SELLER_RESPONSE, timedelta(days=1), "holiday")
    app.accept_offer(s.id, s.clock.ctx(SELLER), s.pending_offer_id(), "thanks for the extra day")
    assert app.dispute(s.id).status is Status.RESOLVED
