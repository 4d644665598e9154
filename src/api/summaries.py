"""Rows of the dispute list read model as response models."""

from __future__ import annotations

from typing import Any

from api.query_schemas import DisputeSummaryOut, SummaryOutcomeOut
from api.schemas import MoneyOut
from projections.db import Row, as_json, as_required_time, as_time


def _money(amount: Any, currency: str) -> MoneyOut | None:
    return None if amount is None else MoneyOut(amount_minor=int(amount), currency=currency)


def summary_out(row: Row) -> DisputeSummaryOut:
    currency = row["currency"]
    outcome = None
    if row["outcome"]:
        at_fault = row["seller_at_fault"]
        outcome = SummaryOutcomeOut(
            how=row["resolved_how"],
            outcome=row["outcome"],
            refund=_money(row["refund_minor"], currency),
            seller_at_fault=None if at_fault is None else bool(at_fault),
        )
    return DisputeSummaryOut(
        id=row["dispute_id"],
        order_id=row["order_id"],
        buyer_id=row["buyer_id"],
        seller_id=row["seller_id"],
        reason=row["reason"],
        status=row["status"],
        party_to_act=row["party_to_act"],
        requested_remedy=row["requested_remedy"],
        requested_refund=_money(row["requested_refund_minor"], currency),
        order_amount=MoneyOut(amount_minor=int(row["order_amount_minor"]), currency=currency),
        escalated=bool(row["escalated"]),
        outcome=outcome,
        deadlines=as_json(row["deadlines"]),
        next_deadline_at=as_time(row["next_deadline_at"]),
        version=int(row["version"]),
        opened_at=as_required_time(row["opened_at"]),
        updated_at=as_required_time(row["updated_at"]),
        closed_at=as_time(row["closed_at"]),
    )
