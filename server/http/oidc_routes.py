"""Sign-in with OpenID Connect: ``GET /auth/login/{provider}`` → the provider →
``GET /auth/callback/{provider}`` → a server-side session; ``POST /auth/logout``.

These are plain routes rather than ``@api`` endpoints because they talk to the provider
between their database steps: no transaction is held open while the network answers
(SQLite transactions here take the write lock up front). Each step is its own short
transaction. Failures give a small HTML page with a short code, never a stack trace.

The ``state`` travels twice: in the URL through the provider, and in a signed, short-lived
cookie limited to the callback path, so a callback is accepted only in the browser that
started the sign-in (login CSRF). The pending row is deleted at the callback's first step.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime
from typing import cast

from itsdangerous import BadSignature, Signer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from collab.model import Role
from server.auth import oidc
from server.auth.identity import (
    CSRF_HEADER,
    SESSION_COOKIE,
    end_web_session,
    session_hash_of,
    start_web_session,
)
from server.db.auth_models import Invitation
from server.db.models import ParticipantRow, Person
from server.http import ratelimit
from server.http.common import ApiError, authenticate, error_response
from server.http.invite_routes import (
    InvitationRefused,
    accept_invitation,
    find_invitation,
    html_page,
    problem_page,
)
from server.runtime import Services
from server.settings import Settings

log = logging.getLogger("planrom.oidc")

LOGIN_COOKIE = "planrom_login"
CALLBACK_PATH = "/auth/callback/"
MAX_PARAM = 2000

FALLBACK_NAMES = {"citizen": "Innbygger", "staff": "Ansatt"}


def _services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


def _signer(settings: Settings) -> Signer:
    return Signer(settings.secret_key, salt="planrom-oidc-state")


def _refused(code: str, message: str, status: int = 400) -> Response:
    response = html_page(
        status,
        "Innloggingen mislyktes",
        [
            "Vi kunne ikke logge deg inn. Prøv igjen fra start. "
            "(Sign-in failed; please start again.)",
            message,
        ],
        [("Til Planrom", "/")],
        code=code,
    )
    response.delete_cookie(LOGIN_COOKIE, path=CALLBACK_PATH)
    return response


def _rate_limited(request: Request) -> Response | None:
    services = _services(request)
    if ratelimit.allow_sign_in(request, services.settings.rate_sign_in):
        return None
    services.metrics.count_error("rate-limited")
    return html_page(
        429, "For mange forsøk", ["Vent litt og prøv igjen. (Rate limited.)"], code="rate-limited"
    )


def set_session_cookie(response: Response, settings: Settings, cookie: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=settings.session_absolute_seconds,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )


async def login(request: Request) -> Response:
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    services = _services(request)
    settings = services.settings
    kind = request.path_params["provider"]
    provider = oidc.providers_of(request.app.state, settings).get(kind)
    if provider is None:
        return html_page(
            404,
            "Ukjent innlogging",
            [
                "Denne innloggingstjenesten er ikke satt opp. "
                "(This sign-in provider is not configured.)"
            ],
            code="not-configured",
        )
    invite = request.query_params.get("invite")
    invitation_id: str | None = None
    if invite is not None:
        async with services.sessionmaker() as db, db.begin():
            found = await find_invitation(db, invite, services.clock())
        if isinstance(found, str):
            return problem_page(found)
        if kind not in oidc.provider_for_role(settings, Role(found.participant.role)):
            return problem_page("wrong-provider")
        invitation_id = found.invitation.id
    try:
        metadata = await provider.metadata()
    except oidc.SignInError as exc:
        log.warning("%s sign-in unavailable: %s", kind, exc.message)
        return _refused("unavailable", "Innloggingstjenesten svarer ikke nå.", 503)
    async with services.sessionmaker() as db, db.begin():
        pending = await oidc.begin_login(
            db, kind, invitation_id=invitation_id, now=services.clock(), settings=settings
        )
    url = provider.authorization_url(
        metadata, state=pending.state, nonce=pending.nonce, code_verifier=pending.code_verifier
    )
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        LOGIN_COOKIE,
        _signer(settings).sign(pending.state).decode(),
        max_age=settings.oidc_login_ttl_seconds,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path=CALLBACK_PATH,
    )
    response.headers["cache-control"] = "no-store"
    return response


def _cookie_state(request: Request, settings: Settings) -> str | None:
    raw = request.cookies.get(LOGIN_COOKIE, "")
    if not raw or len(raw) > 300:
        return None
    try:
        return _signer(settings).unsign(raw).decode()
    except BadSignature:
        return None


async def callback(request: Request) -> Response:
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    services = _services(request)
    settings = services.settings
    kind = request.path_params["provider"]
    provider = oidc.providers_of(request.app.state, settings).get(kind)
    if provider is None:
        return _refused("not-configured", "Ukjent innloggingstjeneste.", 404)
    params = request.query_params
    state = params.get("state", "")
    if not state or len(state) > 200:
        return _refused("state", "Svaret mangler en gyldig «state».")
    expected = _cookie_state(request, settings)
    if expected is None or not hmac.compare_digest(expected.encode(), state.encode()):
        return _refused("state", "Svaret hører ikke til en innlogging i denne nettleseren.")
    async with services.sessionmaker() as db, db.begin():
        pending = await oidc.take_login(db, state, kind, services.clock())
    if pending is None:
        return _refused("state", "Innloggingen er ukjent, utløpt eller allerede brukt.")
    if params.get("error"):
        error = params.get("error", "")[:60]
        return _refused("refused", f"Innloggingstjenesten avbrøt innloggingen ({error}).")
    code = params.get("code", "")
    if not code or len(code) > MAX_PARAM:
        return _refused("code", "Svaret mangler en kode.")
    try:
        metadata = await provider.metadata()
        issuer = params.get("iss")
        if issuer is not None and issuer != metadata.issuer:  # RFC 9207: mix-up defence
            return _refused("issuer", "Svaret kom fra en annen innloggingstjeneste.")
        tokens = await provider.exchange(metadata, code=code, code_verifier=pending.code_verifier)
        identity = await provider.verify(
            metadata, tokens, nonce=pending.nonce, now=services.clock()
        )
    except oidc.SignInError as exc:
        log.warning("%s sign-in refused: %s: %s", kind, exc.code, exc.message)
        services.metrics.count_error(f"sign-in-{exc.code}")
        status = 503 if exc.code == "unavailable" else 400
        return _refused(exc.code, exc.message, status)
    return await _finish(request, services, kind, identity, pending.invitation_id)


class _Abort(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


async def _sign_in_person(
    db: AsyncSession,
    request: Request,
    settings: Settings,
    kind: str,
    identity: oidc.VerifiedIdentity,
    invitation_id: str | None,
    now: datetime,
) -> tuple[str, str, str | None]:
    """In one transaction: the person (created on first sign-in), the invitation bound,
    the session started. Returns the cookie, the person and the plan joined, if any."""
    fallback = FALLBACK_NAMES[kind]
    if invitation_id is not None:
        invitation = await db.get(Invitation, invitation_id)
        if invitation is not None:
            invited = await db.get(ParticipantRow, invitation.participant_id)
            if invited is not None:
                fallback = invited.name
    person: Person = await oidc.person_for(db, identity, now=now, fallback_name=fallback)
    plan_id: str | None = None
    if invitation_id is not None:
        try:
            plan_id = await accept_invitation(
                db, invitation_id, person, provider=kind, settings=settings, now=now
            )
        except InvitationRefused as refused:
            raise _Abort(refused.problem) from None
    previous = request.cookies.get(SESSION_COOKIE)
    previous_hash = session_hash_of(settings, previous) if previous else None
    if previous_hash is not None:  # signing in again replaces this browser's session
        await end_web_session(db, previous_hash, now)
    cookie, _csrf = await start_web_session(
        db,
        person.id,
        via="oidc",
        now=now,
        settings=settings,
        user_agent=request.headers.get("user-agent", ""),
    )
    session_hash = session_hash_of(settings, cookie)
    assert session_hash is not None
    await oidc.record_sign_in(db, session_hash, identity, now)
    return cookie, person.id, plan_id


async def _finish(
    request: Request,
    services: Services,
    kind: str,
    identity: oidc.VerifiedIdentity,
    invitation_id: str | None,
) -> Response:
    settings = services.settings
    for attempt in (1, 2):
        try:
            async with services.sessionmaker() as db, db.begin():
                cookie, person_id, plan_id = await _sign_in_person(
                    db, request, settings, kind, identity, invitation_id, services.clock()
                )
            break
        except _Abort as abort:  # nothing of this sign-in is kept
            response: Response = problem_page(abort.code)
            response.delete_cookie(LOGIN_COOKIE, path=CALLBACK_PATH)
            return response
        except IntegrityError:
            # The same identity signed in twice at once and the other created the person:
            # the second attempt finds them.
            if attempt == 2:
                raise
    if plan_id is not None:
        await services.access_changed(plan_id)
    log.info("signed in with %s: person %s", kind, person_id)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, settings, cookie)
    response.delete_cookie(LOGIN_COOKIE, path=CALLBACK_PATH)
    response.headers["cache-control"] = "no-store"
    return response


async def logout(request: Request) -> Response:
    """End this browser session; answer where to go next: the provider's end-session URL
    (RP-initiated logout) when the session came from one that supports it, else ``/``."""
    services = _services(request)
    settings = services.settings
    if not ratelimit.allow_write(request, settings.rate_write):
        return error_response("rate-limited", "For mange forespørsler (rate limited).")
    kind: str | None = None
    id_token = ""
    try:
        async with services.sessionmaker() as db, db.begin():
            auth = await authenticate(request, db, services, services.clock())
            if auth is not None and auth.via == "cookie":
                header = request.headers.get(CSRF_HEADER, "")
                if not auth.csrf or not hmac.compare_digest(header.encode(), auth.csrf.encode()):
                    raise ApiError("forbidden", "Mangler CSRF-token (missing CSRF token).")
                assert auth.session_hash is not None
                await end_web_session(db, auth.session_hash, services.clock())
                sign_in = await oidc.sign_in_of(db, auth.session_hash)
                if sign_in is not None:
                    kind, id_token = sign_in.provider, sign_in.id_token
    except ApiError as exc:
        return error_response(exc.code, exc.message, exc.status)
    redirect = "/"
    provider = oidc.providers_of(request.app.state, settings).get(kind) if kind else None
    if provider is not None:
        redirect = (
            await provider.logout_url(
                id_token=id_token, post_logout_redirect_uri=f"{settings.base_url}/"
            )
            or "/"
        )
    response = JSONResponse({"ok": True, "redirect": redirect})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


ROUTES = [
    Route("/auth/login/{provider}", login, methods=["GET"]),
    Route("/auth/callback/{provider}", callback, methods=["GET"]),
    Route("/auth/logout", logout, methods=["POST"]),
]
