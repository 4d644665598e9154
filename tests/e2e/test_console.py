"""The console in real headless Chromium against a live server on 127.0.0.1:
every role signs in with the dev picker and opens every page of its menu (a
screenshot of each under var/screenshots/), the replay slider shows the state
as of each version, a dispute is driven from opening to resolution through the
console's buttons alone, a hostile message stays text, and a server outside dev
offers no token picker but takes a pasted token."""

from __future__ import annotations

import base64
import io
import re
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from api.auth import mint
from domain.values import Role
from support.browser import CHROMIUM_ARGS, SCREENSHOTS, chromium
from support.console_data import HOSTILE, Api, Seeded, png, seed
from support.live_server import LiveServer
from support.stores import settings_for

pytestmark = [pytest.mark.slow]
MENUS = {
    "buyer": ["disputes"],
    "seller": ["disputes", "sellers"],
    "agent": ["disputes", "queue", "sellers", "stats", "ops"],
    "auditor": ["disputes", "sellers", "stats", "ops"],
    "analyst": ["disputes", "sellers", "stats"],
}
# What each page shows once it has its data from the API.
LOADED = {
    "disputes": "table.disputes, #no-results",
    "queue": "#queue tbody tr",
    "sellers": "#score-chart svg.chart",
    "stats": "#per-week svg.chart",
    "ops": "#views tbody tr",
    "dispute": "#timeline, #messages",
}
SUBS = {"buyer": "buyer-1", "seller": "seller-2", "agent": "agent-1", "auditor": "auditor-1", "analyst": "analyst-1"}


class NoFixtures:  # settings_for asks for a fixture only on Postgres
    def getfixturevalue(self, name: str) -> None:
        raise AssertionError(name)


def live(tmp: Path, **overrides: str) -> LiveServer:
    server = LiveServer(settings_for("sqlite", tmp, NoFixtures()), tmp)  # type: ignore[arg-type]
    server.start(in_process_workers="true", **overrides)
    return server


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Run as a developer runs it: env dev with the generated development secret."""
    server = live(tmp_path_factory.mktemp("console"), env="dev", jwt_secret="")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def seeded(dev_server: LiveServer) -> Seeded:
    return seed(Api(dev_server.url))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def tab(browser: Browser) -> Iterator[Page]:
    """A fresh context per test (its own sessionStorage); every request must go to 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    context.route(re.compile(r"^(?!http://127\.0\.0\.1:|blob:|data:).*"), lambda route: route.abort())
    yield page
    context.close()
    assert errors == [], f"the console raised errors or broke its CSP: {errors}"


def sign_in(tab: Page, server: LiveServer, role: str, sub: str) -> None:
    tab.goto(f"{server.url}/console#/signin")
    tab.locator("#dev-picker").wait_for()
    tab.select_option("#dev-role", role)
    tab.fill("#dev-sub", sub)
    tab.click("#dev-sign-in")
    expect(tab.locator("#signed-in-as")).to_have_text(f"{role} {sub}")


def open_page(tab: Page, server: LiveServer, route: str, page: str) -> None:
    tab.goto(f"{server.url}/console#/{route}")
    tab.locator(LOADED[page]).first.wait_for(timeout=15_000)
    expect(tab.locator("body")).to_have_attribute("data-page", page)


@pytest.mark.parametrize("role", list(MENUS))
def test_each_role_signs_in_and_opens_every_page_of_its_menu(
    tab: Page, dev_server: LiveServer, seeded: Seeded, role: str
) -> None:
    sign_in(tab, dev_server, role, SUBS[role])
    expect(tab.locator("#nav a")).to_have_text([tab_title for tab_title in titles(MENUS[role])])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for page in MENUS[role]:
        open_page(tab, dev_server, page, page)
        tab.screenshot(path=str(SCREENSHOTS / f"console-{role}-{page}.png"), full_page=True)
    open_page(tab, dev_server, f"dispute/{seeded.reviewed}", "dispute")
    expect(tab.locator("#status")).to_have_text("under_review")
    tab.screenshot(path=str(SCREENSHOTS / f"console-{role}-dispute.png"), full_page=True)


def titles(pages: list[str]) -> list[str]:
    names = {"disputes": "Disputes", "queue": "Agent queue", "sellers": "Sellers", "stats": "Statistics"}
    return [names.get(p, "Operations") for p in pages]


def test_each_role_sees_only_what_the_api_shows_it(tab: Page, dev_server: LiveServer, seeded: Seeded) -> None:
    sign_in(tab, dev_server, "seller", "seller-1")
    open_page(tab, dev_server, "disputes", "disputes")
    expect(tab.locator("table.disputes tbody tr")).to_have_count(1)  # seller-1's dispute only
    tab.goto(f"{dev_server.url}/console#/dispute/{seeded.reviewed}")
    expect(tab.locator("main .error")).to_contain_text("404 not_party")

    sign_in(tab, dev_server, "buyer", "buyer-1")
    open_page(tab, dev_server, f"dispute/{seeded.reviewed}", "dispute")
    allowed = Api(dev_server.url).call("buyer", "buyer-1", "GET", f"/v1/disputes/{seeded.reviewed}")["allowed_actions"]
    assert "issue_ruling" not in allowed
    buttons = tab.locator("#actions button[data-action]")
    expect(buttons).to_have_count(len(allowed))
    assert [b.get_attribute("data-action") for b in buttons.all()] == allowed
    assert tab.locator("#replay-card, #verification").count() == 0

    sign_in(tab, dev_server, "analyst", "analyst-1")
    open_page(tab, dev_server, f"dispute/{seeded.reviewed}", "dispute")
    expect(tab.locator("#messages .body")).to_have_text("(message bodies are not shown to your role)")
    expect(tab.locator("#timeline")).to_contain_text("not shown to your role")
    tab.goto(f"{dev_server.url}/console#/ops")  # not in the analyst's menu: the API refuses it
    expect(tab.locator("main .error")).to_contain_text("403 role_not_allowed")

    signed = signed_covering(Api(dev_server.url), seeded.reviewed)
    sign_in(tab, dev_server, "auditor", "auditor-1")
    open_page(tab, dev_server, f"dispute/{seeded.reviewed}", "dispute")
    expect(tab.locator("#chain-badge")).to_have_text("chain valid (7 events)")
    log_badge = tab.locator("#log-badge")
    expect(log_badge).to_have_attribute("data-state", "verified")
    verified = re.fullmatch(r"transparency log: chain valid / in the log at tree size (\d+)", log_badge.inner_text())
    assert verified and int(verified[1]) >= signed, log_badge.inner_text()

    sign_in(tab, dev_server, "agent", "agent-1")
    open_page(tab, dev_server, "queue", "queue")
    row = tab.locator(f'#queue tr[data-id="{seeded.reviewed}"]')
    expect(row).to_contain_text("under_review")
    expect(row).to_contain_text("seller: (no note) · due in 2d")


def signed_covering(api: Api, dispute: str) -> int:
    """Until a signed checkpoint covers every event of `dispute` (its bundle has one issued
    when needed; 503 while the tree has not taken them in): that checkpoint's tree size."""
    headers = {"Authorization": f"Bearer {api.token('auditor', 'auditor-1')}"}
    for _ in range(100):
        answer = httpx.get(f"{api.url}/v1/disputes/{dispute}/bundle", headers=headers, timeout=10)
        if answer.status_code == 200:
            return int(zipfile.ZipFile(io.BytesIO(answer.content)).read("checkpoint.txt").decode().split("\n")[1])
        assert answer.status_code == 503 and answer.json()["code"] == "not_caught_up", answer.text
        time.sleep(0.1)
    raise AssertionError("the transparency log did not take the dispute's events in")


def checkpoint_note(api: Api) -> str:
    headers = {"Authorization": f"Bearer {api.token('auditor', 'auditor-1')}"}
    answer = httpx.get(f"{api.url}/v1/audit/log/checkpoint", headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.text


def test_the_browser_checks_every_inclusion_proof_and_a_forged_root_fails_the_badge(
    tab: Page, dev_server: LiveServer, seeded: Seeded
) -> None:
    api = Api(dev_server.url)
    signed_covering(api, seeded.agreed)
    note = checkpoint_note(api)
    size = int(note.split("\n")[1])
    proofs = [
        api.call("auditor", "auditor-1", "GET", f"/v1/audit/log/inclusion?position={p}&tree_size={size}")
        for p in range(1, size + 1)  # SQLite: positions 1, 2, ... are leaves 0, 1, ...
    ]
    sign_in(tab, dev_server, "auditor", "auditor-1")
    checked = tab.evaluate(
        """async ([note, proofs]) => {
          const m = await import("/console/assets/proof.js");
          const cp = m.parseCheckpoint(note);
          const b = (t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
          const out = [];
          for (const p of proofs) {
            const path = p.proof.map(b), leaf = b(p.leaf_hash);
            const bent = path.map((x, i) => (i === path.length - 1 ? x.map((y, j) => (j === 0 ? y ^ 1 : y)) : x));
            out.push([await m.verifyInclusion(p.leaf_index, cp.size, leaf, path, cp.root),
              path.length > 0 && await m.verifyInclusion(p.leaf_index, cp.size, leaf, bent, cp.root),
              await m.verifyInclusion((p.leaf_index + 1) % cp.size, cp.size, leaf, path, cp.root) && cp.size > 1]);
          }
          return [cp.size, out];
        }""",
        [note, proofs],
    )
    assert checked[0] == size and len(checked[1]) == size > 1
    assert all(ok for ok, _, _ in checked[1]), "every leaf's proof leads to the signed root"
    assert not any(bent or moved for _, bent, moved in checked[1]), "a changed proof or index does not"

    open_page(tab, dev_server, f"dispute/{seeded.agreed}", "dispute")
    log_badge = tab.locator("#log-badge")
    expect(log_badge).to_have_attribute("data-state", "verified")

    def bent_proof(route: Route) -> None:
        answer = route.fetch()
        proof = answer.json()
        proof["proof"][0] = base64.b64encode(bytes(32)).decode()
        route.fulfill(response=answer, json=proof)

    inclusion = re.compile(r"/v1/audit/log/inclusion\?")
    tab.route(inclusion, bent_proof)
    tab.reload()
    expect(log_badge).to_have_attribute("data-state", "failed")
    expect(log_badge).to_have_text(re.compile(r"the inclusion proof does not lead to the root of tree size \d+$"))
    tab.unroute(inclusion)

    lines = note.split("\n")  # the same note with another root: its signature no longer holds
    forged = "\n".join([lines[0], lines[1], base64.b64encode(bytes(32)).decode(), *lines[3:]])
    tab.route("**/v1/audit/log/checkpoint", lambda route: route.fulfill(body=forged, content_type="text/plain"))
    tab.reload()
    expect(log_badge).to_have_attribute("data-state", "failed")
    expect(log_badge).to_have_text("transparency log: the checkpoint is not signed by the log's key")
    expect(tab.locator("#chain-badge")).to_contain_text("chain valid")
    tab.unroute("**/v1/audit/log/checkpoint")

    newer = api.open("buyer-7", "seller-7", "order-after-the-checkpoint")["id"]  # after `note`, kept the latest
    tab.route("**/v1/audit/log/checkpoint", lambda route: route.fulfill(body=note, content_type="text/plain"))
    open_page(tab, dev_server, f"dispute/{newer}", "dispute")
    expect(log_badge).to_have_attribute("data-state", "pending")
    pending = f"transparency log: version 1 is not in the latest checkpoint yet (tree size {size})"
    expect(log_badge).to_have_text(pending)


def test_the_replay_slider_shows_the_state_as_of_each_version(
    tab: Page, dev_server: LiveServer, seeded: Seeded
) -> None:
    api = Api(dev_server.url)
    sign_in(tab, dev_server, "auditor", "auditor-1")
    open_page(tab, dev_server, f"dispute/{seeded.agreed}", "dispute")
    slider = tab.locator("#replay")
    last = int(slider.get_attribute("max") or 0)
    assert last >= 3, "opened, offered, accepted"
    seen = []
    for version in range(1, last + 1):
        slider.fill(str(version))
        expect(tab.locator("#replay-state")).to_have_attribute("data-version", str(version))
        then = api.call("auditor", "auditor-1", "GET", f"/v1/disputes/{seeded.agreed}/state?version={version}")
        expect(tab.locator("#replay-state .replay-status")).to_have_text(then["status"])
        seen.append(then["status"])
    assert seen[0] == "awaiting_seller" and seen[-1] == "resolved"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / "console-auditor-replay.png"), full_page=True)


def act(tab: Page, action: str, fields: dict[str, str]) -> None:
    """Click an allowed action's button, fill its form and send it."""
    tab.click(f'#actions button[data-action="{action}"]')
    form = tab.locator(f"#form-{action}")
    for name, value in fields.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator("button[type=submit]").click()


def test_a_buyer_opens_the_seller_offers_and_the_buyer_accepts_through_the_buttons(
    tab: Page, dev_server: LiveServer
) -> None:
    sign_in(tab, dev_server, "buyer", "buyer-3")
    open_page(tab, dev_server, "disputes", "disputes")
    form = tab.locator("#open-dispute")
    form.locator('[name="order_id"]').fill("order-console-1")
    form.locator('[name="seller_id"]').fill("seller-3")
    form.locator('[name="reason"]').select_option("damaged")
    form.locator('[name="remedy"]').select_option("refund_only")
    form.locator('[name="refund"]').fill("15")
    form.locator('[name="order_amount"]').fill("20")
    form.locator("button[type=submit]").click()
    expect(tab.locator("#status")).to_have_text("awaiting_seller")
    dispute_url = tab.url

    sign_in(tab, dev_server, "seller", "seller-3")
    tab.goto(dispute_url)
    act(tab, "propose_offer", {"remedy": "partial_refund", "refund": "7.50", "note": "half back"})
    expect(tab.locator("#status")).to_have_text("negotiating")
    expect(tab.locator("#offers")).to_contain_text("7.50 USD")

    sign_in(tab, dev_server, "buyer", "buyer-3")
    tab.goto(dispute_url)
    act(tab, "accept_offer", {"note": "fine"})
    expect(tab.locator("#status")).to_have_text("resolved")
    expect(tab.locator("#outcome")).to_have_text("refund_partial by agreement, 7.50 USD")
    expect(tab.locator("#no-actions")).to_be_visible()


def test_an_escalated_dispute_gets_evidence_and_an_agents_ruling_through_the_buttons(
    tab: Page, dev_server: LiveServer, tmp_path: Path
) -> None:
    api = Api(dev_server.url)
    dispute = api.open("buyer-4", "seller-4", "order-console-2")["id"]
    sign_in(tab, dev_server, "seller", "seller-4")
    tab.goto(f"{dev_server.url}/console#/dispute/{dispute}")
    act(tab, "propose_offer", {"remedy": "replacement", "note": "a new one"})
    expect(tab.locator("#status")).to_have_text("negotiating")

    sign_in(tab, dev_server, "buyer", "buyer-4")
    tab.goto(f"{dev_server.url}/console#/dispute/{dispute}")
    photo = tmp_path / "photo.png"
    photo.write_bytes(png())
    tab.click('#actions button[data-action="submit_evidence"]')
    tab.locator('#form-submit_evidence [name="file"]').set_input_files(str(photo))
    tab.locator("#form-submit_evidence button[type=submit]").click()
    expect(tab.locator("#evidence img")).to_have_count(1)
    assert (tab.locator("#evidence img").get_attribute("src") or "").startswith("blob:")
    act(tab, "escalate", {"reason": "not a replacement"})
    expect(tab.locator("#status")).to_have_text("under_review")

    sign_in(tab, dev_server, "agent", "agent-1")
    tab.goto(f"{dev_server.url}/console#/dispute/{dispute}")
    ruling = {"outcome": "refund_full", "refund": "20", "seller_at_fault": "true", "rationale": "the photo"}
    act(tab, "issue_ruling", ruling)
    expect(tab.locator("#status")).to_have_text("resolved")
    expect(tab.locator("#outcome")).to_have_text("refund_full by ruling, 20.00 USD")


def test_a_hostile_message_body_is_shown_as_text_and_never_runs(
    tab: Page, dev_server: LiveServer, seeded: Seeded
) -> None:
    sign_in(tab, dev_server, "agent", "agent-1")
    open_page(tab, dev_server, f"dispute/{seeded.reviewed}", "dispute")
    expect(tab.locator("#messages .body")).to_have_text(HOSTILE)
    assert tab.locator("#messages img, #messages script").count() == 0
    expect(tab.locator("#evidence img")).to_have_count(1)  # the photo, decoded: nothing else became an image
    assert tab.evaluate("document.querySelector('#evidence img').naturalWidth") == 24
    expect(tab.locator("#evidence a.download").last).to_have_text("open PDF / download")
    assert tab.evaluate("document.body.dataset.pwned") is None


def test_the_operations_page_follows_the_event_stream(tab: Page, dev_server: LiveServer, seeded: Seeded) -> None:
    signed = signed_covering(Api(dev_server.url), seeded.reviewed)
    sign_in(tab, dev_server, "agent", "agent-1")
    open_page(tab, dev_server, "ops", "ops")
    expect(tab.locator("#live")).to_contain_text("live")
    shown = int(tab.locator("#checkpoint-size").inner_text())
    after = Api(dev_server.url).call("agent", "agent-1", "GET", "/v1/ops/status")["checkpoint"]
    assert signed <= shown <= after["tree_size"], "the latest checkpoint, as /v1/ops/status reports it"
    expect(tab.locator("#checkpoint-unsigned")).to_have_text(re.compile(r"^\d+$"))
    answer = httpx.post(
        f"{dev_server.url}/v1/disputes/{seeded.reviewed}/messages",
        json={"body": "any news?"},
        headers={"Authorization": f"Bearer {Api(dev_server.url).token('buyer', 'buyer-1')}"},
    )
    position = answer.headers["X-Position"]
    expect(tab.locator(f'#live-events li[data-position="{position}"]')).to_contain_text("MessagePosted")
    expect(tab.locator("#views")).to_contain_text(f"event store head {position}")
    expect(tab.locator("#ops-status #checkpoint-size")).to_have_text(re.compile(r"^\d+$"))  # refreshed with the rest


def test_outside_dev_there_is_no_token_picker_and_a_pasted_token_signs_in(browser: Browser, tmp_path: Path) -> None:
    server = live(tmp_path)  # env test, the secret from the settings
    try:
        assert httpx.post(f"{server.url}/v1/dev/tokens", json={"role": "agent", "sub": "a"}).status_code == 404
        tab = browser.new_page()
        tab.goto(f"{server.url}/console")
        tab.locator("#paste-token").wait_for()
        assert tab.locator("#dev-picker").count() == 0
        tab.fill("#token", "not-a-token")
        tab.click("#paste-token button[type=submit]")
        expect(tab.locator("#signin-result")).to_contain_text("401 unauthorized")
        assert tab.evaluate("sessionStorage.length") == 0
        tab.fill("#token", mint(server.settings.jwt_secret or "", Role.AUDITOR, "auditor-9"))
        tab.click("#paste-token button[type=submit]")
        expect(tab.locator("#signed-in-as")).to_have_text("auditor auditor-9")
        assert tab.evaluate("Object.keys(sessionStorage)") == ["disputes.console.token"]
        assert tab.evaluate("localStorage.length") == 0
        tab.close()
    finally:
        server.stop()


def test_search_pages_through_the_list_and_filters_by_status_chip(
    tab: Page, dev_server: LiveServer, seeded: Seeded
) -> None:
    sign_in(tab, dev_server, "agent", "agent-1")
    open_page(tab, dev_server, "disputes", "disputes")
    tab.fill('#filters [name="limit"]', "1")
    tab.click("#filters button[type=submit]")
    rows = tab.locator("table.disputes tbody tr")
    expect(rows).to_have_count(1)
    expect(tab.locator("#page-number")).to_have_text("page 1")
    first = rows.first.get_attribute("data-id")
    tab.click("#next-page")
    expect(tab.locator("#page-number")).to_have_text("page 2")
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-id") != first
    tab.click("#prev-page")
    expect(rows.first).to_have_attribute("data-id", first or "")
    tab.fill('#filters [name="limit"]', "50")
    tab.click('#status-chips [data-status="under_review"]')
    expect(tab.locator("#status-chips .chip.on")).to_have_text("under_review")
    expect(rows.first.locator(".status")).to_have_text("under_review")
    statuses = tab.locator("table.disputes tbody .status").all_text_contents()
    assert statuses and set(statuses) == {"under_review"}
    expect(tab.locator("table.disputes tbody [data-due]").first).to_contain_text(re.compile(r"^(in|overdue) "))


def test_a_sellers_score_over_time_is_drawn_from_the_score_as_of_each_week(
    tab: Page, dev_server: LiveServer, seeded: Seeded
) -> None:
    score = Api(dev_server.url).call("seller", "seller-2", "GET", "/v1/sellers/seller-2/score")["score"]
    sign_in(tab, dev_server, "seller", "seller-2")
    open_page(tab, dev_server, "sellers", "sellers")
    points = tab.locator("#score-chart svg.chart circle")
    expect(points).to_have_count(13)
    assert points.last.get_attribute("data-value") == str(score) and score > 0
    expect(tab.locator("#score-now")).to_have_text(f"score now {score}")
    sign_in(tab, dev_server, "analyst", "analyst-1")
    open_page(tab, dev_server, "sellers", "sellers")
    expect(tab.locator('#scoreboard tr[data-seller="seller-2"]')).to_contain_text(str(score))


def shown_time(iso_time: str) -> str:
    """As the console's `when` prints an instant."""
    return datetime.fromisoformat(iso_time).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def test_a_ruling_appealed_by_the_buyer_is_decided_by_another_agent_through_the_buttons(
    tab: Page, dev_server: LiveServer, tmp_path: Path
) -> None:
    api = Api(dev_server.url)
    dispute = api.open("buyer-6", "seller-6", "order-console-appeal")["id"]
    base = f"/v1/disputes/{dispute}"
    api.call("seller", "seller-6", "POST", f"{base}/offers", json={"remedy": "replacement", "note": "another"})
    api.call("buyer", "buyer-6", "POST", f"{base}/escalate", json={"reason": "no replacement"})

    sign_in(tab, dev_server, "agent", "agent-1")
    tab.goto(f"{dev_server.url}/console#/dispute/{dispute}")
    act(tab, "claim", {})
    expect(tab.locator('#actions button[data-action="release"]')).to_be_visible()
    assert api.call("agent", "agent-1", "GET", base)["assigned_agent"] == "agent-1"
    ruling = {"outcome": "refund_partial", "refund": "5", "seller_at_fault": "false", "rationale": "half"}
    act(tab, "issue_ruling", ruling)
    expect(tab.locator("#status")).to_have_text("resolved")
    assert "appeal_window" in api.call("buyer", "buyer-6", "GET", base)["deadlines"]

    sign_in(tab, dev_server, "buyer", "buyer-6")
    tab.goto(f"{dev_server.url}/console#/dispute/{dispute}")
    act(tab, "appeal", {"reason": "five dollars is not enough"})
    expect(tab.locator("#status")).to_have_text("under_appeal")
    expect(tab.locator("#appeal")).to_have_text("by buyer buyer-6: five dollars is not enough; awaiting an agent")

    sign_in(tab, dev_server, "agent", "agent-2")
    tab.goto(f"{dev_server.url}/console#/dispute/{dispute}")
    act(tab, "request_evidence", {"party": "seller", "note": "the packing photo", "due_in": "PT2H"})
    expect(tab.locator("#version")).to_have_text(str(api.call("agent", "agent-2", "GET", base)["version"]))
    appealed = api.call("agent", "agent-2", "GET", base)
    request_id = appealed["evidence_requests"][0]["id"]
    review_due = appealed["deadlines"]["appeal_review"]
    assert min(appealed["deadlines"].values()) != review_due, "an evidence request falls due before the appeal SLA"
    open_page(tab, dev_server, "queue", "queue")
    row = tab.locator(f'#queue tr[data-id="{dispute}"]')
    expect(row).to_contain_text("under_appeal")
    expect(row.locator("td").nth(2)).to_contain_text(shown_time(review_due))  # the appeal's SLA, not the request's
    expect(row).to_contain_text("seller: the packing photo")

    sign_in(tab, dev_server, "seller", "seller-6")
    tab.goto(f"{dev_server.url}/console#/dispute/{dispute}")
    photo = tmp_path / "packing.png"
    photo.write_bytes(png())
    tab.click('#actions button[data-action="submit_evidence"]')
    upload = tab.locator("#form-submit_evidence")
    upload.locator('[name="file"]').set_input_files(str(photo))
    upload.locator('[name="request_id"]').select_option(request_id)
    upload.locator("button[type=submit]").click()
    expect(tab.locator("#evidence img")).to_have_count(1)
    answered = api.call("agent", "agent-2", "GET", base)["evidence_requests"][0]
    assert answered["status"] == "fulfilled" and answered["fulfilled_by"] is not None

    api.call("agent", "agent-3", "POST", f"{base}/claim", json={})
    sign_in(tab, dev_server, "agent", "agent-2")
    tab.goto(f"{dev_server.url}/console#/dispute/{dispute}")
    act(tab, "claim", {})
    expect(tab.locator("#action-form .error")).to_contain_text("409 claimed_by_another_agent")
    assert api.call("agent", "agent-2", "GET", base)["assigned_agent"] == "agent-3"
    act(tab, "claim", {"force": "true", "reason": "agent-3 is away"})
    expect(tab.locator('#actions button[data-action="release"]')).to_be_visible()
    expect(tab.locator("#assigned-agent")).to_have_text("agent-2")
    assert api.call("agent", "agent-2", "GET", base)["assigned_agent"] == "agent-2"
    act(tab, "release", {"reason": "lunch"})
    expect(tab.locator('#actions button[data-action="release"]')).to_have_count(0)
    assert api.call("agent", "agent-2", "GET", base)["assigned_agent"] is None
    act(tab, "claim", {})
    expect(tab.locator('#actions button[data-action="release"]')).to_be_visible()
    decision = {"decision": "overturned", "outcome": "refund_full", "refund": "20", "seller_at_fault": "true",
                "rationale": "the packing photo shows no padding"}  # fmt: skip
    act(tab, "decide_appeal", decision)
    expect(tab.locator("#status")).to_have_text("resolved")
    expect(tab.locator("#outcome")).to_have_text("refund_full by appeal, 20.00 USD")
    expect(tab.locator("#appeal")).to_have_text("by buyer buyer-6: five dollars is not enough; overturned by agent-2")
    final = api.call("agent", "agent-2", "GET", base)
    assert final["appeal"]["decision"] == "overturned" and final["appeal"]["decided_by"] == "agent-2"
