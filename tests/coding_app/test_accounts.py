"""Accounts (#14): the PI lists, deactivates, resets and changes roles of accounts, audited; one account may
hold both coding roles but never a PI role beside them; migration 0010 carries each account's role over."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import select, text
from typer.testing import CliRunner

from coding_app import accounts, blinded
from coding_app.assignments import assign
from coding_app.cli import REFUSED, app
from coding_app.errors import NotAllowed, NotFound
from coding_app.logins import LoginRefused, identify, login
from coding_app.store.models import Account, WebSession
from tests.coding_app.helpers import PASSWORD, add_account, add_recordings, audit_rows

runner = CliRunner()
TEMPORARY = "temporary password 1"
NEW = "my own new password"


def cli(store, *args: str, user: str | None = "pi.one", password: str = PASSWORD, **env: str):
    url = store.engine.url.render_as_string(hide_password=False)
    options = ["--db", url, *(["--as", user] if user else [])]
    return runner.invoke(app, [*options, *args], env={"OBSCODE_PASSWORD": password, **env})


@pytest.fixture
def team(store):
    """A PI, an EA rater and a fidelity coder (password PASSWORD)."""
    for name, role in (("pi.one", "pi"), ("rater.one", "coder"), ("fidelity.one", "fidelity")):
        add_account(store, name, role)
    return store


def account(store, name: str) -> Account:
    with store.read() as db:
        return accounts.account_named(db, name)


# ------------------------------------------------------------------------------------- list


def test_user_list_shows_roles_activity_last_sign_in_and_a_pending_change_but_no_hash(team):
    login(team, "rater.one", PASSWORD, "10.0.0.1")
    accounts.reset_password(team, account(team, "pi.one"), "fidelity.one", TEMPORARY)
    result = cli(team, "user", "list")
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["name", "roles", "active", "last", "sign-in", "password"]
    cells = {row.split()[0]: row for row in rows}
    assert set(cells) == {"pi.one", "rater.one", "fidelity.one"}
    assert "coder" in cells["rater.one"] and "yes" in cells["rater.one"] and "UTC" in cells["rater.one"]
    assert "never" in cells["fidelity.one"] and "must change at next sign-in" in cells["fidelity.one"]
    assert "$argon2" not in result.output


def test_account_commands_are_for_a_pi_only_and_refusals_are_audited(team):
    for args in (
        ("user", "list"),
        ("user", "deactivate", "fidelity.one"),
        ("user", "role", "fidelity.one", "--add", "coder"),
    ):
        result = cli(team, *args, user="rater.one")
        assert (result.exit_code, result.stderr.strip()) == (REFUSED, "error: not a PI account, or wrong password")
    assert account(team, "fidelity.one").active and account(team, "fidelity.one").roles == {"fidelity"}
    with pytest.raises(NotAllowed):
        accounts.list_accounts(team, account(team, "rater.one"))
    assert [e.actor for e in audit_rows(team, "refused.account")] == ["rater.one"]


# ------------------------------------------------------------------------------ deactivate


def test_deactivation_ends_live_sessions_refuses_sign_in_and_reactivation_lets_it_back(team):
    cookies = [login(team, "rater.one", PASSWORD, client) for client in ("10.0.0.1", "10.0.0.2")]
    assert all(identify(team, cookie) for cookie in cookies)
    result = cli(team, "user", "deactivate", "rater.one")
    assert (result.exit_code, result.stdout.strip()) == (
        0,
        "deactivated rater.one: signed out everywhere, and cannot sign in",
    )
    assert [identify(team, cookie) for cookie in cookies] == [None, None]
    with team.read() as db:
        assert all(s.revoked_at is not None for s in db.scalars(select(WebSession)))
    with pytest.raises(LoginRefused):
        login(team, "rater.one", PASSWORD, "10.0.0.1")
    (entry,) = audit_rows(team, "account.deactivate")
    assert (entry.actor, entry.entity_id, entry.new) == ("pi.one", "rater.one", {"active": False, "sessions_ended": 2})

    assert cli(team, "user", "reactivate", "rater.one").exit_code == 0
    assert [identify(team, cookie) for cookie in cookies] == [None, None]  # old sessions stay ended
    assert identify(team, login(team, "rater.one", PASSWORD, "10.0.0.1")).account.name == "rater.one"
    assert [e.actor for e in audit_rows(team, "account.reactivate")] == ["pi.one"]


def test_deactivating_twice_an_unknown_name_or_the_only_pi_is_refused_with_the_name(team):
    pi = account(team, "pi.one")
    accounts.set_active(team, pi, "rater.one", False)
    assert cli(team, "user", "deactivate", "rater.one").stderr.strip() == "error: rater.one is already deactivated"
    assert cli(team, "user", "deactivate", "nobody").stderr.strip() == "error: there is no account named 'nobody'"
    only = cli(team, "user", "deactivate", "pi.one")
    assert (only.exit_code, only.stderr.strip()) == (
        REFUSED,
        "error: pi.one is the study's only active PI: add another PI first",
    )
    with pytest.raises(NotFound):
        accounts.set_active(team, pi, "nobody", False)


# ---------------------------------------------------------------------------------- reset


def test_a_reset_ends_sessions_and_forces_a_new_password_before_the_cli_works_again(team):
    add_account(team, "pi.two", "pi")
    cookie = login(team, "pi.two", PASSWORD, "10.0.0.1")
    reset = cli(team, "user", "reset", "pi.two", OBSCODE_NEW_PASSWORD=TEMPORARY)
    assert reset.exit_code == 0, reset.output
    assert identify(team, cookie) is None and account(team, "pi.two").must_change_password
    refused = cli(team, "user", "list", user="pi.two", password=TEMPORARY)
    assert (refused.exit_code, refused.stderr.strip()) == (
        REFUSED,
        "error: your password was reset: sign in to the app and choose a new one first",
    )
    assert (
        cli(team, "user", "list", user="pi.two", password=PASSWORD).stderr.strip()
        == "error: not a PI account, or wrong password"
    )

    with pytest.raises(ValueError, match="different from the current one"):
        accounts.change_password(team, account(team, "pi.two"), TEMPORARY, TEMPORARY)
    with pytest.raises(ValueError, match="current password is not right"):
        accounts.change_password(team, account(team, "pi.two"), PASSWORD, NEW)
    with pytest.raises(ValueError, match="at least 10 characters"):
        accounts.change_password(team, account(team, "pi.two"), TEMPORARY, "short")
    accounts.change_password(team, account(team, "pi.two"), TEMPORARY, NEW)
    assert not account(team, "pi.two").must_change_password
    assert cli(team, "user", "list", user="pi.two", password=NEW).exit_code == 0
    assert [(e.actor, e.entity_id) for e in audit_rows(team, "account.reset")] == [("pi.one", "pi.two")]
    assert [(e.actor, e.entity_id) for e in audit_rows(team, "account.password")] == [("pi.two", "pi.two")]
    assert all(TEMPORARY not in str(e.new) and NEW not in str(e.new) for e in audit_rows(team))


# ---------------------------------------------------------------------------------- roles


def test_one_account_codes_videos_and_fidelity_and_sees_both_kinds_through_the_door(study):
    store = study.store
    add_account(store, "pi.one", "pi")
    add_account(store, "rater.one", "coder")
    add_account(store, "rater.two", "coder")
    add_recordings(
        store,
        [{"recording_id": f"V{i}", "participant_id": f"P{i}", "kind": "video"} for i in range(3)]
        + [{"recording_id": f"A{i}", "participant_id": f"P{i}", "kind": "audio"} for i in range(2)],
    )
    result = cli(store, "user", "role", "rater.one", "--add", "fidelity")
    assert (result.exit_code, result.stdout.strip()) == (0, "rater.one now has the coder and fidelity roles")
    assign(store, ["rater.one", "rater.two"], kind="video", seed=1, actor="pi.one")
    assign(store, ["rater.one"], kind="audio", seed=2, actor="pi.one")
    both = blinded.queue(store, account(store, "rater.one"))
    assert sorted(item.kind for item in both) == ["audio", "audio", "video", "video", "video"]
    assert (
        blinded.task(store, account(store, "rater.one"), next(i.code for i in both if i.kind == "audio")).kind
        == "audio"
    )
    # rater.two (video only) sees only their own videos; an audio code is not theirs.
    assert {item.kind for item in blinded.queue(store, account(store, "rater.two"))} == {"video"}
    with pytest.raises(NotFound):
        blinded.task(store, account(store, "rater.two"), next(i.code for i in both if i.kind == "audio"))

    assert cli(store, "user", "role", "rater.one", "--remove", "fidelity").exit_code == 0
    assert {item.kind for item in blinded.queue(store, account(store, "rater.one"))} == {"video"}
    assert [(e.old, e.new) for e in audit_rows(store, "account.roles")] == [
        ({"roles": ["coder"]}, {"roles": ["coder", "fidelity"]}),
        ({"roles": ["coder", "fidelity"]}, {"roles": ["coder"]}),
    ]


PI_AND_CODER = (
    "error: a PI account cannot also code (a PI sees allocations; a coder must stay blind): "
    "give this person a separate coder account"
)


def test_a_pi_role_beside_a_coding_role_is_refused_however_asked(team):
    assert cli(team, "user", "role", "rater.one", "--add", "pi").stderr.strip() == PI_AND_CODER
    assert cli(team, "user", "role", "pi.one", "--add", "fidelity").stderr.strip() == PI_AND_CODER
    added = cli(team, "user", "add", "both.one", "--role", "pi", "--role", "coder", OBSCODE_NEW_PASSWORD=NEW)
    assert (added.exit_code, added.stderr.strip()) == (REFUSED, PI_AND_CODER)
    assert account(team, "both.one") is None
    assert account(team, "rater.one").roles == {"coder"} and account(team, "pi.one").roles == {"pi"}


def test_role_changes_name_what_is_wrong(team):
    assert (
        cli(team, "user", "role", "rater.one", "--remove", "coder").stderr.strip()
        == "error: an account needs a role: coder, fidelity, pi"
    )
    assert (
        cli(team, "user", "role", "rater.one", "--remove", "fidelity").stderr.strip()
        == "error: rater.one does not have the fidelity role"
    )
    assert (
        cli(team, "user", "role", "rater.one", "--add", "admin").stderr.strip()
        == "error: role must be one of coder, fidelity, pi, not 'admin'"
    )
    assert (
        cli(team, "user", "role", "pi.one", "--remove", "pi", "--add", "coder").stderr.strip()
        == "error: pi.one is the study's only active PI: add another PI first"
    )
    assert account(team, "rater.one").roles == {"coder"} and account(team, "pi.one").roles == {"pi"}


def test_an_account_added_with_two_coding_roles_holds_both(team):
    result = cli(team, "user", "add", "both.one", "--role", "coder", "--role", "fidelity", OBSCODE_NEW_PASSWORD=NEW)
    assert (result.exit_code, result.stdout.strip()) == (0, "added coder and fidelity account both.one")
    assert account(team, "both.one").roles == {"coder", "fidelity"}
    assert audit_rows(team, "account.add")[-1].new == {"name": "both.one", "roles": ["coder", "fidelity"]}


# ------------------------------------------------------------------------------------- add


def test_a_new_study_s_first_account_is_its_pi_added_with_no_account_to_act_as(store):
    coder_first = cli(store, "user", "add", "rater.one", "--role", "coder", user=None)
    assert (coder_first.exit_code, coder_first.stderr) == (
        REFUSED,
        "error: the study's first account must be its PI (--role pi), who then adds the others\n",
    )
    assert account(store, "rater.one") is None

    first = cli(store, "user", "add", "pi.one", "--role", "pi", user=None)

    assert (first.exit_code, first.stdout) == (0, "added pi account pi.one\n")
    assert identify(store, login(store, "pi.one", PASSWORD, "192.0.2.1")).account.name == "pi.one"
    assert [(e.actor, e.new) for e in audit_rows(store, "account.add")] == [
        ("cli", {"name": "pi.one", "roles": ["pi"]})
    ]
    assert [(e.actor, e.reason) for e in audit_rows(store, "refused.account")] == [
        ("anonymous", "the study's first account must be its PI (--role pi), who then adds the others")
    ]


def test_once_a_study_has_accounts_only_a_pi_adds_one_and_it_is_audited(team):
    nobody = cli(team, "user", "add", "pi.two", "--role", "pi", user=None)
    assert (nobody.exit_code, nobody.stderr) == (
        REFUSED,
        "error: the study has accounts: a PI adds the next one (--as NAME)\n",
    )
    by_coder = cli(team, "user", "add", "pi.two", "--role", "pi", user="rater.one", OBSCODE_NEW_PASSWORD=NEW)
    assert (by_coder.exit_code, by_coder.stderr) == (REFUSED, "error: not a PI account, or wrong password\n")
    with pytest.raises(NotAllowed):
        accounts.add(team, account(team, "rater.one"), "pi.two", ["pi"], NEW)
    assert account(team, "pi.two") is None

    added = cli(team, "user", "add", "rater.two", "--role", "coder", OBSCODE_NEW_PASSWORD=NEW)

    assert (added.exit_code, added.stdout) == (0, "added coder account rater.two\n")
    login(team, "rater.two", NEW, "192.0.2.1")  # the new account's password, not the PI's
    with pytest.raises(LoginRefused):
        login(team, "rater.two", PASSWORD, "192.0.2.1")
    assert [(e.actor, e.new) for e in audit_rows(team, "account.add")][-1] == (
        "pi.one",
        {"name": "rater.two", "roles": ["coder"]},
    )
    assert [(e.actor, e.reason) for e in audit_rows(team, "refused.account")] == [
        ("anonymous", "the study has accounts: a PI adds the next one (--as NAME)"),
        ("rater.one", "this needs the pi role"),
    ]


# ------------------------------------------------------------------------------ migration


def test_migration_0010_carries_each_accounts_role_over_and_back(store):
    """From 0009's one role column to account_role rows, and down again (nothing else in the row changes)."""
    config = store._alembic()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
        for number, (name, role) in enumerate((("pi.one", "pi"), ("rater.one", "coder"), ("fid.one", "fidelity"))):
            connection.execute(
                text(
                    "INSERT INTO account (id, name, role, password_hash, active, created_at) "
                    "VALUES (:id, :name, :role, 'hash', true, CURRENT_TIMESTAMP)"
                ),
                {"id": number + 1, "name": name, "role": role},
            )
        command.upgrade(config, "0010")
    with store.read() as db:
        found = {a.name: (a.roles, a.must_change_password, a.password_hash) for a in db.scalars(select(Account))}
    assert found == {
        "pi.one": ({"pi"}, False, "hash"),
        "rater.one": ({"coder"}, False, "hash"),
        "fid.one": ({"fidelity"}, False, "hash"),
    }
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
        assert dict(connection.execute(text("SELECT name, role FROM account")).all()) == {
            "pi.one": "pi",
            "rater.one": "coder",
            "fid.one": "fidelity",
        }
        command.upgrade(config, "head")
