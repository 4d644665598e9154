"""The domain's own application on eventsourcing's in-memory store: no
bootstrap, no settings, no store of ours. The domain tier runs on this."""

from __future__ import annotations

from domain.application import DisputeApp
from domain.policy import Policy


def in_memory_app(snapshot_interval: int = 0, policy: Policy | None = None) -> DisputeApp:
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo", "TRANSCODER_TOPIC": "domain.transcodings:DisputeTranscoder"}
    if snapshot_interval > 0:
        env |= {"IS_SNAPSHOTTING_ENABLED": "y", "SNAPSHOT_INTERVAL": str(snapshot_interval)}
    return DisputeApp(env=env, policy=policy or Policy())
