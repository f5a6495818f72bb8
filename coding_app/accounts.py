"""Local accounts: coders, fidelity coders and PIs, with argon2id password hashes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeGuard

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from . import audit
from .errors import NotAllowed, NotFound
from .store import Store
from .store.models import ROLES, Account, WebSession, now

MIN_PASSWORD_LENGTH = 10
MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH = 100, 1000
FIRST_ACCOUNT_ACTOR = "cli"
"""Who the audit log says added the study's first account: a command run with no account to act as."""
# Which role codes which kind of recording: EA raters the play videos, fidelity coders the session audio.
ROLE_FOR_KIND = {"video": "coder", "audio": "fidelity"}
_NAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._@+-]{{0,{MAX_NAME_LENGTH - 1}}}$")
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verifying against this when the name is unknown keeps the time the same either way.
_DUMMY_HASH = _hasher.hash("not a real password")


def add_account(db: Session, name: str, roles: str | Iterable[str], password: str, actor: str) -> Account:
    """A new active account with one role or several (see :func:`check_roles`)."""
    roles = check_roles({roles} if isinstance(roles, str) else set(roles))
    if not _NAME.match(name):
        raise ValueError(
            "an account name (or institution email) is 1-100 letters, digits, '.', '_', '-', '@' or '+', "
            "starting with a letter or digit"
        )
    check_password(password)
    if db.scalar(select(Account).where(Account.name == name)) is not None:
        raise ValueError(f"there is already an account named {name!r}")
    account = Account(name=name, roles=roles, password_hash=_hasher.hash(password), active=True)
    db.add(account)
    db.flush()
    audit.record(db, actor, "account.add", "account", account.id, new={"name": name, "roles": sorted(roles)})
    return account


@audit.refusals("refused.account", "account", entity_id="name")
def add(store: Store, pi: Account | None, name: str, roles: Iterable[str], password: str) -> Account:
    """Add an account: the PI's to do, audited (refusals too).

    The study's first account is the exception, made with no PI to act (``pi`` None): somebody must be
    able to sign in to add the rest, so it may only be a PI. Once any account exists, ``pi`` is required.
    """
    roles = check_roles(set(roles))
    with store.write() as db:
        if pi is None:
            if db.scalar(select(Account.id).limit(1)) is not None:
                raise NotAllowed("the study has accounts: a PI adds the next one (--as NAME)")
            if roles != {"pi"}:
                raise NotAllowed("the study's first account must be its PI (--role pi), who then adds the others")
        else:
            require_role(pi, "pi")
        return add_account(db, name, roles, password, FIRST_ACCOUNT_ACTOR if pi is None else pi.name)


def check_roles(roles: set[str]) -> set[str]:
    """``roles`` if an account may hold them together: at least one, each known, and a PI holds no coding role.

    A PI sees allocations and everyone's scores; a coder must stay blind to both.
    """
    if not roles:
        raise ValueError("an account needs a role: " + ", ".join(ROLES))
    if unknown := sorted(roles - set(ROLES)):
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {unknown[0]!r}")
    if "pi" in roles and len(roles) > 1:
        raise ValueError(
            "a PI account cannot also code (a PI sees allocations; a coder must stay blind): "
            "give this person a separate coder account"
        )
    return roles


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password has at most {MAX_PASSWORD_LENGTH} characters (the sign-in form takes no more)")


def authenticate(store: Store, name: str, password: str) -> Account | None:
    """The active account with this name and password, else None (never says which was wrong).

    Read, check the password with no transaction open, then write only a stronger hash if one is due.
    """
    with store.read() as db:
        account = active_account(db, name)
    if not password_matches(account, password):
        return None
    if (rehashed := upgraded_hash(account, password)) is not None:
        with store.write() as db:
            db.get_one(Account, account.id).password_hash = rehashed
    return account


def active_account(db: Session, name: str) -> Account | None:
    return db.scalar(select(Account).where(Account.name == name, Account.active.is_(True)))


def password_matches(account: Account | None, password: str) -> TypeGuard[Account]:
    """Whether ``password`` is the account's; always False for None, after the same argon2 work.

    Argon2 is ~50 ms of CPU on purpose: call this outside any write transaction, or a flood of
    logins holds the database's write lock and starves every coder's save.
    """
    try:
        _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return account is not None


def upgraded_hash(account: Account, password: str) -> str | None:
    """A new hash of the (just verified) password if the library now recommends stronger parameters."""
    return _hasher.hash(password) if _hasher.check_needs_rehash(account.password_hash) else None


def require_role(account: Account, *roles: str) -> None:
    """Refuse unless the account has one of ``roles``; checked again inside every privileged action."""
    if not account.has_role(*roles):
        raise NotAllowed(f"this needs the {' or '.join(roles)} role")


def account_named(db: Session, name: str) -> Account | None:
    return db.scalar(select(Account).where(Account.name == name))


@dataclass(frozen=True)
class AccountSummary:
    """What the PI's account list shows: never a password hash."""

    name: str
    roles: tuple[str, ...]
    active: bool
    last_sign_in: datetime | None
    """When the account's latest session began (app or institution sign-in), if it ever signed in."""
    must_change_password: bool


@audit.refusals("refused.account", "account")
def list_accounts(store: Store, pi: Account) -> list[AccountSummary]:
    require_role(pi, "pi")
    last = select(WebSession.account_id, func.max(WebSession.created_at).label("at")).group_by(WebSession.account_id)
    with store.read() as db:
        signed_in = dict(db.execute(last).all())
        accounts = db.scalars(select(Account).order_by(Account.name)).all()
    return [
        AccountSummary(a.name, tuple(sorted(a.roles)), a.active, signed_in.get(a.id), a.must_change_password)
        for a in accounts
    ]


@audit.refusals("refused.account", "account", entity_id="name")
def set_active(store: Store, pi: Account, name: str, active: bool) -> None:
    """Deactivate an account (its live sessions end at once and it cannot sign in), or reactivate it."""
    require_role(pi, "pi")
    with store.write() as db:
        account = _existing(db, name)
        if account.active == active:
            raise ValueError(f"{name} is already {'active' if active else 'deactivated'}")
        if not active:
            _keep_a_pi(db, account)
        account.active = active
        ended = 0 if active else end_sessions(db, account)
        audit.record(
            db,
            pi.name,
            "account.reactivate" if active else "account.deactivate",
            "account",
            name,
            old={"active": not active},
            new={"active": active, "sessions_ended": ended},
        )


@audit.refusals("refused.account", "account", entity_id="name")
def reset_password(store: Store, pi: Account, name: str, password: str) -> None:
    """Give the account a temporary password, to be changed at its next sign-in; its live sessions end."""
    require_role(pi, "pi")
    check_password(password)
    hashed = _hasher.hash(password)  # before the transaction: argon2 is slow on purpose
    with store.write() as db:
        account = _existing(db, name)
        account.password_hash, account.must_change_password = hashed, True
        ended = end_sessions(db, account)
        audit.record(
            db, pi.name, "account.reset", "account", name, new={"must_change_password": True, "sessions_ended": ended}
        )


@audit.refusals("refused.account", "account", entity_id="name")
def change_roles(store: Store, pi: Account, name: str, add: Iterable[str] = (), remove: Iterable[str] = ()) -> set[str]:
    """Add and remove roles; the account's roles afterwards."""
    require_role(pi, "pi")
    add, remove = set(add), set(remove)
    with store.write() as db:
        account = _existing(db, name)
        old = set(account.roles)
        if missing := sorted(remove - old):
            raise ValueError(f"{name} does not have the {missing[0]} role")
        new = check_roles((old | add) - remove)
        if "pi" in old - new:
            _keep_a_pi(db, account)
        account.roles = new
        audit.record(
            db, pi.name, "account.roles", "account", name, old={"roles": sorted(old)}, new={"roles": sorted(new)}
        )
    return new


def change_password(store: Store, account: Account, current: str, new: str) -> None:
    """The account holder's own change (forced after a reset, or by choice): the current password first."""
    check_password(new)
    if new == current:
        raise ValueError("choose a password different from the current one")
    with store.read() as db:
        found = active_account(db, account.name)
    if not password_matches(found, current):
        raise ValueError("the current password is not right: nothing was changed")
    hashed = _hasher.hash(new)
    with store.write() as db:
        found = db.get_one(Account, found.id)
        found.password_hash, found.must_change_password = hashed, False
        audit.record(db, found.name, "account.password", "account", found.name)


def _existing(db: Session, name: str) -> Account:
    account = account_named(db, name)
    if account is None:
        raise NotFound(f"there is no account named {name!r}")
    return account


def _keep_a_pi(db: Session, leaving: Account) -> None:
    """Refuse to take away the study's last active PI: nobody could then manage accounts."""
    others = (
        select(func.count())
        .select_from(Account)
        .where(Account.has_role("pi"), Account.active, Account.id != leaving.id)
    )
    if leaving.has_role("pi") and leaving.active and db.scalar(others) == 0:
        raise ValueError(f"{leaving.name} is the study's only active PI: add another PI first")


def end_sessions(db: Session, account: Account | None = None) -> int:
    """Revoke the account's live sessions (every account's with None); how many there were."""
    live: ColumnElement[bool] = WebSession.revoked_at.is_(None)
    if account is not None:
        live &= WebSession.account_id == account.id
    ended = db.execute(update(WebSession).where(live).values(revoked_at=now()))
    return ended.rowcount  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult; execute() is typed Result
