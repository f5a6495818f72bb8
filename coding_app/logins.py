"""Logins for local accounts: server-side sessions, signed tokens, and a brake on guessing.

A browser holds a random session token in an HttpOnly cookie, signed with the study's secret;
the database keeps only the token's digest, so a copy of the database cannot be replayed as a
login. Logout revokes the session row: the old cookie is then worthless. Every attempt is an
audit row, and those rows are also the record the brake counts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .accounts import active_account, password_matches, upgraded_hash
from .store import Store
from .store.models import Account, AuditEntry, StudySetting, WebSession, now

SESSION_LIFETIME = timedelta(hours=12)
IDLE_TIMEOUT = timedelta(hours=2)
MAX_FAILURES = 5
"""Failed logins for one account from one client address within the window before it is throttled there."""
MAX_CLIENT_FAILURES = 20
"""Failed logins from one client address, for any accounts, within the window."""
FAILURE_WINDOW = timedelta(minutes=15)
# A media token outlives a long pause; a page view older than this gets a fresh one.
MEDIA_TOKEN_LIFETIME = timedelta(hours=6)
TICKET_LIFETIME = timedelta(seconds=60)
_LAST_SEEN_GRANULARITY = timedelta(minutes=1)


class LoginRefused(Exception):
    """Wrong name or password, or too many recent failures; the message is safe to show."""


class LoginThrottled(LoginRefused):
    """Too many recent failures from this client: refused without checking the password."""


@dataclass(frozen=True)
class Identity:
    account: Account
    session_id: str


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones: compare them as aware."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@cache
def secret_key(store: Store) -> str:
    """The study's signing secret, made on first use and kept in the database (shared by all app servers).

    Cached per store: it never changes once made, and every page view and media request needs it.
    """
    with store.read() as db:
        setting = db.get(StudySetting, "secret_key")
    if setting is not None:
        return str(setting.value)
    with store.write() as db:
        setting = db.get(StudySetting, "secret_key")
        if setting is None:
            setting = StudySetting(key="secret_key", value=secrets.token_urlsafe(48))
            db.add(setting)
        return str(setting.value)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signer(store: Store) -> Signer:
    return Signer(secret_key(store), salt="obscode-session")


def login(store: Store, name: str, password: str, client: str) -> str:
    """A signed session token for the cookie; raises :class:`LoginRefused` otherwise.

    ``client`` is the address the attempt came from. The password is checked between a read and
    a short write, never inside a transaction (see :func:`accounts.password_matches`).
    """
    name, key = name.strip(), client_key(store, client)
    with store.read() as db:
        throttled = _throttled(db, name, key)
        account = None if throttled else active_account(db, name)
    verified = account if throttled is None and password_matches(account, password) else None
    rehashed = None if verified is None else upgraded_hash(verified, password)
    with store.write() as db:
        # Read again: an account deactivated since the check is refused like a wrong password.
        account = None if verified is None else db.get(Account, verified.id)
        if throttled:
            audit.record(db, "anonymous", "login.throttled", "account", name, new={"client": key}, reason=throttled)
            refused: LoginRefused | None = LoginThrottled(throttled)
        elif account is None or not account.active:
            audit.record(db, "anonymous", "login.failed", "account", name, new={"client": key})
            refused = LoginRefused("wrong name or password")
        else:
            refused = None
            if rehashed is not None:
                account.password_hash = rehashed
            token = _start(db, account, "password")
    if refused is not None:
        raise refused  # after the write: its audit row is kept
    return _signer(store).sign(token).decode()


def client_key(store: Store, address: str) -> str:
    """What the audit log keeps of a client address: enough to count its attempts, not the address itself."""
    return hmac.new(secret_key(store).encode(), f"client:{address}".encode(), hashlib.sha256).hexdigest()[:16]


def _throttled(db: Session, name: str, key: str) -> str | None:
    """Why this client may not try now, or None: too many recent failures for this account from this
    client, or for any account from it.

    Counting per account *and* client means a stranger's wrong guesses cannot lock a coder out
    from the coder's own address. Concurrent attempts are counted before any of them is written,
    so a burst can overshoot a limit by its size; the next attempt after it is refused.
    """
    failures = (
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "login.failed",
            AuditEntry.at >= now() - FAILURE_WINDOW,
            AuditEntry.new["client"].as_string() == key,
        )
    )
    if db.execute(failures.where(AuditEntry.entity_id == audit.entity_key(name))).scalar_one() >= MAX_FAILURES:
        return "too many failed attempts for this account: wait 15 minutes, or ask the PI"
    if db.execute(failures).scalar_one() >= MAX_CLIENT_FAILURES:
        return "too many failed attempts from this address: wait 15 minutes, or ask the PI"
    return None


def _start(db: Session, account: Account, method: str, token: str | None = None) -> str:
    token = token or secrets.token_urlsafe(32)
    db.add(WebSession(id=_digest(token), account_id=account.id, expires_at=now() + SESSION_LIFETIME))
    audit.record(db, account.name, "login.ok", "account", account.name, new={"method": method})
    return token


def _tickets(store: Store) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(store), salt="obscode-ticket")


def institution_ticket(store: Store, email: str) -> str | None:
    """After an OIDC sign-in (st.login), a short-lived ticket for the session route; None if no account.

    The account is the active one named by the identity provider's verified email. The ticket
    names it and carries a new session's token, signed and valid for ``TICKET_LIFETIME``; the
    session is made when the session route redeems the ticket, which it does once only.
    """
    with store.write() as db:
        account = db.scalar(
            select(Account).where(func.lower(Account.name) == email.strip().lower(), Account.active.is_(True))
        )
        if account is None:
            audit.record(db, "anonymous", "login.unknown_institution_account", "account", email.strip().lower())
            return None
    return _tickets(store).dumps({"account": account.id, "token": secrets.token_urlsafe(32)})


def redeem_ticket(store: Store, ticket: str) -> str | None:
    """The signed session cookie for a valid, fresh ticket redeemed for the first time, else None.

    The session's id is the digest of the ticket's token, so a second redemption (a replayed
    sign-in link, within its lifetime) finds it: refused and audited. Locking the account row
    makes two concurrent redemptions take turns (PostgreSQL; SQLite writes take turns anyway).
    """
    try:
        data = _tickets(store).loads(ticket, max_age=int(TICKET_LIFETIME.total_seconds()))
    except BadSignature:
        return None
    with store.write() as db:
        account = db.get_one(Account, data["account"], with_for_update=True)
        if not account.active:
            return None
        if db.get(WebSession, _digest(data["token"])) is None:
            return _signer(store).sign(_start(db, account, "oidc", data["token"])).decode()
        audit.record(db, "anonymous", "refused.ticket", "account", account.name, reason="sign-in link used again")
    return None


def identify(store: Store, cookie: str | None) -> Identity | None:
    """The account behind a session cookie, if the session is live; refreshes its idle clock.

    No cookie is a visitor. A cookie presented and refused (forged, unknown, revoked, expired)
    is audited: it is a replay or a forgery, or at best a session that ran out.
    """
    if not cookie:
        return None
    try:
        token = _signer(store).unsign(cookie).decode()
    except BadSignature:
        audit.refused(store, "anonymous", "refused.session", "session", reason="bad signature")
        return None
    session_id = _digest(token)
    moment = now()
    with store.read() as db:
        session = db.get(WebSession, session_id)
        account = db.get(Account, session.account_id) if session else None
    why = _refusal(session, account, moment)
    if why is not None:
        audit.refused(store, account.name if account else "anonymous", "refused.session", "session", reason=why)
        return None
    assert session is not None and account is not None  # no refusal: both were found
    if aware(session.last_seen_at) + _LAST_SEEN_GRANULARITY <= moment:
        with store.write() as db:
            db.get_one(WebSession, session_id).last_seen_at = moment
    return Identity(account, session_id)


def _refusal(session: WebSession | None, account: Account | None, moment: datetime) -> str | None:
    """Why a validly signed session cookie is no longer a login, or None when it is one."""
    if session is None or account is None:
        return "unknown session"
    if not account.active:
        return "account deactivated"
    if session.revoked_at is not None:
        return "session signed out"
    if aware(session.expires_at) <= moment:
        return "session expired"
    if aware(session.last_seen_at) + IDLE_TIMEOUT <= moment:
        return "session idle too long"
    return None


def logout(store: Store, identity: Identity) -> None:
    """Revoke this session: its cookie is worthless afterwards."""
    with store.write() as db:
        db.get_one(WebSession, identity.session_id).revoked_at = now()
        audit.record(db, identity.account.name, "logout", "account", identity.account.name)


def form_token(store: Store, binding: str) -> str:
    """A token for a sign-in or sign-out form, good only beside ``binding``, a secret of the browser's own.

    The sign-in form is bound to a pre-session cookie, the sign-out form to the session: a page on
    another site can post a form, but cannot read or send (SameSite=Lax) the cookie its token needs.
    """
    return URLSafeTimedSerializer(secret_key(store), salt="obscode-form").dumps(_digest(binding))


def form_token_fits(store: Store, token: str, binding: str) -> bool:
    try:
        bound = URLSafeTimedSerializer(secret_key(store), salt="obscode-form").loads(
            token, max_age=int(SESSION_LIFETIME.total_seconds())
        )
    except BadSignature:
        return False
    return isinstance(bound, str) and hmac.compare_digest(bound, _digest(binding))


def _media_serializer(store: Store) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(store), salt="obscode-media")


def session_reference(session_id: str) -> str:
    """What a media token says of its session: enough to match, nothing to look the session up by."""
    return hashlib.sha256(f"media:{session_id}".encode()).hexdigest()[:24]


def media_token(store: Store, identity: Identity, code: str) -> str:
    """A signed token for one recording's media, bound to this login session."""
    return _media_serializer(store).dumps({"s": session_reference(identity.session_id), "r": code})


def read_media_token(store: Store, token: str) -> tuple[str, str] | None:
    """(session reference, recording code) of a valid, unexpired media token, else None."""
    try:
        data = _media_serializer(store).loads(token, max_age=int(MEDIA_TOKEN_LIFETIME.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), str) or not isinstance(data.get("r"), str):
        return None
    return data["s"], data["r"]
