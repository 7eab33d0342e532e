"""Browser end-to-end fixtures: Debian's Chromium driven by Playwright against a real
server (tests/conftest.py) that serves the built web client from web/dist."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"

TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}

# A check waits as long as an action may (15 s, set on each context below), not
# Playwright's 5 s: on a loaded 2-core machine a server round trip can take longer.
try:
    from playwright.async_api import expect as _expect

    _expect.set_options(timeout=15_000)
except ImportError:  # reported by the `browsers` fixture
    pass


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            # One Chromium at a time: with parallel workers the browser tests run on one
            # worker (--dist loadgroup) while the other runs the rest, so no page waits
            # on a second browser for the CPU.
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def web_dist() -> Path:
    if not (DIST / "index.html").exists() or not (DIST / "app.js").exists():
        pytest.fail(
            "web/dist/index.html or web/dist/app.js is missing: build the web client first "
            "(`make web`, or `cd web && npm ci && npm run build`)."
        )
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium.")
    return DIST


@dataclass
class Wire:
    """Everything one browser received: HTTP bodies and Socket.IO frames, as text.

    A body or frame that cannot be read is recorded in ``unreadable``, and ``contains``
    then fails: a "never received" check must not pass for bytes it never saw.
    """

    chunks: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def add_bytes(self, data: bytes) -> None:
        self.chunks.append(data.decode("utf-8", errors="replace"))

    def add_text(self, text: str) -> None:
        self.chunks.append(text)
        # Engine.IO long-polling carries binary as base64 ("b…" packets).
        for part in text.split("\x1e"):
            if part.startswith("b"):
                try:
                    self.add_bytes(base64.b64decode(part[1:], validate=True))
                except ValueError as exc:
                    self.unreadable.append(f"a base64 packet {part[:40]!r}: {exc}")

    def contains(self, needle: str) -> bool:
        assert not self.unreadable, (
            "the browser received bodies this check could not read: "
            + "; ".join(self.unreadable[:5])
        )
        return any(needle in chunk for chunk in self.chunks)


async def record_response(wire: Wire, response: Any) -> None:
    """Add a response's body to the wire, or record that it could not be read."""
    if 300 <= response.status < 400:
        # A redirect has no body (Playwright cannot give one); its target is what it says.
        wire.add_text(response.headers.get("location", ""))
        return
    try:
        body = await response.body()
    except Exception as exc:
        wire.unreadable.append(f"{response.status} {response.url}: {exc}")
        return
    wire.add_text(body.decode("utf-8", errors="replace"))


@dataclass
class Browser:
    """One person's browser (its own context, so its own session cookie)."""

    server: LiveServer
    context: Any
    page: Any
    wire: Wire
    errors: list[str]

    async def sign_in(self, token: str) -> None:
        await self.page.goto(f"{self.server.url}/auth/demo/{token}")
        await self.page.wait_for_selector("#save-status")

    async def go(self, path: str) -> None:
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        # Let the page finish reading what it asked for before leaving it: a response
        # cut off by the navigation could not be read, and the wire check counts that.
        with contextlib.suppress(PlaywrightTimeout):
            await self.page.wait_for_load_state("networkidle", timeout=3000)
        await self.page.goto(self.server.url + path)
        await self.page.wait_for_selector("main h1")

    async def axe(self, name: str) -> list[dict[str, Any]]:
        """Run axe-core (WCAG 2.1 A/AA); returns serious and critical violations."""
        source = AXE.read_text()
        # evaluate() is not subject to the page's CSP (a script tag would be).
        await self.page.evaluate("(src) => { (0, eval)(src) }", source)
        result = await self.page.evaluate(
            """async () => {
                const r = await window.axe.run(document, {
                  runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                  resultTypes: ['violations']
                });
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
            }"""
        )
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        return bad

    async def shot(self, name: str) -> Path:
        # No placeholder ever reaches a person: "null", "undefined", "NaN" or a raw key.
        visible = await self.page.evaluate("() => document.body.innerText")
        for leak in ("null", "undefined", "NaN", "[object Object]"):
            assert leak not in visible.split(), f"{name} shows {leak!r}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    def csp_errors(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "Refused to" in e]


class Browsers:
    def __init__(self, server: LiveServer, chromium: Any) -> None:
        self.server = server
        self.chromium = chromium
        self.opened: list[Browser] = []

    async def new(self, viewport: dict[str, int] = TABLET, *, touch: bool = False) -> Browser:
        context = await self.chromium.new_context(
            viewport=viewport,
            has_touch=touch,
            is_mobile=False,
            locale="nb-NO",
            timezone_id="Europe/Oslo",
        )
        context.set_default_timeout(15000)
        page = await context.new_page()
        wire = Wire()
        errors: list[str] = []

        async def on_response(response: Any) -> None:
            await record_response(wire, response)

        def on_ws(ws: Any) -> None:
            def received(payload: Any) -> None:
                if isinstance(payload, bytes | bytearray):
                    wire.add_bytes(bytes(payload))
                else:
                    wire.add_text(str(payload))

            ws.on("framereceived", received)

        page.on("response", on_response)
        page.on("websocket", on_ws)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        browser = Browser(self.server, context, page, wire, errors)
        self.opened.append(browser)
        return browser

    async def close(self) -> None:
        for b in self.opened:
            try:
                await b.context.close()
            except Exception:
                pass


@pytest.fixture
async def browsers(web_dist: Path, live_sqlite: LiveServer) -> AsyncIterator[Browsers]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail(
            "Python Playwright is missing: pip install playwright==1.65.1 "
            "(it drives /usr/bin/chromium; no `playwright install` needed)."
        )

    async with async_playwright() as p:
        chromium = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        pool = Browsers(live_sqlite, chromium)
        try:
            yield pool
        finally:
            await pool.close()
            await chromium.close()


def dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)
