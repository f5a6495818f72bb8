"""Local accounts: coders, fidelity coders and PIs, with argon2id password hashes."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .errors import NotAllowed
from .store import Store
from .store.models import ROLES, Account

MIN_PASSWORD_LENGTH = 10
MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH = 100, 1000
# Which role codes which kind of recording: EA raters the play videos, fidelity coders the session audio.
ROLE_FOR_KIND = {"video": "coder", "audio": "fidelity"}
_NAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._@+-]{{0,{MAX_NAME_LENGTH - 1}}}$")
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verifying against this when the name is unknown keeps the time the same either way.
_DUMMY_HASH = _hasher.hash("not a real password")


def add_account(db: Session, name: str, role: str, password: str, actor: str) -> Account:
    if not _NAME.match(name):
        raise ValueError(
            "an account name (or institution email) is 1-100 letters, digits, '.', '_', '-', '@' or '+', "
            "starting with a letter or digit"
        )
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password has at most {MAX_PASSWORD_LENGTH} characters (the sign-in form takes no more)")
    if db.scalar(select(Account).where(Account.name == name)) is not None:
        raise ValueError(f"there is already an account named {name!r}")
    account = Account(name=name, role=role, password_hash=_hasher.hash(password), active=True)
    db.add(account)
    db.flush()
    audit.record(db, actor, "account.add", "account", account.id, new={"name": name, "role": role})
    return account


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
            db.get(Account, account.id).password_hash = rehashed
    return account


def active_account(db: Session, name: str) -> Account | None:
    return db.scalar(select(Account).where(Account.name == name, Account.active.is_(True)))


def password_matches(account: Account | None, password: str) -> bool:
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
    if account.role not in roles:
        raise NotAllowed(f"this needs the {' or '.join(roles)} role")


def account_named(db: Session, name: str) -> Account | None:
    return db.scalar(select(Account).where(Account.name == name))
