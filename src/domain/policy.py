"""Configured durations and limits the aggregate decides with.

Domain code never reads the clock or the environment: the application is
given a Policy (built from settings) and passes the time of each command in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

MAX_TEXT = 2000
MAX_SHORT_TEXT = 255
MAX_AMOUNT_MINOR = 10**15  # minor units: fits a bigint, with room for sums


@dataclass(frozen=True)
class Policy:
    seller_response_window: timedelta = timedelta(days=5)
    negotiation_window: timedelta = timedelta(days=15)
    return_shipping_window: timedelta = timedelta(days=10)
    return_receipt_window: timedelta = timedelta(days=10)
    evidence_window: timedelta = timedelta(days=7)
    review_sla: timedelta = timedelta(days=7)
    appeal_window: timedelta = timedelta(days=10)
    max_evidence_bytes_per_party: int = 50 * 1024 * 1024
    max_messages_per_dispute: int = 1000
