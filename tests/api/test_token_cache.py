"""A token is verified once and then remembered until its `exp`: the cache
never accepts what verification would refuse."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api import auth
from api.problems import ApiProblem
from domain.values import Role

SECRET = "test-secret-0123456789abcdef0123456789"


def test_a_remembered_token_gives_the_same_actor_without_verifying_again(monkeypatch: pytest.MonkeyPatch) -> None:
    header = f"Bearer {auth.mint(SECRET, Role.SELLER, 'seller-cache')}"
    first = auth.actor_from_header(header, SECRET)
    monkeypatch.setattr(auth, "_verify", lambda *_: pytest.fail("verified twice"))
    assert auth.actor_from_header(header, SECRET) == first


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    header = f"Bearer {auth.mint(SECRET, Role.BUYER, 'buyer-cache', timedelta(seconds=30))}"
    auth.actor_from_header(header, SECRET)
    later = auth.time.time() + 31
    monkeypatch.setattr(auth.time, "time", lambda: later)
    with pytest.raises(ApiProblem) as refused:
        auth.actor_from_header(header, SECRET)
    assert refused.value.status == 401


def test_a_token_remembered_under_one_secret_is_not_accepted_under_another() -> None:
    header = f"Bearer {auth.mint(SECRET, Role.BUYER, 'buyer-cache-2')}"
    auth.actor_from_header(header, SECRET)
    with pytest.raises(ApiProblem):
        auth.actor_from_header(header, "another-secret-0123456789abcdef0123")
