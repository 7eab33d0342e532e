"""The Socket.IO origin check as a real browser meets it: our own page connects over
WebSocket and over long-polling (whose same-origin GET handshake carries no Origin
header, but Sec-Fetch-Site: same-origin), and a page of another origin is refused
with `forbidden`."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import Browsers

# Engine.IO v4 by hand: open, then the Socket.IO CONNECT ("40"); the answer is
# "40{sid}" (connected) or "44{error}" (refused).
POLLING = """async () => {
  const base = '/socket.io/?EIO=4&transport=polling';
  const open = await (await fetch(base, {credentials: 'include'})).text();
  const sid = JSON.parse(open.slice(1)).sid;
  await fetch(`${base}&sid=${sid}`, {method: 'POST', body: '40', credentials: 'include'});
  return await (await fetch(`${base}&sid=${sid}`, {credentials: 'include'})).text();
}"""

WEBSOCKET = """(url) => new Promise((resolve) => {
  const ws = new WebSocket(url);
  ws.onmessage = (e) => {
    const text = String(e.data);
    if (text.startsWith('0')) ws.send('40');
    else if (text.startsWith('4')) { ws.close(); resolve(text); }
  };
  ws.onerror = () => resolve('error');
  setTimeout(() => resolve('timeout'), 10000);
})"""


@pytest.mark.timeout(120)
async def test_our_pages_connect_by_polling_and_websocket_and_other_origins_are_refused(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    per = await browsers.new()
    await per.sign_in(demo_sqlite.token(demo_sqlite.per, "per"))
    port = live_sqlite.url.rsplit(":", 1)[1]
    socket_url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"

    polled = await per.page.evaluate(POLLING)
    assert polled.startswith("40{") and "sid" in json.loads(polled[2:]), polled
    over_websocket = await per.page.evaluate(WEBSOCKET, socket_url)
    assert over_websocket.startswith("40{"), over_websocket

    # A page of another origin in the same browser (so with Per's cookie at hand), served
    # from this machine: Chromium keeps public sites off loopback addresses anyway.
    async def page(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b"<!doctype html><title>Tilbud</title><h1>Fint tilbud</h1>"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    other = await asyncio.start_server(page, "127.0.0.1", 0)
    other_port = other.sockets[0].getsockname()[1]
    try:
        await per.page.goto(f"http://localhost:{other_port}/")
        refused = await per.page.evaluate(WEBSOCKET, socket_url)
    finally:
        other.close()
    assert refused.startswith("44{"), (refused, per.errors)
    assert json.loads(refused[2:])["data"]["code"] == "forbidden"
