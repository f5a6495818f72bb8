"""Backup, restore and verify of the demo study: time and size, on SQLite and on PostgreSQL (fsync on).

Works on a copy of a demo study (default var/demo, as `make run` builds it; a running server there is
not disturbed), or builds one into a scratch folder when there is none. Each step is the function the
command runs, timed in this process (wall and CPU seconds); starting `obscode` itself adds Python's
start-up and imports (``obscode --help``, timed last).

Run from the repository root: ``.venv/bin/python bench/bench_backup.py [--demo var/demo]``.
MB here means 10^6 bytes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coding_app import backup as backups  # noqa: E402
from coding_app.accounts import account_named  # noqa: E402
from coding_app.media import MediaStore  # noqa: E402
from coding_app.store import Store  # noqa: E402
from coding_app.verify import verify  # noqa: E402
from tests.pg_cluster import ThrowawayCluster  # noqa: E402

PI = "pi.one"
T = TypeVar("T")


def timed(label: str, call: Callable[[], T]) -> T:
    wall, cpu = time.perf_counter(), sum(os.times()[:4])  # this process's CPU and its children's
    result = call()
    print(f"{label:42} {time.perf_counter() - wall:6.2f} s wall {sum(os.times()[:4]) - cpu:6.2f} s CPU", flush=True)
    return result


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def pi_of(store: Store):  # noqa: ANN201 - an Account
    with store.read() as db:
        return account_named(db, PI)


def demo_copy(demo: Path, scratch: Path) -> tuple[Store, MediaStore]:
    """The demo's database (copied with SQLite's online backup, consistent even if a server is writing) and media."""
    if not (demo / "obscode.db").exists():
        demo = scratch / "built"
        environment = os.environ | {
            "OBSCODE_DATABASE_URL": f"sqlite:///{demo}/obscode.db",
            "OBSCODE_MEDIA_DIR": str(demo / "media-store"),
        }
        subprocess.run([sys.executable, "-m", "fixtures.load_demo", str(demo / "study")], env=environment, check=True)
    with sqlite3.connect(demo / "obscode.db") as source, sqlite3.connect(scratch / "obscode.db") as copy:
        source.backup(copy)
    shutil.copytree(demo / "media-store", scratch / "media-store")
    return Store(f"sqlite:///{scratch / 'obscode.db'}"), MediaStore(scratch / "media-store")


def restore(folder: Path, url: str, media: Path) -> Store:
    target = Store(url)
    with backups.opened(folder) as snapshot:
        backups.restore(snapshot, folder, target, MediaStore(media), pi_of(snapshot))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=Path("var/demo"))
    demo = parser.parse_args().demo
    with tempfile.TemporaryDirectory(prefix="obscode-bench-backup-") as name:
        scratch = Path(name)
        live, media = demo_copy(demo, scratch)
        files = [p for p in media.root.iterdir() if not p.name.startswith(".")]
        print(f"demo study: {len(files)} media files, {size(media.root) / 1e6:.1f} MB", flush=True)
        made = timed("backup (SQLite study)", lambda: backups.backup(live, pi_of(live), media, scratch / "backup"))
        print(
            f"backup: {made.size / 1e6:.1f} MB ({(scratch / 'backup' / backups.DATABASE).stat().st_size / 1e6:.2f} MB "
            f"database, {made.rows} rows), {made.media_files} media files",
            flush=True,
        )
        timed("verify (the live study)", lambda: verify(live, pi_of(live), media))
        restored = timed(
            "restore into SQLite", lambda: restore(scratch / "backup", f"sqlite:///{scratch}/r.db", scratch / "r")
        )
        timed("verify (restored, SQLite)", lambda: verify(restored, pi_of(restored), MediaStore(scratch / "r")))
        cluster = ThrowawayCluster(durable=True).start()
        try:
            url = cluster.create_database("restored")
            pg = timed("restore into PostgreSQL (fsync on)", lambda: restore(scratch / "backup", url, scratch / "p"))
            timed("verify (restored, PostgreSQL)", lambda: verify(pg, pi_of(pg), MediaStore(scratch / "p")))
            timed(
                "backup (PostgreSQL study)",
                lambda: backups.backup(pg, pi_of(pg), MediaStore(scratch / "p"), scratch / "b2"),
            )
            pg.dispose()
        finally:
            cluster.stop()
        obscode = Path(sys.executable).with_name("obscode")
        timed("obscode --help (start-up and imports)", lambda: subprocess.run([obscode, "--help"], capture_output=True))


if __name__ == "__main__":
    main()
