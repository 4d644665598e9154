"""The cast of the demo: sellers with a behaviour each, buyers, agents, and the
orders that go wrong (when, for how much, in which currency, and why)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.values import Money, Reason


class Behaviour(StrEnum):
    RESPONSIVE = "responsive"
    """Answers within hours and settles generously."""
    HAGGLER = "haggler"
    """Answers, but counters, rejects and lets disputes go to an agent."""
    UNRESPONSIVE = "unresponsive"
    """Rarely answers: deadlines decide most of its disputes."""
    AT_FAULT = "at_fault"
    """Ships the wrong thing, never confirms returns, is often ruled against."""


SHARE_OF_SELLERS = {
    Behaviour.RESPONSIVE: 4,
    Behaviour.HAGGLER: 3,
    Behaviour.UNRESPONSIVE: 2,
    Behaviour.AT_FAULT: 2,
}
ADJECTIVES = ("blue", "north", "bright", "quiet", "rapid", "golden", "urban", "little", "prime", "coastal", "retro")
NOUNS = ("harbor", "gadgets", "threads", "pantry", "outfitters", "depot", "bazaar", "lab", "studio", "works", "mart")
CURRENCIES = (("USD", 100, 55), ("EUR", 100, 25), ("GBP", 100, 12), ("JPY", 1, 8))
"""Currency, minor units per unit, share of orders."""
REASONS = {
    Reason.NOT_RECEIVED: 18,
    Reason.NOT_AS_DESCRIBED: 16,
    Reason.DAMAGED: 15,
    Reason.QUALITY_ISSUE: 12,
    Reason.WRONG_ITEM: 10,
    Reason.MISSING_PARTS: 9,
    Reason.RETURNED_TO_SENDER: 7,
    Reason.CUSTOMS_HELD: 6,
    Reason.FAKE_TRACKING: 7,
}
AGENTS = ("agent-ana", "agent-bo", "agent-chen", "agent-dara", "agent-eli")


@dataclass(frozen=True)
class Seller:
    id: str
    behaviour: Behaviour
    weight: float
    """How many orders it sells, relatively: a few large sellers, many small ones."""


@dataclass(frozen=True)
class Cast:
    sellers: tuple[Seller, ...]
    buyers: tuple[str, ...]
    agents: tuple[str, ...] = AGENTS

    @classmethod
    def draw(cls, rng: random.Random, disputes: int) -> Cast:
        count = max(len(Behaviour) * 2, min(60, disputes // 8))
        behaviours = [b for b, share in SHARE_OF_SELLERS.items() for _ in range(share)]
        sellers = []
        for i in range(count):
            # The first sellers cover every behaviour; the rest are drawn by share.
            behaviour = list(Behaviour)[i] if i < len(Behaviour) else rng.choice(behaviours)
            name = f"seller-{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}-{i + 1:02d}"
            sellers.append(Seller(name, behaviour, weight=1 / (1 + i) ** 0.6))
        buyers = tuple(f"buyer-{i + 1:04d}" for i in range(max(10, disputes * 2 // 3)))
        return cls(tuple(sellers), buyers)

    def seller(self, rng: random.Random) -> Seller:
        return rng.choices(self.sellers, weights=[s.weight for s in self.sellers])[0]

    def buyer(self, rng: random.Random, seller: Seller) -> str:
        while True:
            buyer = rng.choice(self.buyers)
            if buyer != seller.id:
                return buyer


def order_amount(rng: random.Random) -> Money:
    currency, per_unit, _ = rng.choices(CURRENCIES, weights=[c[2] for c in CURRENCIES])[0]
    units = math.exp(rng.uniform(math.log(6), math.log(600)))  # log-uniform: many cheap orders, a few dear ones
    if currency == "JPY":
        units *= 150
    return Money(max(10, int(round(units * per_unit, -1))), currency)


def reason(rng: random.Random, allowed: tuple[Reason, ...]) -> Reason:
    return rng.choices(allowed, weights=[REASONS[r] for r in allowed])[0]


def opening_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """When an order goes wrong: more disputes lately (the marketplace grows),
    more on Mondays and fewer at weekends, mostly in the daytime."""
    span = (end - start).total_seconds()
    while True:
        share = rng.random()
        at = start + timedelta(seconds=span * share)
        weekday = (1.3, 1.1, 1.0, 1.0, 0.95, 0.6, 0.55)[at.weekday()]
        daytime = 1.0 if 7 <= at.hour < 23 else 0.25
        if rng.random() * 2.2 < (0.6 + share) * weekday * daytime:
            return at
