"""The browser wire recorder fails a "never received" check it cannot back up."""

from __future__ import annotations

import pytest

from tests.conftest import LiveServer
from tests.e2e.conftest import Browsers, Wire, record_response


async def test_a_body_the_browser_cannot_read_makes_absence_checks_fail(
    browsers: Browsers, live_sqlite: LiveServer
) -> None:
    browser = await browsers.new()
    async with browser.page.expect_response(lambda r: r.url.endswith("/healthz")) as info:
        await browser.page.goto(live_sqlite.url + "/healthz")
    response = await info.value
    readable = Wire()
    await record_response(readable, response)
    assert readable.contains('"ok"') and not readable.contains("never-sent-text")

    await browser.context.close()  # the body is gone with the page
    lost = Wire()
    await record_response(lost, response)
    assert lost.unreadable and "/healthz" in lost.unreadable[0]
    with pytest.raises(AssertionError, match="could not read"):
        lost.contains("never-sent-text")


def test_an_undecodable_polling_packet_makes_absence_checks_fail() -> None:
    wire = Wire()
    wire.add_text("4hello\x1eb" + "%%% not base64")
    with pytest.raises(AssertionError, match="base64 packet"):
        wire.contains("secret")
