"""Replicas behind a proxy: two `obscode run` processes on one PostgreSQL study behind Debian's nginx.

The demo study is loaded into a database of the test cluster; two replicas serve it with media
handed to nginx (OBSCODE_ACCEL_REDIRECT), and nginx runs the site `obscode deploy nginx` prints
(plain http on a free port) under its own prefix in tmp. The test config adds one thing only: a
response header naming the replica that answered (``$upstream_addr``), so a test can tell where
a browser landed. Debian's chromium signs coders in through nginx.
"""

from __future__ import annotations

import csv
import itertools
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner
from playwright.sync_api import expect
from typer.testing import CliRunner

from coding_app import blinded, logins
from coding_app.accounts import account_named
from coding_app.cli import REFUSED, app
from coding_app.deploy import MEDIA_LOCATION, nginx_config
from coding_app.logins import identify, media_token
from coding_app.store import Store
from coding_app.web.routes import ACCEL_REDIRECT
from coding_app.web.runtime import COOKIE
from fixtures.load_demo import ACCOUNTS
from tests.conftest import TEMPLATE
from tests.e2e.conftest import (
    LOAD_TIMEOUT,
    ROOT,
    VENV_BIN,
    Demo,
    _free_port,
    _seed_study_sources,
    media,
    open_recording,
    queue_rows,
    reran,
    serving,
    sign_in,
    wait_for_media,
)
from tests.e2e.test_blinding import assert_nothing_unblinds
from tests.e2e.test_coding import choose, scale_groups, score, wait_checked

REPLICA = "x-obscode-replica"
DRAFT_SAVED = re.compile(r"^Draft saved at \d\d:\d\d:\d\d$")
SENSITIVITY, NON_INTRUSIVENESS = "ea_sensitivity", "ea_non_intrusiveness"
# Records every connection state the Streamlit page goes through, so a test can wait for it to have
# lost its server and then be connected again (however fast the reconnection).
WATCH_CONNECTION = """() => {
  const app = document.querySelector("[data-testid=stApp]");
  window.obscodeStates = [app.getAttribute("data-test-connection-state")];
  new MutationObserver(() => window.obscodeStates.push(app.getAttribute("data-test-connection-state")))
    .observe(app, {attributes: true, attributeFilter: ["data-test-connection-state"]});
}"""
RECONNECTED = """() => {
  const states = window.obscodeStates;
  return states.some(s => s !== "CONNECTED") && states[states.length - 1] === "CONNECTED";
}"""


@dataclass
class Replica:
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"


@dataclass
class Proxied:
    demo: Demo
    store: Store
    replicas: list[Replica]
    stack: ExitStack
    media_dir: Path
    killed: list[Replica] = field(default_factory=list)

    def start(self, replica: Replica) -> None:
        command = [str(VENV_BIN / "obscode"), "run", "--port", str(replica.port)]
        replica.process = self.stack.enter_context(
            serving(command, f"{replica.url}/_stcore/health", replica.log, cwd=ROOT, env=replica.env)
        )

    def kill(self, address: str) -> Replica:
        """SIGKILL the replica at this address (its whole process group: no shutdown code runs)."""
        (replica,) = (r for r in self.replicas if r.address == address)
        os.killpg(replica.process.pid, signal.SIGKILL)
        assert replica.process.wait(timeout=15) == -signal.SIGKILL
        self.killed.append(replica)
        return replica


def nginx_main(prefix: Path, site: Path) -> str:
    """nginx.conf for a test instance: everything under ``prefix``, the site included as Debian would."""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root nginx's workers would run as nobody, who cannot enter pytest's private tmp folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} info;\n"
        f"events {{ worker_connections 512; }}\nhttp {{\n{temp}\n    include {site};\n}}\n"
    )


def test_obscode_deploy_nginx_prints_an_https_site_nginx_accepts(tmp_path):
    made = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=t",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(tmp_path / "cert.pem"),
        ],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    media_dir = tmp_path / "media-store"
    printed = CliRunner().invoke(
        app,
        [
            "--media",
            str(media_dir),
            "deploy",
            "nginx",
            "--port",
            "8601",
            "--port",
            "8602",
            "--server-name",
            "coding.example.org",
            "--certificate",
            str(tmp_path / "cert.pem"),
            "--certificate-key",
            str(tmp_path / "key.pem"),
            "--log-dir",
            str(tmp_path),
        ],
    )
    assert printed.exit_code == 0, printed.output
    site = printed.output
    assert "hash $cookie_obscode_session consistent;" in site
    assert "server 127.0.0.1:8601 " in site and "server 127.0.0.1:8602 " in site
    assert f"alias {media_dir.resolve()}/;" in site and f"location {MEDIA_LOCATION} {{\n        internal;" in site
    (tmp_path / "obscode.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(nginx_main(tmp_path, tmp_path / "obscode.conf"))
    checked = subprocess.run(
        [
            "/usr/sbin/nginx",
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-e",
            str(tmp_path / "error.log"),
        ],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["deploy", "nginx", "--port", "8601", "--port", "8601"], "replica ports are given twice: 8601, 8601"),
        (["deploy", "nginx", "--server-name", "coding.example.org; evil"], "server name 'coding.example.org; evil'"),
        (["deploy", "nginx", "--port", "70000"], "not a port: 70000"),
        (["run", "--accel-redirect", "_protected_media"], "'_protected_media' is not a location"),
    ],
)
def test_deploy_and_run_refuse_what_nginx_could_not_use(tmp_path, arguments, message):
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path / 'none.db'}", *arguments])
    assert result.exit_code == REFUSED and message in result.output, result.output
    assert not (tmp_path / "none.db").exists()


def test_obscode_deploy_systemd_prints_a_replica_unit_handing_media_to_nginx(tmp_path):
    printed = CliRunner().invoke(
        app, ["--media", str(tmp_path / "media-store"), "deploy", "systemd", "--working-directory", str(tmp_path)]
    )
    assert printed.exit_code == 0, printed.output
    lines = printed.output.splitlines()
    assert f"Environment=OBSCODE_MEDIA_DIR={(tmp_path / 'media-store').resolve()}" in lines
    assert (
        f"Environment={ACCEL_REDIRECT}={MEDIA_LOCATION}" in lines and f"WorkingDirectory={tmp_path.resolve()}" in lines
    )
    (start,) = (line for line in lines if line.startswith("ExecStart="))
    assert start.endswith("/obscode run --port %i --address 127.0.0.1") and Path(start.split()[0][10:]).is_file()
    assert not [line for line in lines if "OBSCODE_DATABASE_URL=" in line and not line.startswith("#")]


def with_replica_header(site: str) -> str:
    """The test's one addition to the generated site: which replica answered each proxied request."""
    location = "    location / {\n"
    assert site.count(location) == 1
    return site.replace(location, f"{location}        add_header X-Obscode-Replica $upstream_addr always;\n")


@pytest.fixture(scope="module")
def proxied(postgres, tmp_path_factory, pytestconfig) -> Iterator[Proxied]:
    tmp = tmp_path_factory.mktemp("proxy")
    url = postgres.create_database("proxy_demo", template=TEMPLATE)
    media_dir = tmp / "media-store"
    env = os.environ | {"OBSCODE_DATABASE_URL": url, "OBSCODE_MEDIA_DIR": str(media_dir)}
    study = tmp / "study"
    _seed_study_sources(pytestconfig, study, env)
    loaded = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "fixtures.load_demo", str(study), "--coding-open"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=LOAD_TIMEOUT,
    )
    assert loaded.returncode == 0, f"loading the demo study failed:\n{loaded.stdout}\n{loaded.stderr}"
    replica_env = env | {ACCEL_REDIRECT: MEDIA_LOCATION}
    replicas = [Replica(_free_port(), replica_env, tmp / f"replica-{n}.log") for n in (1, 2)]
    port = _free_port()
    prefix = tmp / "nginx"
    prefix.mkdir()
    site = nginx_config([r.port for r in replicas], "127.0.0.1", media_dir, listen=port, tls=False, log_dir=prefix)
    (prefix / "obscode.conf").write_text(with_replica_header(site))
    (prefix / "nginx.conf").write_text(nginx_main(prefix, prefix / "obscode.conf"))
    nginx = [
        "/usr/sbin/nginx",
        "-p",
        str(prefix),
        "-c",
        str(prefix / "nginx.conf"),
        "-e",
        str(prefix / "error.log"),
        "-g",
        "daemon off;",
    ]
    store = Store(url)
    with ExitStack() as stack:
        stack.callback(store.dispose)
        base = f"http://127.0.0.1:{port}"
        with (study / "manifest.csv").open(newline="", encoding="utf-8") as f:
            manifest = list(csv.DictReader(f))
        here = Proxied(Demo(base_url=base, study=study, manifest=manifest), store, replicas, stack, media_dir)
        for replica in replicas:
            here.start(replica)
        stack.enter_context(serving(nginx, f"{base}/_stcore/health", prefix / "nginx.out", cwd=prefix))
        yield here


def served_by(page, proxied: Proxied) -> str:
    """The replica that serves this browser now (its cookies decide), as host:port."""
    response = page.request.get(proxied.demo.url("/_stcore/health"))
    assert response.ok, response.status
    return response.headers[REPLICA]


def test_coders_signed_in_through_the_proxy_land_on_both_replicas(proxied, new_context):
    """Each sign-in is a new cookie, hashed to a replica: sign coders in until both replicas serve one."""
    landed: dict[str, list[str]] = {}
    names = itertools.cycle(("rater.two", "rater.three", "fidelity.one", "rater.one"))
    for name in itertools.islice(names, 24):
        page = new_context().new_page()
        sign_in(page, proxied.demo, name, ACCOUNTS[name][1])
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        landed.setdefault(served_by(page, proxied), []).append(name)
        if len(landed) == len(proxied.replicas):
            break
    assert set(landed) == {r.address for r in proxied.replicas}, landed


@dataclass
class Opened:
    url: str
    cookie: str
    code: str
    media_type: str
    stored: Path


def open_first_recording(page, proxied: Proxied, name: str) -> Opened:
    """Sign in as ``name`` and open their first recording: its media URL, the session cookie and the stored file."""
    sign_in(page, proxied.demo, name)
    code = queue_rows(page)[0]["Recording"]
    open_recording(page, proxied.demo, code)
    wait_for_media(page)
    url = media(page).evaluate("m => m.currentSrc || m.src")
    (cookie,) = (c["value"] for c in page.context.cookies() if c["name"] == COOKIE)
    with proxied.store.read() as db:
        account = account_named(db, name)
    found = blinded.media(proxied.store, account, code)
    return Opened(url, cookie, code, found.media_type, proxied.media_dir / found.name)


def test_media_bytes_come_from_nginx_with_ranges_and_refusals_through_the_proxy(proxied, new_context):
    page = new_context().new_page()
    opened = open_first_recording(page, proxied, "fidelity.one")
    url, cookie, stored = opened.url, opened.cookie, opened.stored
    data = stored.read_bytes()
    request = page.request

    whole = request.get(url)
    assert whole.status == 200 and whole.body() == data
    part = request.get(url, headers={"Range": "bytes=100-4195"})
    assert part.status == 206 and part.body() == data[100:4196]
    assert part.headers["content-range"] == f"bytes 100-4195/{len(data)}"
    assert request.get(url, headers={"Range": f"bytes={len(data) + 10}-"}).status == 416
    head = request.head(url)
    assert head.status == 200 and int(head.headers["content-length"]) == len(data)
    # What the app sends today, and nothing nginx would add about the file or itself.
    for response in (whole, part, head):
        headers = response.headers
        assert headers["content-type"] == opened.media_type
        assert headers["cache-control"] == "private, no-store" and headers["x-content-type-options"] == "nosniff"
        assert headers["last-modified"] == "Thu, 01 Jan 1970 00:00:00 GMT" and headers["server"] == "nginx"
        assert not {"etag", "content-disposition", "x-accel-redirect"} & set(headers), headers

    # The replica only authorises: asked directly, it hands the file to nginx and sends no byte of it.
    path = url.removeprefix(proxied.demo.base_url)
    direct = httpx.get(proxied.replicas[0].url + path, cookies={COOKIE: cookie})
    assert direct.status_code == 200 and direct.content == b""
    assert direct.headers["x-accel-redirect"] == MEDIA_LOCATION + stored.name
    # The internal location cannot be asked for from outside.
    assert request.get(proxied.demo.url(MEDIA_LOCATION + stored.name)).status == 404

    token = path.rsplit("/", 1)[1]
    forged = request.get(proxied.demo.url(f"/obscode/media/{token[:-2]}xx"))
    assert forged.status == 403 and forged.body() == b"Forbidden"
    with pytest.MonkeyPatch.context() as patch:
        stale = TimestampSigner.get_timestamp(None) - int(logins.MEDIA_TOKEN_LIFETIME.total_seconds()) - 60
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: stale)
        expired = media_token(proxied.store, identify(proxied.store, cookie), opened.code)
    assert request.get(proxied.demo.url(f"/obscode/media/{expired}")).status == 403
    assert httpx.get(url).status_code == 403  # no session cookie


def test_the_blinding_crawl_through_the_proxy(proxied, new_context):
    assert_nothing_unblinds(new_context().new_page(), proxied.demo, new_context)


def test_a_coder_whose_replica_is_killed_carries_on_on_the_other_signed_in_and_losing_nothing(proxied, new_context):
    """SIGKILL the replica serving a coder mid-coding: their page reconnects through nginx to the other one.

    Streamlit's page, reconnected, does not rerun by itself (it expects the same process), so the
    coder's next step in the app is the new replica's first run: here, back to the queue and into
    the recording again, as the app's own links do, with no new sign-in.
    """
    page = new_context().new_page()
    sign_in(page, proxied.demo, "rater.one")
    code = next(row["Recording"] for row in queue_rows(page) if row["Status"] == "not started")
    open_recording(page, proxied.demo, code)
    choose(scale_groups(page).first, "6")
    expect(page.get_by_text(DRAFT_SAVED).first).to_be_visible()
    pages_seen: list[str] = []
    page.on("framenavigated", lambda frame: pages_seen.append(frame.url))
    page.evaluate(WATCH_CONNECTION)

    killed = proxied.kill(served_by(page, proxied))
    try:
        page.wait_for_function(RECONNECTED, timeout=60_000)
        assert served_by(page, proxied) != killed.address
        with reran(page):
            page.get_by_role("link", name="Back to my queue").click()
        (row,) = (row for row in queue_rows(page) if row["Recording"] == code)
        assert row["Status"] == "in progress", row
        open_recording(page, proxied.demo, code)
        first, second = scale_groups(page).all()
        wait_checked(first, "6")  # the draft made before the kill, shown by the other replica
        score(page, second, "3.5")
        assert not [url for url in pages_seen if "/obscode/login" in url], pages_seen
    finally:
        proxied.start(killed)  # the other tests find both replicas whatever the order

    with proxied.store.read() as db:
        coder = account_named(db, "rater.one")
    saved = {k: (r.score, r.status) for k, r in blinded.task(proxied.store, coder, code).ratings.items()}
    assert saved == {SENSITIVITY: (6.0, "draft"), NON_INTRUSIVENESS: (3.5, "draft")}
