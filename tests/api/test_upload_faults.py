"""Evidence uploads that never finish (issue 11): a multipart body cut short
is refused, a client that walks away mid-body is one line in the log; either
way nothing is appended and no blob is kept. On SQLite and Postgres."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message

from bootstrap import build_api
from service.settings import Settings
from support.api import PNG, Parties, head, ok

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
BOUNDARY = "probe-boundary-7d1f"
FILE = PNG + b"\x01" * 4096


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_api(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def parties(client: TestClient) -> Parties:
    return Parties.on(client)



def kept_files(settings: Settings) -> list[Path]:
    """Every file under the blob directory: kept blobs and half-received ones."""
    return [p for p in Path(settings.blob_dir).rglob("*") if p.is_file()]


def multipart(file: bytes = FILE) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nphoto\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + file
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


WHOLE = multipart()
CUTS = {
    "in the file": WHOLE.index(FILE) + 1000,
    "after the file": WHOLE.index(FILE) + len(FILE),
    "in the closing boundary": len(WHOLE) - len(f"{BOUNDARY}--\r\n"),
    "before the final dashes": len(WHOLE) - len("--\r\n"),
}


def post_evidence(parties: Parties, dispute_id: str, body: bytes, **headers: str) -> Any:
    return parties.buyer.client.post(
        f"/v1/disputes/{dispute_id}/evidence",
        content=body,
        headers={**parties.buyer.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **headers},
    )


# ------------------------------------------------------------------ 5. cut short
@pytest.mark.parametrize("cut", CUTS.values(), ids=CUTS.keys())
def test_a_multipart_body_without_its_closing_boundary_is_422_upload_incomplete(
    client: TestClient, parties: Parties, settings: Settings, cut: int
) -> None:
    d = parties.open()
    before = head(client)
    refused = post_evidence(parties, d["id"], WHOLE[:cut])
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "upload_incomplete"
    assert head(client) == before
    assert parties.read(d["id"])["evidence"] == []
    assert kept_files(settings) == []


def test_a_cut_short_upload_is_not_recorded_under_its_key_so_the_retry_succeeds(
    client: TestClient, parties: Parties, settings: Settings
) -> None:
    d = parties.open()
    refused = post_evidence(parties, d["id"], WHOLE[: CUTS["in the file"]], **{"Idempotency-Key": "upload-1"})
    assert (refused.status_code, refused.json()["code"]) == (422, "upload_incomplete")
    assert kept_files(settings) == []
    stored = ok(post_evidence(parties, d["id"], WHOLE, **{"Idempotency-Key": "upload-1"}), 201)
    assert stored["size"] == len(FILE)
    assert [e["sha256"] for e in parties.read(d["id"])["evidence"]] == [stored["sha256"]]
    assert len(kept_files(settings)) == 1


# ------------------------------------------------------------------ 9. abandoned
async def abandon_upload(app: ASGIApp, path: str, headers: dict[str, str], sent_part: bytes) -> list[Message]:
    """What a server hands the app when a client sends part of a body and hangs up."""
    incoming: list[Message] = [
        {"type": "http.request", "body": sent_part, "more_body": True},
        {"type": "http.disconnect"},
    ]
    replies: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        replies.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "state": {},
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    await app(scope, receive, send)
    return replies


def test_a_client_that_abandons_an_upload_is_one_info_line_in_the_log(
    client: TestClient, parties: Parties, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    d = parties.open()
    before = head(client)
    headers = {
        **parties.buyer.headers,
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(len(WHOLE)),
    }
    assert client.portal is not None
    with caplog.at_level(logging.DEBUG):
        client.portal.call(abandon_upload, client.app, f"/v1/disputes/{d['id']}/evidence", headers, WHOLE[:3000])
    ours = [r for r in caplog.records if r.name.startswith("disputes")]
    assert [(r.levelno, r.exc_info) for r in ours] == [(logging.INFO, None)], [r.getMessage() for r in ours]
    assert "disconnected" in ours[0].getMessage() and "/evidence" in ours[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert head(client) == before
    assert kept_files(settings) == []
