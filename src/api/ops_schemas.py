"""The response of `GET /v1/ops/status`: what the operations page of the console shows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api import examples as ex

OPS_STATUS = {
    "checked_at": "2026-11-29T21:51:52Z",
    "head_position": 1204,
    "views": {
        "timeline": {"position": 1204, "lag": 0, "status": "running", "fault_position": None, "fault_error": None},
        "dispute_list": {"position": 1190, "lag": 14, "status": "running", "fault_position": None, "fault_error": None},
    },
    "scheduler": {"overdue": 1, "delay_seconds": 2.5, "next_due_at": "2026-11-29T21:51:49.500000Z"},
    "webhooks": {"subscriptions": 3, "behind": 1, "backlog": 12, "disabled": 0},
    "checkpoint": {
        "tree_size": 1190,
        "root_hash": "NtD+ogq3MNtXIJntN48rZ4UHG8fjxwlQE9ns1wTr3eU=",
        "issued_at": "2026-11-29T21:51:07Z",
        "age_seconds": 45.0,
        "tree_size_now": 1204,
        "unsigned_leaves": 14,
    },
}


class SchedulerStatus(BaseModel):
    overdue: int = Field(description="open deadlines already past due (the scheduler has not expired them yet)")
    delay_seconds: float = Field(description="how long the longest overdue deadline has been due; 0 when none is")
    next_due_at: datetime | None = Field(description="the earliest open deadline, due or not; null when none is open")


class WebhookStatus(BaseModel):
    subscriptions: int = Field(description="enabled subscriptions")
    behind: int = Field(description="enabled subscriptions that have events still to deliver")
    backlog: int = Field(description="events still to deliver, summed over the enabled subscriptions")
    disabled: int = Field(description="subscriptions disabled (by their owner or after repeated failures)")


class CheckpointStatus(BaseModel):
    tree_size: int = Field(description="leaves the latest signed checkpoint covers")
    root_hash: str = Field(description="its root hash, base64")
    issued_at: datetime
    age_seconds: float = Field(description="seconds since it was issued")
    tree_size_now: int = Field(description="leaves in the transparency log's tree now")
    unsigned_leaves: int = Field(description="leaves the tree took in since that checkpoint (the next one signs them)")


class OpsStatus(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(OPS_STATUS))
    checked_at: datetime
    head_position: int = Field(description="position of the last recorded event")
    views: dict[str, dict[str, int | str | None]] = Field(
        description="per read model: position, lag, status (`running` or `faulted`), fault_position, fault_error",
    )
    scheduler: SchedulerStatus
    webhooks: WebhookStatus
    checkpoint: CheckpointStatus | None = Field(
        default=None, description="the transparency log's latest signed checkpoint; null while none was issued"
    )
