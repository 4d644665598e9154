"""Request limits on a real server (`disputes serve`, uvicorn): a chunked body
is cut off with 413 while it streams, a client that stalls mid-body gets 408,
an 8 MB Cookie is 431, and the read timeout never cuts a long-poll."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from domain.values import Role
from support.api import bearer, opening
from support.live_server import LiveServer
from support.stores import settings_for

pytestmark = pytest.mark.slow


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(settings_for("sqlite", tmp_path, request), tmp_path)
    live.start(body_read_timeout="PT1S", max_body_bytes="65536")
    yield live
    live.stop()


def raw_request(server: LiveServer, head: str) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    conn.sendall(head.encode())
    return conn


def read_response(conn: socket.socket) -> tuple[int, dict[str, object]]:
    """The refusals close the connection (`Connection: close`): read until it ends."""
    data = b""
    try:
        while chunk := conn.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass  # the server closed with some of our bytes unread: what came before the reset is the answer
    head, body = data.split(b"\r\n\r\n", 1)
    return int(head.split()[1]), json.loads(body)


def headers(server: LiveServer, extra: str) -> str:
    token = bearer(Role.BUYER, "buyer-1", server.settings.jwt_secret or "")["Authorization"]
    return (
        f"POST /v1/disputes HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    )


def test_a_chunked_body_is_cut_off_with_413_while_it_streams(server: LiveServer) -> None:
    """The body never ends (no last chunk): only a refusal while it streams can answer it.
    Chunks go out one at a time, each after a look for the answer, so the server
    has read what was sent when it closes (else a reset could swallow the answer)."""
    conn = raw_request(server, headers(server, "Transfer-Encoding: chunked\r\n"))
    chunk = b"x" * 16384
    sent = 0
    while sent < 16 * 1024 * 1024 and not select.select([conn], [], [], 0.05)[0]:
        conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sent += len(chunk)
    status, body = read_response(conn)
    assert (status, body["code"]) == (413, "body_too_large")
    assert sent < 16 * 1024 * 1024, "no answer while the body streamed"
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_client_that_stalls_mid_body_gets_408(server: LiveServer) -> None:
    conn = raw_request(server, headers(server, "Content-Length: 100\r\n") + '{"order_id": ')
    started = time.monotonic()
    status, body = read_response(conn)
    assert (status, body["code"]) == (408, "request_timeout")
    assert 0.5 < time.monotonic() - started < 8


def test_an_8_mb_cookie_is_431(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/healthz", headers={"Cookie": "c=" + "x" * (8 * 1024 * 1024)}, timeout=30)
    assert response.status_code == 431
    assert response.json()["code"] == "headers_too_large"


def test_the_read_timeout_never_cuts_a_long_poll(server: LiveServer) -> None:
    """No workers run beside this server, so the list's read model never reaches
    the position: the read waits its full 2 s (past the 1 s body timeout) and
    answers 503 not_caught_up, not 408."""
    auth = bearer(Role.BUYER, "buyer-1", server.settings.jwt_secret or "")
    opened = httpx.post(f"{server.url}/v1/disputes", json=opening("seller-1"), headers=auth)
    assert opened.status_code == 201, opened.text
    started = time.monotonic()
    read = httpx.get(f"{server.url}/v1/disputes", headers={**auth, "X-Min-Position": opened.headers["X-Position"]})
    assert (read.status_code, read.json()["code"]) == (503, "not_caught_up")
    assert time.monotonic() - started >= 1.9
