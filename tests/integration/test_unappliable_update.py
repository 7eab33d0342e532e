"""A real Yjs update that pycrdt cannot apply is refused before it is stored (issue 15).

``collab.rooms.check_update`` applies every update to a scratch document first. Without
it such an update (an XmlHook, or legacy ContentJSON, both made by the npm ``yjs``) was
stored, and every later load of the document failed: ``unavailable`` on every join.
"""

from __future__ import annotations

import pytest
from pycrdt import Doc, Text
from sqlalchemy import func, select

from collab.rooms import Rooms, RoomSettings
from collab.yproto import SyncStep, encode_sync
from server.db.docstore import SqlDocStore
from server.db.models import DocUpdate
from tests.conftest import Demo, LiveServer
from tests.yclient import YClient
from tests.yjs_fixtures import yjs_updates


async def _stored(live: LiveServer, doc: str) -> int:
    async with live.services.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).where(DocUpdate.doc == doc)) or 0)


@pytest.mark.parametrize("fixture", ["xmlhook", "json"])
async def test_an_update_pycrdt_cannot_apply_is_refused_and_nothing_is_stored(
    live: LiveServer, demo: Demo, fixture: str
) -> None:
    made = yjs_updates()[fixture]
    with pytest.raises(ValueError):  # the premise: pycrdt really cannot apply it
        Doc().apply_update(made.update)
    ((client_id, _, _),) = made.ranges
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    # The sender's own clientID, so the foreign-client check passes and only check_update
    # stands between the update and storage.
    per = YClient(live.url, demo.token(plan, "per"), client_id=client_id)
    await per.connect()
    try:
        assert (await per.join(doc))["ok"]
        await per.wait_synced(doc)
        before = await _stored(live, doc)
        ack = await per.send(doc, encode_sync(SyncStep.UPDATE, made.update))
        assert await _stored(live, doc) == before
        assert ack["ok"] is False and ack["error"]["code"] == "malformed", ack
        # The document stays usable: the same connection edits on, and it is stored.
        good = await per.insert(doc, 0, "Etter avvisningen. ")
        assert good["ok"] is True, good
        assert await _stored(live, doc) == before + 1
    finally:
        await per.close()
    # Someone else opens it and sees the edit.
    maria = YClient(live.url, demo.token(plan, "maria"))
    await maria.connect()
    try:
        assert (await maria.join(doc)) == {"ok": True, "access": "write"}
        await maria.wait_synced(doc)
        assert maria.text(doc).startswith("Etter avvisningen. ")
    finally:
        await maria.close()
    # And a fresh process loads it from storage (what every join after a restart does).
    rooms = Rooms(SqlDocStore(live.services.sessionmaker), RoomSettings())
    room = await rooms.get(doc)
    assert str(room.doc.get("situation", type=Text)).startswith("Etter avvisningen. ")
