"""Rendered minutes, made once: finalised minutes never change (a correction is a new
version), so each (version, reader's view, language, format) is rendered once, in a
worker process, and kept in ``rendered_minutes``; later requests are served from there.

The key is a SHA-256 of everything the bytes depend on: the renderer's version, the
minutes row (one per version), the kind of rendering, the language, the owner's name (for
the summary) and the content as filtered to the reader. Readers who may see the same
parts share a row; the number of rows per version is bounded by the number of distinct
views times languages times formats.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from server import minutes
from server.db import meeting_repo
from server.runtime import Services
from server.workers import Job, JobKind, Unavailable

__all__ = ["MEDIA_TYPES", "Job", "Unavailable", "job_of", "key_of", "render_and_store"]

MEDIA_TYPES: dict[JobKind, str] = {
    "minutes-pdf": "application/pdf",
    "minutes-html": "text/html; charset=utf-8",
    "summary-html": "text/html; charset=utf-8",
}


def job_of(
    kind: JobKind, content: Mapping[str, Any], lang: str | None, owner_name: str = ""
) -> Job:
    """A job from plain, filtered content (a JSON round trip: nothing else gets through)."""
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Job(kind, text, minutes.language(lang), owner_name)


def key_of(minutes_id: int, job: Job) -> str:
    digest = hashlib.sha256()
    head = [str(minutes.RENDERER_VERSION), str(minutes_id), job.kind, job.lang, job.owner_name]
    digest.update(json.dumps(head, ensure_ascii=False).encode())
    digest.update(b"\0")
    digest.update(job.content_json.encode())
    return digest.hexdigest()


async def render_and_store(services: Services, key: str, minutes_id: int, job: Job) -> bytes:
    """Render ``job`` in the pool and keep the result; raises :class:`Unavailable`."""
    pool = services.workers
    if pool is None:
        raise Unavailable("not-running", 5)
    data = await pool.render(key, job)
    async with services.sessionmaker() as db, db.begin():
        await meeting_repo.store_rendered(
            db,
            key=key,
            minutes_id=minutes_id,
            kind=job.kind,
            lang=job.lang,
            data=data,
            at=services.clock(),
        )
    return data
