"""Orders as the entry points use them: putting one (with the position of the
event that recorded its current terms, also when this call recorded nothing),
reading one, and importing many from JSON lines (`disputes orders import`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError
from domain.order import Order, OrderTerms
from domain.order_book import OrderBook
from domain.values import Actor, Context
from service.recorded import positioned


@dataclass(frozen=True)
class PutOutcome:
    order: Order
    changed: bool
    """False: the same terms again, nothing recorded."""
    position: int
    """The global position of the order's last event."""


@dataclass(frozen=True)
class LineResult:
    number: int
    changed: bool | None
    """True: recorded an event; False: the same terms again; None: refused."""
    problem: str | None


ParsedLine = tuple[str, OrderTerms]
Parse = Callable[[str], ParsedLine]
"""Reads one line into (order_id, terms), raising ValueError with a reason."""


@dataclass
class Orders:
    book: OrderBook

    def put(self, ctx: Context, order_id: str, terms: OrderTerms) -> PutOutcome:
        result = self.book.put(ctx, order_id, terms)
        position = result.position if result.position is not None else self.last_position(result.order)
        return PutOutcome(result.order, result.changed, position)

    def get(self, order_id: str, actor: Actor) -> Order:
        return self.book.order_for(order_id, actor)

    def last_position(self, order: Order) -> int:
        stored = positioned(self.book.app).select_events_with_positions(order.id, gt=order.version - 1, limit=1)
        return stored[0].id

    def import_lines(
        self,
        lines: Iterable[str],
        parse: Parse,
        ctx_for: Callable[[int], Context],
        progress: Callable[[], None] = lambda: None,
    ) -> Iterator[LineResult]:
        """Put each non-blank line's order, in file order, and say what became of
        it. A bad line is reported and never stops the lines after it: each good
        line is its own command, committed on its own."""
        for number, line in enumerate(lines, start=1):
            progress()
            if not line.strip():
                continue
            try:
                order_id, terms = parse(line)
                outcome = self.put(ctx_for(number), order_id, terms)
            except ValueError as e:
                yield LineResult(number, None, str(e))
            except DomainError as e:
                yield LineResult(number, None, f"{e.code}: {e.detail}")
            else:
                yield LineResult(number, outcome.changed, None)


def now_context(actor: Actor, clock: Callable[[], datetime], request_id: str) -> Callable[[int], Context]:
    """The context of each imported line: the platform's actor, the time it is
    put, and a request id naming the file's line."""
    return lambda number: Context(actor, clock(), request_id=f"{request_id}:{number}")
