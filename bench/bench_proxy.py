"""Range requests for the demo's largest media file: sent by nginx (X-Accel-Redirect) vs streamed by Python.

OURS: nginx with the site `obscode deploy nginx` prints (plain http, its own prefix in a temp
folder) in front of an `obscode run` with OBSCODE_ACCEL_REDIRECT: the app authorises each
request and nginx sends the bytes. PYTHON: `obscode run` without it, whose route streams the
file with Starlette's FileResponse: one behind the same nginx site (nginx -> python), one asked
directly (python direct, how a single-process site runs). Each route has its own app process.

The largest file any demo coder can open is found through the coders' door; a coder signs in
over HTTP and each route gets ROUNDS x 256 KiB ranges at the same random offsets, one request at
a time on a kept-alive connection, the routes taking turns. Printed: median and p95 time per
request, the ratio of medians, and the CPU seconds each app process spent.

Uses the study OBSCODE_DATABASE_URL and OBSCODE_MEDIA_DIR name if set (a demo study), else the one
`make run` loads (var/demo, SQLite), loading it there first if missing.
Run from the repository root: ``.venv/bin/python bench/bench_proxy.py``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_media import MiB, Server, Study, free_port, media_url  # noqa: E402
from coding_app import blinded  # noqa: E402
from coding_app.accounts import account_named  # noqa: E402
from coding_app.deploy import MEDIA_LOCATION, nginx_config  # noqa: E402
from coding_app.media import MediaStore  # noqa: E402
from coding_app.store import Store  # noqa: E402
from coding_app.web.routes import ACCEL_REDIRECT  # noqa: E402
from fixtures.load_demo import ACCOUNTS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "var" / "demo"
ROUNDS = 200
RANGE = 256 * 1024
"""A seek's worth of a browser's media request."""


def demo_study() -> tuple[str, Path]:
    """The demo's database URL and media store, loaded as `make run` does if not there yet."""
    if os.environ.get("OBSCODE_DATABASE_URL") and os.environ.get("OBSCODE_MEDIA_DIR"):
        return os.environ["OBSCODE_DATABASE_URL"], Path(os.environ["OBSCODE_MEDIA_DIR"])
    url, media = f"sqlite:///{DEMO / 'obscode.db'}", DEMO / "media-store"
    if not (DEMO / "obscode.db").is_file():
        print("loading the demo study into var/demo (a few minutes, once)", flush=True)
        env = os.environ | {"OBSCODE_DATABASE_URL": url, "OBSCODE_MEDIA_DIR": str(media)}
        subprocess.run([sys.executable, "-m", "fixtures.load_demo", str(DEMO / "study")], cwd=ROOT, env=env, check=True)
    return url, media


def largest(url: str, media: Path) -> tuple[str, str, Study]:
    """(coder, password, recording) of the largest media file a demo coder can open."""
    store, found = Store(url), []
    try:
        with store.read() as db:
            coders = {name: account_named(db, name) for name, (role, _) in ACCOUNTS.items() if role != "pi"}
        for name, account in coders.items():
            for item in blinded.queue(store, account):
                path = MediaStore(media).path(blinded.media(store, account, item.code).name)
                found.append((path.stat().st_size, name, item.code, path))
    finally:
        store.dispose()
    size, name, code, path = max(found)
    return name, ACCOUNTS[name][1], Study(url, media, code, path)


def start_nginx(prefix: Path, port: int, replica: int, media: Path, env: dict[str, str]) -> Server:
    """nginx with the site `obscode deploy nginx` prints for one replica, everything under ``prefix``."""
    prefix.mkdir()
    site = nginx_config([replica], "127.0.0.1", media, listen=port, tls=False, log_dir=prefix)
    (prefix / "site.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;" if os.geteuid() == 0 else ""  # workers as nobody could not read a private media folder
    (prefix / "nginx.conf").write_text(
        f"{user} pid {prefix / 'nginx.pid'}; error_log {prefix / 'error.log'};\n"
        f"events {{}}\nhttp {{ {temp} include {prefix / 'site.conf'}; }}\n"
    )
    nginx = Server(
        "nginx",
        [
            "/usr/sbin/nginx",
            "-p",
            str(prefix),
            "-c",
            str(prefix / "nginx.conf"),
            "-e",
            str(prefix / "error.log"),
            "-g",
            "daemon off;",
        ],
        env,
        prefix,
        prefix / "nginx.out",
    )
    try:
        nginx.wait_healthy(f"http://127.0.0.1:{port}")
    except RuntimeError:
        nginx.stop()
        raise
    return nginx


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url, media = demo_study()
    name, password, study = largest(url, media)
    size = study.media_file.stat().st_size
    span = min(RANGE, size)
    offsets = [random.Random(args.seed).randrange(0, size - span + 1) for _ in range(args.rounds)]
    env = os.environ | {"OBSCODE_DATABASE_URL": url, "OBSCODE_MEDIA_DIR": str(media)}
    env.pop(ACCEL_REDIRECT, None)
    with tempfile.TemporaryDirectory(prefix="obscode-bench-proxy-") as tmp, ExitStack() as stack:
        prefix = Path(tmp)
        ports = {name: free_port() for name in ("accel", "proxied", "python", "nginx-accel", "nginx-proxied")}
        servers = {}
        for kind, extra in (("accel", {ACCEL_REDIRECT: MEDIA_LOCATION}), ("proxied", {}), ("python", {})):
            server = Server(
                kind,
                [str(Path(sys.executable).with_name("obscode")), "run", "--port", str(ports[kind])],
                env | extra,
                ROOT,
                prefix / f"{kind}.log",
            )
            stack.callback(server.stop)
            server.wait_healthy(f"http://127.0.0.1:{ports[kind]}")
            servers[kind] = server
        for kind in ("accel", "proxied"):
            stack.callback(start_nginx(prefix / f"nginx-{kind}", ports[f"nginx-{kind}"], ports[kind], media, env).stop)
        routes = {
            "ours (nginx sends)": ("accel", f"http://127.0.0.1:{ports['nginx-accel']}"),
            "nginx -> python": ("proxied", f"http://127.0.0.1:{ports['nginx-proxied']}"),
            "python direct": ("python", f"http://127.0.0.1:{ports['python']}"),
        }
        clients, times, cpu = {}, {label: [] for label in routes}, {}
        for label, (kind, base) in routes.items():
            cookie, address = media_url(study, base, name, password)
            client = stack.enter_context(httpx2.Client(cookies={"obscode_session": cookie}, timeout=60))
            clients[label] = (client, address)
            cpu[label] = cpu_seconds(servers[kind].pid)
        for offset in offsets:
            for label, (client, address) in clients.items():
                started = time.perf_counter()
                response = client.get(address, headers={"Range": f"bytes={offset}-{offset + span - 1}"})
                elapsed = time.perf_counter() - started
                if response.status_code != 206 or len(response.content) != span:
                    raise RuntimeError(f"{label}: HTTP {response.status_code}, {len(response.content)} bytes")
                times[label].append(elapsed)
        for label, (kind, _) in routes.items():
            cpu[label] = cpu_seconds(servers[kind].pid) - cpu[label]
    print(f"largest demo file: {size / MiB:.2f} MiB ({name}); {args.rounds} ranges of {span // 1024} KiB each")
    for label, values in times.items():
        print(
            f"  {label:20} median {statistics.median(values) * 1000:7.2f} ms   "
            f"p95 {percentile(values, 95) * 1000:7.2f} ms"
            f"   app CPU {cpu[label]:5.2f} s"
        )
    ours, proxied, direct = (statistics.median(times[label]) for label in routes)
    print(f"  ratio (median): nginx -> python / ours {proxied / ours:.2f}x, python direct / ours {direct / ours:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
