"""/docs and /redoc work with no internet access: their HTML names no asset
on another host, and headless Chromium, allowed to reach nothing but the
server, renders every operation of /openapi.json (screenshots under
var/screenshots/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import sync_playwright

from support.browser import CHROMIUM_ARGS, SCREENSHOTS, chromium
from support.live_server import LiveServer
from support.stores import settings_for

pytestmark = [pytest.mark.slow]
ASSET_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""", re.IGNORECASE)
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("docs")

    class Request:  # settings_for asks for a fixture only on Postgres
        def getfixturevalue(self, name: str) -> None:
            raise AssertionError(name)

    live = LiveServer(settings_for("sqlite", tmp, Request()), tmp)  # type: ignore[arg-type]
    live.start()
    yield live
    live.stop()


def operations(server: LiveServer) -> set[str]:
    """'METHOD /path' of every operation in /openapi.json."""
    document = httpx.get(f"{server.url}/openapi.json").json()
    return {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item if method in METHODS
    }


# 'METHOD /path' of each operation block Swagger UI rendered (one block per tag it is listed under).
SWAGGER_BLOCKS = """() => Array.from(document.querySelectorAll('.opblock')).map(block =>
    block.querySelector('.opblock-summary-method').textContent.trim() + ' ' +
    block.querySelector('.opblock-summary-path').getAttribute('data-path'))"""


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_name_no_asset_on_another_host(server: LiveServer, page: str) -> None:
    html = httpx.get(server.url + page).text
    assets = [a or b for a, b in ASSET_URL.findall(html)]
    assert assets, "the page loads its scripts from somewhere"
    foreign = [a for a in assets if urlsplit(a).netloc or a.startswith("//")]
    assert foreign == [], f"{page} loads assets from other hosts"
    for asset in assets:
        if asset.startswith("/"):
            assert httpx.get(server.url + asset).status_code == 200, asset


def rendered(server: LiveServer, page: str, selector: str, screenshot: str, script: str) -> tuple[list[str], list[str]]:
    """(what `script` finds on `page` once `selector` shows in Chromium, the requests it tried to other hosts)."""
    elsewhere: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})

            def only_this_server(route: object) -> None:
                url = route.request.url  # type: ignore[attr-defined]
                if url.startswith(server.url) or url.startswith("data:") or url.startswith("blob:"):
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    elsewhere.append(url)
                    route.abort()  # type: ignore[attr-defined]

            tab.route("**/*", only_this_server)
            tab.goto(server.url + page, wait_until="networkidle")
            tab.wait_for_selector(selector, timeout=30_000)
            found = list(tab.evaluate(script))
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
        finally:
            browser.close()
    return found, elsewhere


def test_swagger_ui_renders_every_operation_offline(server: LiveServer) -> None:
    blocks, elsewhere = rendered(server, "/docs", ".opblock", "docs.png", SWAGGER_BLOCKS)
    assert elsewhere == [], "Swagger UI tried to reach other hosts"
    assert set(blocks) == operations(server)
    assert (SCREENSHOTS / "docs.png").stat().st_size > 10_000


def test_redoc_renders_every_operation_offline(server: LiveServer) -> None:
    selector = "[data-section-id^='operation/']"
    script = f'() => Array.from(document.querySelectorAll("{selector}")).map(e => e.dataset.sectionId)'
    sections, elsewhere = rendered(server, "/redoc", selector, "redoc.png", script)
    assert elsewhere == [], "ReDoc tried to reach other hosts"
    assert len(set(sections)) == len(operations(server))
