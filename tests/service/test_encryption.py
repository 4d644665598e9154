"""Encryption at rest of event payloads (AES-GCM, key from DISPUTES_CIPHER_KEY)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.cipher import AESCipher
from pydantic import ValidationError

from bootstrap import build_app
from service.settings import Settings
from support.audit import client, headers, long_dispute, overwrite_state, run_cli, sql_events, stored_state
from support.stores import settings_for

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
PLAINTEXT = (b"it came in pieces", b"buyer-1", b"chain_hash", b"DisputeOpened", b"_type_")


@pytest.fixture(params=STORES)
def encrypted(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[Settings, UUID]]:
    settings = settings_for(request.param, tmp_path, request, cipher_key=AESCipher.create_key(32))
    app = build_app(settings)
    dispute_id = long_dispute(app).id
    app.close()
    yield settings, dispute_id


def history(settings: Settings, dispute_id: UUID) -> list[dict[str, Any]]:
    with client(settings) as c:
        response = c.get(f"/v1/disputes/{dispute_id}/history", headers=headers(settings))
    assert response.status_code == 200
    return response.json()["items"]  # type: ignore[no-any-return]


def verify(settings: Settings, dispute_id: UUID) -> dict[str, Any]:
    with client(settings) as c:
        return c.get(f"/v1/disputes/{dispute_id}/verify", headers=headers(settings)).json()  # type: ignore[no-any-return]


def test_stored_payloads_are_unreadable_bytes(encrypted: tuple[Settings, UUID]) -> None:
    settings, dispute_id = encrypted
    events = [bytes(row[0]) for row in sql_events(settings, "SELECT state FROM {events}")]
    snapshots = [bytes(row[0]) for row in sql_events(settings, "SELECT state FROM {snapshots}")]
    assert (len(events), len(snapshots)) == (14, 3)
    for state in events + snapshots:
        assert not any(text in state for text in PLAINTEXT)
        with pytest.raises(ValueError):  # neither UTF-8 nor JSON
            json.loads(state)
    assert verify(settings, dispute_id)["valid"] is True


def test_history_and_verify_read_back_with_the_key(encrypted: tuple[Settings, UUID]) -> None:
    settings, dispute_id = encrypted
    entries = history(settings, dispute_id)
    assert [e["version"] for e in entries] == list(range(1, 15))
    assert entries[1]["data"]["body"] == "it came in pieces"
    assert all(e["readable"] for e in entries)
    assert verify(settings, dispute_id)["valid"] is True
    assert run_cli(settings, "verify", str(dispute_id)).exit_code == 0


@pytest.mark.parametrize("key", [None, AESCipher.create_key(32)], ids=["no key", "another key"])
def test_without_the_right_key_nothing_can_be_read(encrypted: tuple[Settings, UUID], key: str | None) -> None:
    settings, dispute_id = encrypted
    wrong = settings.model_copy(update={"cipher_key": key})
    assert not any(e["readable"] for e in history(wrong, dispute_id))
    report = verify(wrong, dispute_id)
    assert (report["valid"], report["first_invalid_version"]) == (False, 1)
    assert "cannot be decoded" in report["problem"]


def test_changing_one_encrypted_record_fails_its_authentication_tag(encrypted: tuple[Settings, UUID]) -> None:
    settings, dispute_id = encrypted
    state = stored_state(settings, dispute_id, 5)
    overwrite_state(settings, dispute_id, 5, state[:-1] + bytes([state[-1] ^ 1]))
    report = verify(settings, dispute_id)
    assert (report["valid"], report["first_invalid_version"]) == (False, 5)
    result = run_cli(settings, "verify", str(dispute_id))
    assert result.exit_code == 1
    assert "first_invalid_version 5" in result.stdout


@pytest.mark.parametrize(
    ("key", "message"),
    [("not base64!", "must be base64"), ("c2hvcnQ=", "16, 24 or 32 byte")],
)
def test_a_key_that_is_not_a_base64_aes_key_is_refused_at_startup(key: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(cipher_key=key)
