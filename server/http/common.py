"""What every API route shares: the route table, JSON in and out, errors, auth, the DB.

A route is an ``async def handler(call) -> Reply`` registered with :func:`api`. The
wrapper authenticates, checks CSRF for cookie sessions, reads and validates the body
against the route's JSON Schema, runs the handler in one database transaction and
renders ``{"error": {"code", "message"}}`` for every refusal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from jsonschema.validators import extend  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collab.model import is_id
from collab.policy import Decision, PlanContext, Principal, access_grounds
from collab.refusal import RefusalCode, Refused
from server.auth.identity import (
    CSRF_HEADER,
    SESSION_COOKIE,
    Authenticated,
    resolve_token,
    resolve_web_session,
)
from server.db import audit, repo
from server.db.denials import Denial
from server.http import messages, ratelimit
from server.http.messages import Said
from server.refusals import HTTP_STATUS, wire_code
from server.runtime import Services

log = logging.getLogger("planrom.http")


def _is_strict_integer(checker: object, instance: object) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


# JSON Schema counts 1.0 as an integer; the handlers need a real int (dates, list indexes).
BodyValidator = extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
)


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


# One answer for "there is no such thing" and "you may not know it exists": a refusal must
# not tell a participant that a section, measure or plan outside their consent exists.
NOT_FOUND_MESSAGE = "Fant ikke dette, eller du har ikke samtykke til å se det."


class ApiError(Refused):
    """A refusal answered over HTTP: the status from the one table
    (``server.refusals.HTTP_STATUS``) unless given, headers such as ``Retry-After``, and
    the message to the person (``message``, or ``said`` in the reader's language)."""

    def __init__(
        self,
        code: RefusalCode,
        message: str,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        said: Said | None = None,
    ) -> None:
        super().__init__(code, message, message)
        self.message: str = message
        self.status = status or HTTP_STATUS[code]
        self.headers = dict(headers or {})
        # A message by key (server.http.messages): written in the reader's language, and
        # the reply names the field it is about.
        self.said = said

    @classmethod
    def of(cls, refused: Refused) -> ApiError:
        """A refusal from policy or the domain as an answer: ``not-found`` says nothing
        more (whether the thing is hidden or does not exist); otherwise its message for
        the person, else its reason."""
        if isinstance(refused, ApiError):
            return refused
        if refused.code == "not-found":
            return cls(refused.code, NOT_FOUND_MESSAGE)
        return cls(refused.code, refused.message or refused.reason)

    @classmethod
    def about(cls, code: RefusalCode, said: Said) -> ApiError:
        """A refusal about one field, in bokmål here and in the reader's language in
        the reply."""
        return cls(code, messages.say(said, "nb"), said=said)


def error_reply(exc: ApiError, lang: str) -> JSONResponse:
    """``exc`` as a reply to a reader of ``lang``."""
    if exc.said is None:
        return error_response(exc.code, exc.message, exc.status, exc.headers)
    body: dict[str, Any] = {"code": wire_code(exc.code), "message": messages.say(exc.said, lang)}
    if exc.said.field:
        body["field"] = exc.said.field
    return JSONResponse({"error": body}, status_code=exc.status, headers=dict(exc.headers) or None)


def error_response(
    code: RefusalCode,
    message: str,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": wire_code(code), "message": message}},
        status_code=status or HTTP_STATUS[code],
        headers=dict(headers) if headers else None,
    )


def retry_later(code: RefusalCode, message: str, seconds: int) -> ApiError:
    """A ``rate-limited`` or ``unavailable`` refusal that says when to come back."""
    return ApiError(code, message, headers={"Retry-After": str(max(1, seconds))})


@dataclass(frozen=True)
class AfterCommit:
    """A reply made once the request's transaction has committed, for slow work (a
    render in a worker) that must not hold the transaction open (on SQLite: the write
    lock). ``make`` may raise :class:`ApiError`."""

    make: Callable[[], Awaitable[Response]]


@dataclass
class _LogEntry:
    plan_id: str
    action: str
    target: str
    detail: str
    keep_on_error: bool


@dataclass
class Call:
    request: Request
    db: AsyncSession
    services: Services
    now: datetime
    auth: Authenticated | None
    body: Any
    params: Mapping[str, str]
    _log: list[_LogEntry] = field(default_factory=list)
    _after: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _contexts: dict[str, PlanContext] = field(default_factory=dict)  # for log grounds

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` once the transaction has committed (e.g. tell live sessions)."""
        self._after.append(action)

    @property
    def principal(self) -> Principal:
        if self.auth is None:
            raise ApiError("unauthenticated", "Du må logge inn (sign in required).")
        return self.auth.principal

    def param_id(self, name: str) -> str:
        value = self.params[name]
        if not is_id(value):
            raise ApiError("not-found", f"Fant ikke {name} «{value[:40]}».")
        return value

    def query(self, name: str, default: str | None = None) -> str | None:
        value = self.request.query_params.get(name, default)
        if value is not None and len(value) > 200:
            raise ApiError("malformed", f"Query parameter {name} is too long.")
        return value

    async def plan(self, plan_id: str) -> PlanContext:
        ctx = await repo.load_context(self.db, plan_id, self.now)
        if ctx is None:
            raise ApiError("not-found", NOT_FOUND_MESSAGE)
        self._contexts.setdefault(plan_id, ctx)
        return ctx

    def _grounds(self, entry: _LogEntry) -> str:
        """Why the caller had access (``policy.access_grounds``), as the plan was when
        the request first loaded it; a section's level when the target is a section."""
        ctx = self._contexts.get(entry.plan_id)
        if ctx is None or self.auth is None:
            return ""
        kind, _, ident = entry.target.partition(":")
        section = ident if kind == "section" else None
        return access_grounds(ctx, self.auth.principal, section)

    def log(
        self, plan_id: str, action: str, target: str, detail: str = "", *, keep: bool = False
    ) -> None:
        """Record an access-log entry; ``keep`` keeps it even if the request fails."""
        self._log.append(_LogEntry(plan_id, action, target, detail, keep))

    def require(self, decision: Decision, plan_id: str, target: str) -> None:
        """Raise the decision's refusal (and log it for the owner) unless it allows."""
        if decision.allowed:
            return
        self.log(plan_id, "denied", target, decision.reason, keep=True)
        code = decision.code or "forbidden"
        if code == "not-found":
            # The reason stays in the access log: it would tell that the thing exists.
            raise ApiError(code, NOT_FOUND_MESSAGE)
        if decision.message is not None:
            raise ApiError(code, decision.message)
        message = {
            "forbidden": "Du har ikke tilgang til dette",
            "conflict": "Dette kan ikke endres nå",
            "malformed": "Forespørselen kan ikke godtas",
        }[code]
        raise ApiError(code, f"{message} ({decision.reason}).")

    def _denial(self, entry: _LogEntry) -> Denial:
        actor = self.auth.principal if self.auth else None
        return Denial(
            plan_id=entry.plan_id,
            at=self.now,
            person_id=actor.person if actor else None,
            actor=actor.name if actor else "ukjent",
            target=entry.target,
            detail=entry.detail,
        )

    def keeps_log_after_error(self) -> bool:
        """Whether a failed request still has entries to store. Refusals whose window of
        the access log is full are only counted (in memory, see server.db.denials)."""
        denials = self.services.denials
        self._log = [
            e
            for e in self._log
            if not (e.keep_on_error and e.action == "denied" and denials.absorb(self._denial(e)))
        ]
        return any(e.keep_on_error for e in self._log)

    async def flush_log(self, *, failed: bool) -> None:
        actor = self.auth.principal if self.auth else None
        for entry in self._log:
            if failed and not entry.keep_on_error:
                continue
            if entry.action == "denied":
                # Bounded per plan, person and day (server.db.denials).
                denial = self._denial(entry)
                if not self.services.denials.absorb(denial):
                    await self.services.denials.record(self.db, denial)
                continue
            await audit.append(
                self.db,
                plan_id=entry.plan_id,
                at=self.now,
                person_id=actor.person if actor else None,
                actor=actor.name if actor else "ukjent",
                action=entry.action,
                target=entry.target,
                detail=entry.detail,
                grounds=self._grounds(entry),
            )


Reply = Mapping[str, Any] | list[Any] | Response | AfterCommit
Handler = Callable[[Call], Awaitable[Reply]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    body: Mapping[str, Any] | None
    status: int
    auth: bool
    tag: str
    responses: tuple[int, ...]
    costly: bool = False


class Endpoints(list[Endpoint]):
    """The routes of one route module, in the order they are declared. A route module
    makes one (``api = Endpoints()``) and declares its routes with ``@api(...)``;
    ``server.app.create_app`` joins the modules' lists and hands them to Starlette and to
    the OpenAPI document. Nothing is registered anywhere else."""

    def __call__(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        body: Mapping[str, Any] | None = None,
        status: int = 200,
        auth: bool = True,
        tag: str = "plans",
        responses: tuple[int, ...] = (),
        costly: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Declare a route. ``costly`` GETs (minutes, logs, overviews) share a per-person
        rate limit (``Settings.rate_costly_read``)."""

        def declare(handler: Handler) -> Handler:
            if body is not None:
                Draft202012Validator.check_schema(body)
            self.append(
                Endpoint(method, path, handler, summary, body, status, auth, tag, responses, costly)
            )
            return handler

        return declare


async def authenticate(
    request: Request, db: AsyncSession, services: Services, now: datetime
) -> Authenticated | None:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            raise ApiError("unauthenticated", "Bruk «Authorization: Bearer <token>».")
        found = await resolve_token(db, raw.strip(), now=now, settings=services.settings)
        if found is None:
            raise ApiError("unauthenticated", "Ugyldig eller utløpt token.")
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return await resolve_web_session(db, cookie, now=now, settings=services.settings)
    return None


async def read_body(request: Request, services: Services, schema: Mapping[str, Any]) -> Any:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError("unsupported-media-type", "Send JSON (Content-Type: application/json).")
    limit = services.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise ApiError("too-large", f"Body larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError("too-large", f"Body larger than {limit} bytes.")
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks) or b"null", parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise ApiError("malformed", f"Not valid JSON: {str(exc)[:120]}") from None
    _refuse_unstorable_text(data)
    validator = BodyValidator(schema)
    try:
        error = next(iter(sorted(validator.iter_errors(data), key=lambda e: list(e.path))), None)
    except RecursionError:
        raise ApiError("malformed", "Body is nested too deeply.") from None
    if error is not None:
        raise ApiError("malformed", _describe(error), said=_said(error))
    return data


def _refuse_unstorable_text(data: Any) -> None:
    """Text no database stores: lone UTF-16 surrogates (from JSON escapes such as
    ``"\\ud800"``) cannot be encoded, and PostgreSQL refuses NUL characters."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                raise ApiError("malformed", "Teksten inneholder et nulltegn (NUL).")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ApiError("malformed", "Teksten inneholder ugyldige tegn.") from None


def _describe(error: ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "body"
    return f"{where}: {error.message[:200]}"


def _said(error: ValidationError) -> Said:
    schema = error.schema if isinstance(error.schema, dict) else {}
    return messages.schema_said(
        str(error.validator),
        [str(p) for p in error.absolute_path],
        error.validator_value,
        error.instance,
        schema.get("properties", {}),
    )


def _endpoint_app(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        held: list[str] = []  # the person holding a ``refused`` token while this runs
        try:
            return await answer(request, held)
        finally:
            if held:
                services = cast(Services, request.app.state.services)
                ratelimit.release_refused(request, held[0], services.settings.rate_refused)

    async def answer(request: Request, held: list[str]) -> Response:
        services = cast(Services, request.app.state.services)
        now = services.clock()
        lang = messages.reader_language(request.headers.get("accept-language"))
        services.metrics.count_request(endpoint.path, endpoint.method)
        if endpoint.method != "GET" and not ratelimit.allow_write(
            request, services.settings.rate_write
        ):
            services.metrics.count_error("rate-limited")
            return error_response("rate-limited", "For mange forespørsler; vent litt.")
        async with services.sessionmaker() as db:
            call: Call | None = None
            person: str | None = None
            try:
                async with db.begin():
                    auth = await authenticate(request, db, services, now)
                    if endpoint.auth and auth is None:
                        raise ApiError("unauthenticated", "Du må logge inn (sign in required).")
                    person = auth.principal.person if auth is not None else None
                    if person is not None:
                        _check_person_limits(request, services, endpoint, person, held)
                    if (
                        auth is not None
                        and auth.via == "cookie"
                        and endpoint.method != "GET"
                        and request.headers.get(CSRF_HEADER) != auth.csrf
                    ):
                        raise ApiError("forbidden", "Mangler CSRF-token (missing CSRF token).")
                    body = (
                        await read_body(request, services, endpoint.body)
                        if endpoint.body is not None
                        else None
                    )
                    call = Call(request, db, services, now, auth, body, request.path_params)
                    reply = await endpoint.handler(call)
                    await call.flush_log(failed=False)
            except Refused as refused:
                exc = ApiError.of(refused)
                if call is not None and call.keeps_log_after_error():
                    async with db.begin():
                        await call.flush_log(failed=True)
                if exc.code in ("forbidden", "not-found"):
                    if held:
                        held.clear()  # the held token pays for this refusal
                    elif person is not None:
                        ratelimit.count_refused(request, person, services.settings.rate_refused)
                services.metrics.count_error(exc.code)
                return error_reply(exc, lang)
            assert call is not None
            # The change is committed: every follow-up runs even if one fails, and the
            # answer is the committed result (a failure here is logged, not a 500).
            for action in call._after:
                try:
                    await action()
                except Exception:
                    log.exception(
                        "after-commit step of %s %s failed", endpoint.method, endpoint.path
                    )
        if isinstance(reply, AfterCommit):
            try:
                return await reply.make()
            except Refused as refused:
                exc = ApiError.of(refused)
                services.metrics.count_error(exc.code)
                return error_reply(exc, lang)
        if isinstance(reply, Response):
            return reply
        return JSONResponse(reply, status_code=endpoint.status)

    return run


def _check_person_limits(
    request: Request, services: Services, endpoint: Endpoint, person: str, held: list[str]
) -> None:
    """Per-person limits, checked before the route runs: a person who was refused too
    often waits (every request), and costly GETs have their own budget. Once past the
    first check the request holds one ``refused`` token (named in ``held``), given back
    unless the answer is a refusal."""
    settings = services.settings
    wait = ratelimit.reserve_refused(request, person, settings.rate_refused)
    if wait:
        raise retry_later(
            "rate-limited", f"For mange avviste forespørsler; prøv igjen om {wait} sekunder.", wait
        )
    held.append(person)
    if endpoint.costly:
        wait = ratelimit.costly_read_wait(request, person, settings.rate_costly_read)
        if wait:
            raise retry_later(
                "rate-limited",
                "For mange forespørsler etter referater, logger og oversikter; "
                f"prøv igjen om {wait} sekunder.",
                wait,
            )


def starlette_routes(endpoints: Iterable[Endpoint]) -> list[Route]:
    """One Starlette route per endpoint, each wrapped in the frame above."""
    return [
        Route(e.path, _endpoint_app(e), methods=[e.method], name=e.handler.__name__)
        for e in endpoints
    ]
