"""A party who missed a return deadline cannot dodge its automatic outcome by
escalating before the scheduler records the expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.application import DisputeApp
from domain.errors import ActionWindowClosed
from domain.values import Action, Deadline, Status
from support.builders import BUYER, SELLER, Scenario, scenario_in


def past(s: Scenario, app: DisputeApp, deadline: Deadline) -> None:
    s.clock.now = app.dispute(s.id).deadlines[deadline] + timedelta(seconds=1) - s.clock.step


def test_a_seller_who_missed_the_receipt_deadline_cannot_escalate_it_away(app: DisputeApp) -> None:
    """Spec: return receipt not confirmed in time -> resolved with the agreed
    refund, seller at fault; escalating would drop that deadline, so it is refused."""
    s = scenario_in(app, Status.RETURN_IN_TRANSIT)
    past(s, app, Deadline.RETURN_RECEIPT)
    assert Action.ESCALATE not in app.dispute(s.id).allowed_actions(SELLER, s.clock.now + s.clock.step)
    with pytest.raises(ActionWindowClosed):
        app.escalate(s.id, s.clock.ctx(SELLER), "never got it")


def test_a_buyer_who_missed_the_shipping_deadline_cannot_escalate_it_away(app: DisputeApp) -> None:
    """Spec: return not shipped in time -> resolved no_refund, buyer's fault."""
    s = scenario_in(app, Status.AWAITING_RETURN)
    past(s, app, Deadline.RETURN_SHIPPING)
    with pytest.raises(ActionWindowClosed):
        app.escalate(s.id, s.clock.ctx(BUYER), "courier lost my label")
