"""Concurrent clients sending random valid and invalid commands to several
API processes, each command under its own Idempotency-Key. A command is
retried (same key, another attempt id in X-Request-ID) after a transport
error or a 503 until it gets a definitive answer, so every command ends
acknowledged (2xx) or refused (4xx), and what the store holds can be checked
against what was answered."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.auth import mint
from domain.values import Role

BUYERS = ("buyer-1", "buyer-2", "buyer-3")
SELLERS = ("seller-1", "seller-2")
AGENT = "agent-1"
GIVE_UP_AFTER = 90.0
"""Seconds a client keeps retrying one command (through restarts and outages)."""


def money(amount: int) -> dict[str, Any]:
    return {"amount_minor": amount, "currency": "USD"}


@dataclass
class Record:
    key: str
    actor: str
    path: str
    status: int = 0
    """The definitive status (0: none within GIVE_UP_AFTER)."""
    dispute_id: str | None = None
    version: int | None = None
    attempts: int = 0
    transport_errors: int = 0
    unavailable: int = 0
    """503 answers on the way (each with Retry-After: counted in missing_retry_after otherwise)."""
    missing_retry_after: int = 0
    server_errors: int = 0
    latencies: list[float] = field(default_factory=list)


@dataclass
class Dispute:
    id: str
    buyer: str
    seller: str


class Load:
    def __init__(self, urls: list[str], secret: str, seed: int, request_timeout: float = 30.0) -> None:
        self.urls, self.secret, self.seed = urls, secret, seed
        self.request_timeout = request_timeout
        self.records: list[Record] = []
        self.disputes: list[Dispute] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self, clients: int, commands_each: int, until: threading.Event | None = None) -> None:
        """Each client sends `commands_each` commands, and goes on (up to twenty times
        as many, so a fast machine cannot finish before a fault starts) until `until`
        is set, when one is given."""
        threads = [
            threading.Thread(target=self._client, args=(random.Random(self.seed * 1000 + i), commands_each, until))
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    # ------------------------------------------------------------------ one client
    def _client(self, rng: random.Random, commands: int, until: threading.Event | None) -> None:
        with httpx.Client(timeout=self.request_timeout) as http:
            for sent in range(commands * 20):
                if self.stop.is_set() or (sent >= commands and (until is None or until.is_set())):
                    return
                self._one_command(http, rng)

    def _one_command(self, http: httpx.Client, rng: random.Random) -> None:
        with self.lock:
            known = list(self.disputes)
        choice = rng.random()
        if choice < 0.3 or not known:
            buyer, seller = rng.choice(BUYERS), rng.choice(SELLERS)
            body = {"order_id": f"o-{uuid.uuid4().hex[:10]}", "seller_id": seller, "reason": "damaged",
                    "remedy": "refund_only", "refund": money(1500), "order_amount": money(2000)}  # fmt: skip
            if rng.random() < 0.15:
                body["order_amount"] = money(-5)  # invalid: 422, nothing stored
            record = self.send(http, rng, Role.BUYER, buyer, "/v1/disputes", body)
            if record.status == 201 and record.dispute_id:
                with self.lock:
                    self.disputes.append(Dispute(record.dispute_id, buyer, seller))
            return
        d = rng.choice(known)
        base = f"/v1/disputes/{d.id}"
        if choice < 0.5:
            seller = d.seller if rng.random() < 0.85 else rng.choice(SELLERS)
            offer = {"remedy": "partial_refund", "refund": money(rng.randint(100, 1400)), "note": "half?"}
            self.send(http, rng, Role.SELLER, seller, f"{base}/offers", offer)
        elif choice < 0.6:
            offer = self.pending_offer(http, d)
            path = f"{base}/offers/{offer or uuid.uuid4()}/{rng.choice(['accept', 'reject'])}"
            body = {"note": "ok"} if path.endswith("accept") else {"reason": "too low"}
            self.send(http, rng, Role.BUYER, d.buyer, path, body)
        elif choice < 0.75:
            role, actor = rng.choice([(Role.BUYER, d.buyer), (Role.SELLER, d.seller), (Role.BUYER, "buyer-9")])
            self.send(http, rng, role, actor, f"{base}/messages", {"body": f"message {rng.random()}"})
        elif choice < 0.85:
            self.send(http, rng, Role.BUYER, d.buyer, f"{base}/escalate", {"reason": "no agreement"})
        elif choice < 0.9:
            self.send(http, rng, Role.BUYER, d.buyer, f"{base}/withdraw", {"reason": "sorted"})
        elif choice < 0.95:
            ruling = {"outcome": "refund_full", "refund": money(1500), "seller_at_fault": True, "rationale": "r"}
            self.send(http, rng, Role.AGENT, AGENT, f"{base}/ruling", ruling)
        else:
            self.send(http, rng, Role.BUYER, d.buyer, f"/v1/disputes/{uuid.uuid4()}/messages", {"body": "lost?"})

    def pending_offer(self, http: httpx.Client, d: Dispute) -> str | None:
        try:
            response = http.get(self.urls[0] + f"/v1/disputes/{d.id}", headers=self.auth(Role.AGENT, AGENT))
        except httpx.TransportError:
            return None
        if response.status_code != 200:
            return None
        offer = response.json().get("pending_offer")
        return str(offer["id"]) if offer else None

    def auth(self, role: Role, actor: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint(self.secret, role, actor)}"}

    # ------------------------------------------------------------------ one command, to a definitive answer
    def send(self, http: httpx.Client, rng: random.Random, role: Role, actor: str, path: str, body: Any) -> Record:
        record = Record(str(uuid.uuid4()), actor, path)
        with self.lock:
            self.records.append(record)
        give_up = time.monotonic() + GIVE_UP_AFTER
        while time.monotonic() < give_up:
            record.attempts += 1
            headers = {**self.auth(role, actor), "Idempotency-Key": record.key,
                       "X-Request-ID": f"{record.key}/{record.attempts}"}  # fmt: skip
            started = time.monotonic()
            try:
                response = http.post(rng.choice(self.urls) + path, json=body, headers=headers)
            except httpx.TransportError:
                record.latencies.append(time.monotonic() - started)
                record.transport_errors += 1
                time.sleep(0.2)
                continue
            record.latencies.append(time.monotonic() - started)
            if response.status_code == 503:
                record.unavailable += 1
                retry_after = response.headers.get("Retry-After")
                if retry_after is None:
                    record.missing_retry_after += 1
                time.sleep(min(float(retry_after or 1), 1.0))
                continue
            if response.status_code >= 500:
                record.server_errors += 1
            record.status = response.status_code
            if 200 <= response.status_code < 300:
                record.version = int(response.headers["ETag"].strip('"'))
                record.dispute_id = path.split("/")[3] if path != "/v1/disputes" else response.json()["id"]
            return record
        return record

    # ------------------------------------------------------------------ figures
    def figures(self) -> dict[str, Any]:
        statuses = Counter(r.status for r in self.records)
        latencies = sorted(x for r in self.records for x in r.latencies)
        return {
            "sent": len(self.records),
            "acknowledged": sum(1 for r in self.records if 200 <= r.status < 300),
            "refused_4xx": sum(1 for r in self.records if 400 <= r.status < 500),
            "unanswered": statuses.get(0, 0),
            "server_errors_5xx": sum(r.server_errors for r in self.records),
            "answers_503": sum(r.unavailable for r in self.records),
            "503_without_retry_after": sum(r.missing_retry_after for r in self.records),
            "transport_errors": sum(r.transport_errors for r in self.records),
            "attempts": sum(r.attempts for r in self.records),
            "statuses": dict(sorted(statuses.items())),
            "max_latency_s": round(latencies[-1], 2) if latencies else 0.0,
        }
