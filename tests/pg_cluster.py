"""A throw-away PostgreSQL cluster on a free local port, for tests and benchmarks.

Uses Debian's server binaries (``make test`` installs the ``postgresql`` package when they are
missing). As root, the server runs as the ``postgres`` system user, since PostgreSQL refuses
to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

USER = "obscode"


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): "
            "run `make test`, which installs Debian's postgresql package"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayCluster:
    def __init__(self, *, durable: bool = False) -> None:
        """``durable``: flush to disk on commit as a production server does (benchmarks); tests need not."""
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="obscode-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0
        # Durability settings off unless asked for: a test cluster's data is thrown away anyway.
        durability = "" if durable else " -c fsync=off -c full_page_writes=off"
        self._options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1{durability}"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stderr or result.stdout}")

    def start(self) -> ThrowawayCluster:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", USER, "-E", "UTF8", "--no-instructions")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", self._options, "-w", "start")
        return self

    def pg_ctl(self, action: str) -> None:
        """Stop or start the server mid-test (``"stop"`` / ``"start"``), keeping its data."""
        extra = ["-m", "fast"] if action == "stop" else ["-o", self._options]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), *extra, "-w", action)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create a database (optionally as a copy of ``template``) and return its URL."""
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
