"""Tampering with the event table after a checkpoint was taken is detected by
`disputes audit verify-log` against that checkpoint (kept outside the
database), naming the first bad position, on SQLite and on Postgres; and
`/history` flags the edited events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from bootstrap import build_app
from domain.chain import next_chain_hash
from service.checkpoints import resolve_signer
from service.recorded import recorded_events
from service.settings import Settings
from support.audit import client, headers, long_dispute, overwrite_state, run_cli, sql_events, stored_id, stored_state
from support.builders import Scenario
from support.stores import settings_for

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Log:
    settings: Settings
    first: UUID  # positions 1-2
    long: UUID  # positions 3-16
    last: UUID  # positions 17-18
    checkpoint: Path
    vkey: str

    def verify_log(self) -> Any:
        return run_cli(self.settings, "verify-log", "--checkpoint", str(self.checkpoint), "--key", self.vkey)

    def position(self, dispute_id: UUID, version: int) -> int:
        column = "rowid" if self.settings.backend == "sqlite" else "notification_id"
        rows = sql_events(
            self.settings,
            f"SELECT {column} FROM {{events}} WHERE originator_id = %s AND originator_version = %s",
            stored_id(self.settings, dispute_id),
            version,
        )
        return int(rows[0][0])

    def history(self, dispute_id: UUID) -> list[dict[str, Any]]:
        with client(self.settings) as c:
            response = c.get(f"/v1/disputes/{dispute_id}/history?limit=100", headers=headers(self.settings))
        assert response.status_code == 200, response.text
        return response.json()["items"]  # type: ignore[no-any-return]


@pytest.fixture(params=STORES)
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Log]:
    settings = settings_for(request.param, tmp_path, request)
    app = build_app(settings)
    first = Scenario(app).open().seller_counters().id
    long = long_dispute(app).id
    last = Scenario(app).open().seller_counters().id
    app.close()
    issued = run_cli(settings, "checkpoint")
    assert issued.exit_code == 0, issued.output
    assert issued.stdout.split("\n")[:2] == ["disputes.local/log", "18"]
    checkpoint = tmp_path / "outside" / "18.txt"
    checkpoint.parent.mkdir()
    checkpoint.write_text(issued.stdout)
    yield Log(settings, first, long, last, checkpoint, resolve_signer(settings).verifier.vkey)


def delete_a_whole_dispute(log: Log) -> int:
    expected = log.position(log.first, 1)
    sql_events(log.settings, "DELETE FROM {events} WHERE originator_id = %s", stored_id(log.settings, log.first))
    return expected


def delete_the_last_event(log: Log) -> int:
    expected = log.position(log.last, 2)
    sql_events(log.settings, "DELETE FROM {events} WHERE originator_id = %s AND originator_version = 2",
               stored_id(log.settings, log.last))  # fmt: skip
    return expected


def edit_one_event(log: Log) -> int:
    state = stored_state(log.settings, log.long, 2)
    overwrite_state(log.settings, log.long, 2, state.replace(b"it came in pieces", b"it came just fine"))
    return log.position(log.long, 2)


def swap_two_positions(log: Log) -> int:
    a, b = log.position(log.first, 2), log.position(log.long, 1)
    column = "rowid" if log.settings.backend == "sqlite" else "notification_id"
    for old, new in ((a, -1), (b, a), (-1, b)):
        sql_events(log.settings, f"UPDATE {{events}} SET {column} = %s WHERE {column} = %s", new, old)
    return a


def recompute_a_whole_chain(log: Log) -> int:
    """Edit version 2, then rewrite every later chain hash so the dispute's own chain holds again."""
    edit_one_event(log)
    app = build_app(log.settings)
    try:
        events = list(recorded_events(app, log.long))
    finally:
        app.close()
    previous = str(events[0].chain_hash)
    for event in events[1:]:
        new = next_chain_hash(previous, log.long, event.version, event.type, event.fields)
        state = stored_state(log.settings, log.long, event.version)
        overwrite_state(
            log.settings, log.long, event.version, state.replace(str(event.chain_hash).encode(), new.encode())
        )
        previous = new
    sql_events(log.settings, "DELETE FROM {snapshots}")  # the snapshots would give the rewrite away to `verify`
    verify = run_cli(log.settings, "verify", str(log.long))
    assert verify.exit_code == 0, "the dispute's own chain is consistent again: only the log can tell"
    return log.position(log.long, 2)


TAMPERS = [delete_a_whole_dispute, delete_the_last_event, edit_one_event, swap_two_positions, recompute_a_whole_chain]


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda t: t.__name__)
def test_verify_log_detects_tampering_after_a_checkpoint_and_names_the_first_bad_position(
    log: Log, tamper: Callable[[Log], int]
) -> None:
    before = log.verify_log()
    assert before.exit_code == 0, before.output
    assert before.stdout.startswith("consistent: the store's first 18 events give the checkpoint's root")
    bad = tamper(log)
    after = log.verify_log()
    assert after.exit_code == 1, after.output
    assert after.stdout.startswith(f"TAMPERED first bad position {bad}:"), after.stdout


def test_events_recorded_after_the_checkpoint_keep_the_log_consistent(log: Log) -> None:
    app = build_app(log.settings)
    Scenario(app).open()
    app.close()
    result = log.verify_log()
    assert result.exit_code == 0, result.output
    assert "(19 events stored now)" in result.stdout


def test_history_flags_an_edited_event_and_only_it(log: Log) -> None:
    assert all(e["chain_valid"] for e in log.history(log.long))
    edit_one_event(log)
    flags = {e["version"]: e["chain_valid"] for e in log.history(log.long)}
    assert flags == {v: v != 2 for v in range(1, 15)}


def test_history_flags_every_rehashed_event_against_the_log(log: Log) -> None:
    recompute_a_whole_chain(log)
    flags = {e["version"]: e["chain_valid"] for e in log.history(log.long)}
    assert flags == {v: v == 1 for v in range(1, 15)}
    assert all(e["chain_valid"] for e in log.history(log.first))


def test_a_checkpoint_signed_by_another_key_or_altered_is_refused(log: Log, tmp_path: Path) -> None:
    other = run_cli(log.settings, "keygen")
    assert other.exit_code == 0
    wrong_key = other.stderr.split("verifier key: ")[1].strip()
    refused = run_cli(log.settings, "verify-log", "--checkpoint", str(log.checkpoint), "--key", wrong_key)
    assert refused.exit_code == 2
    assert "no signature by" in refused.stderr or "does not verify" in refused.stderr
    altered = tmp_path / "altered.txt"
    altered.write_text(log.checkpoint.read_text().replace("\n18\n", "\n17\n"))
    refused = run_cli(log.settings, "verify-log", "--checkpoint", str(altered), "--key", log.vkey)
    assert (refused.exit_code, "does not verify" in refused.stderr) == (2, True)


def test_an_unreachable_store_is_exit_3(log: Log, tmp_path: Path) -> None:
    # Postgres: nothing listens on port 1; SQLite: the database path is a directory.
    url = "postgresql://nobody@127.0.0.1:1/none" if log.settings.backend == "postgres" else f"sqlite:///{tmp_path}"
    unreachable = log.settings.model_copy(update={"database_url": url})
    result = run_cli(unreachable, "verify-log", "--checkpoint", str(log.checkpoint), "--key", log.vkey)
    assert result.exit_code == 3, result.output
    assert "unreachable" in result.stderr


def store_an_order_event(log: Log) -> UUID:
    """An event of another aggregate, without a hash chain (as orders may be), stored beside the disputes."""
    order = UUID("00000000-0000-4000-8000-0000000000aa")
    state = b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-03-02T09:00:00+00:00"},"sku":"A-1"}'
    sql_events(log.settings, "INSERT INTO {events} (originator_id, originator_version, topic, state) "
               "VALUES (%s, 1, 'domain.orders:OrderPlaced', %s)", stored_id(log.settings, order), state)  # fmt: skip
    return order


def test_events_of_any_aggregate_are_leaves_and_their_deletion_is_detected(log: Log, tmp_path: Path) -> None:
    order = store_an_order_event(log)
    issued = run_cli(log.settings, "checkpoint")
    assert issued.exit_code == 0 and issued.stdout.split("\n")[1] == "19", issued.output
    log.checkpoint.write_text(issued.stdout)
    assert log.verify_log().exit_code == 0
    position = log.position(order, 1)
    sql_events(log.settings, "DELETE FROM {events} WHERE originator_id = %s", stored_id(log.settings, order))
    after = log.verify_log()
    assert after.exit_code == 1
    assert after.stdout.startswith(f"TAMPERED first bad position {position}:"), after.stdout
