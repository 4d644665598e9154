"""A dispute holds at most `Policy.max_messages_per_dispute` messages."""

from __future__ import annotations

import pytest

from domain.errors import MessageLimitReached
from domain.policy import Policy
from support.builders import AGENT, BUYER, SELLER, Scenario
from support.domain_app import in_memory_app


def test_a_message_past_the_policy_limit_is_refused_with_message_limit() -> None:
    app = in_memory_app(policy=Policy(max_messages_per_dispute=3))
    s = Scenario(app).open()
    for actor in (BUYER, SELLER, AGENT):
        app.post_message(s.id, s.clock.ctx(actor), f"from {actor.id}")
    before = app.dispute(s.id).version
    with pytest.raises(MessageLimitReached) as refused:
        app.post_message(s.id, s.clock.ctx(BUYER), "one too many")
    assert refused.value.code == "message_limit"
    assert app.dispute(s.id).version == before


def test_the_default_limit_is_a_thousand_messages() -> None:
    assert Policy().max_messages_per_dispute == 1000
