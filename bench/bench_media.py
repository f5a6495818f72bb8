"""Media memory: obscode's Range-serving media route against the naive st.video peer, in one run.

OURS: a real `obscode run` server, a signed-in coder and a 2 GiB recording (a sparse file, so it
costs no disk). Four concurrent HTTP clients do one full streaming read of the whole file, 200
random 1 MiB Range requests ("seeks") and a HEAD, while the server's RSS is sampled every 0.1 s.
The issue's limit: the peak may exceed the idle baseline by at most 50 MB.

PEER: a minimal Streamlit script, ``st.video(PATH)``, opened once in headless Chromium and
seeked four times through the page's <video> element. To keep the machine safe the peer gets a
512 MiB file, not 2 GiB (and is killed if it passes 8 GB). Its file must be a playable H.264
video, or Chromium would give up on it before seeking: it is a real encoded clip, looped by
stream copy and padded to exactly 512 MiB with a trailing MP4 ``free`` box. The 2 GiB figure for
the peer is an estimate (growth x 4), printed as such.

Run from the repository root: ``.venv/bin/python bench/bench_media.py``.
MB here means 10^6 bytes (RSS is read from /proc/PID/status in KiB).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import random
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

GiB = 1 << 30
MiB = 1 << 20
MB = 1_000_000
OURS_SIZE = 2 * GiB
PEER_SIZE = 512 * MiB
LIMIT_MB = 50
PEER_ABORT_BYTES = 8 * 10**9
CLIENTS = 4
SEEKS = 200
SEEK_BYTES = 1 * MiB
PEER_SEEKS = (0.8, 0.3, 0.6, 0.1)  # fractions of the duration
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CODER, PASSWORD = "bench-coder", "bench-password-1"
COOKIE = "obscode_session"
BIN = Path(sys.executable).parent


# ---------------------------------------------------------------------------------------------
# processes and memory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    found = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (``echo 5 > clear_refs``), so it measures only what follows."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class Sampler:
    """Samples a process's VmRSS every 0.1 s from a thread; optionally kills it past a limit."""

    def __init__(self, pid: int, abort_above: int | None = None, on_abort: Callable[[], None] | None = None) -> None:
        self.pid, self.abort_above, self.on_abort = pid, abort_above, on_abort
        self.baseline = status_kb(pid)["VmRSS"] * 1024
        self.hwm_reset = reset_peak(pid)
        self.hwm_before = status_kb(pid)["VmHWM"] * 1024
        self.max_rss = self.baseline
        self.samples = 0
        self.aborted_at: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = status_kb(self.pid)["VmRSS"] * 1024
            except (OSError, KeyError):
                return
            self.samples += 1
            self.max_rss = max(self.max_rss, rss)
            if self.abort_above is not None and rss > self.abort_above and self.aborted_at is None:
                self.aborted_at = rss
                if self.on_abort:
                    self.on_abort()
                return
            self._stop.wait(0.1)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        try:
            now = status_kb(self.pid)
        except (OSError, KeyError):
            self.after, self.hwm = None, None
            return
        self.after = now["VmRSS"] * 1024
        self.hwm = now["VmHWM"] * 1024
        self.max_rss = max(self.max_rss, self.after)

    @property
    def peak(self) -> int:
        """The highest RSS while sampling: the kernel's peak when it was reset at the start."""
        if self.hwm is not None and (self.hwm_reset or self.hwm > self.hwm_before):
            return max(self.max_rss, self.hwm)
        return self.max_rss

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


class Server:
    """A server in its own process group: killed with the whole group, whatever happens."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.name, self.log_path = name, log
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_healthy(self, base: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            with contextlib.suppress(httpx2.HTTPError):
                if httpx2.get(f"{base}/_stcore/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not healthy after {timeout:.0f} s:\n{self.tail()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        self.kill()  # anything else left in the group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.log.close()

    def tail(self, lines: int = 30) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def mb(n: int | None) -> str:
    return "n/a" if n is None else f"{n / MB:,.1f} MB"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True, capture_output=True)


# ---------------------------------------------------------------------------------------------
# ours


@dataclass
class Study:
    url: str
    media_dir: Path
    code: str
    media_file: Path


def make_study(root: Path) -> Study:
    from coding_app.accounts import account_named, add_account
    from coding_app.assignments import assign
    from coding_app.blinded import media
    from coding_app.codebook import load_codebook
    from coding_app.imports.manifest import import_manifest
    from coding_app.media import MediaStore
    from coding_app.store import Store
    from coding_app.study_setup import initialise

    clip = root / "clip.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x120:rate=10:duration=2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-f",
        "mp4",
        str(clip),
    )
    manifest = root / "manifest.csv"
    manifest.write_text(
        "recording_id,participant_id,site,arm,timepoint,kind,session,clinician,path\n"
        f"R1,P1,North,,baseline,video,,,{clip}\n"
    )
    url, folder = f"sqlite:///{root / 'study.db'}", root / "media-store"
    store, store_media = Store(url), MediaStore(folder)
    try:
        initialise(store, load_codebook(), "bench")
        summary = import_manifest(store, store_media, manifest, "bench")
        with store.write() as db:
            add_account(db, CODER, "coder", PASSWORD, "bench")
        assign(store, [CODER], kind="video", seed=1, actor="bench")
        with store.read() as db:
            account = account_named(db, CODER)
        (code,) = summary.codes
        found = media(store, account, code)
    finally:
        store.dispose()
    path = store_media.path(found.name)
    mtime = path.stat().st_mtime
    path.unlink()
    with open(path, "wb"):
        pass
    os.truncate(path, OURS_SIZE)  # sparse: 2 GiB of zeros, no disk
    os.utime(path, (mtime, mtime))
    return Study(url, folder, code, path)


def media_url(study: Study, base: str, name: str = CODER, password: str = PASSWORD) -> tuple[str, str]:
    """Sign in over HTTP; return the session cookie and the media URL for the recording."""
    from coding_app.logins import identify, media_token
    from coding_app.store import Store

    with httpx2.Client(timeout=30) as client:  # the sign-in form first, for its token (login CSRF)
        form = re.search(r'name="form_token" value="([^"]+)"', client.get(f"{base}/obscode/login").text)
        response = client.post(
            f"{base}/obscode/login",
            follow_redirects=False,
            data={"name": name, "password": password, "form_token": form.group(1) if form else ""},
        )
    if response.status_code != 303 or COOKIE not in response.cookies:
        raise RuntimeError(f"login failed: {response.status_code} {response.text[:200]}")
    cookie = response.cookies[COOKIE]
    store = Store(study.url)
    try:
        identity = identify(store, cookie)
        if identity is None:
            raise RuntimeError("the login cookie does not identify a session")
        token = media_token(store, identity, study.code)
    finally:
        store.dispose()
    return cookie, f"{base}/obscode/media/{token}"


@dataclass
class Load:
    full_bytes: int = 0
    full_seconds: float = 0.0
    seek_seconds: list[float] = field(default_factory=list)
    head: str = ""
    errors: list[str] = field(default_factory=list)


def run_load(url: str, cookie: str, size: int, seed: int) -> Load:
    """4 clients share one job list: the full read, the HEAD and 200 random 1 MiB ranges."""
    rng = random.Random(seed)
    jobs: queue.Queue = queue.Queue()
    jobs.put(("full", 0))
    jobs.put(("head", 0))
    for _ in range(SEEKS):
        jobs.put(("seek", rng.randrange(0, size - SEEK_BYTES)))
    result, lock = Load(), threading.Lock()

    def worker() -> None:
        with httpx2.Client(cookies={COOKIE: cookie}, timeout=120) as client:
            while True:
                try:
                    job, offset = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    started = time.perf_counter()
                    if job == "full":
                        got = 0
                        with client.stream("GET", url) as r:
                            if r.status_code != 200:
                                raise RuntimeError(f"full read: HTTP {r.status_code}")
                            for chunk in r.iter_raw(MiB):
                                got += len(chunk)  # discarded as it arrives
                        if got != size:
                            raise RuntimeError(f"full read: {got} bytes, expected {size}")
                        with lock:
                            result.full_bytes, result.full_seconds = got, time.perf_counter() - started
                    elif job == "head":
                        r = client.head(url)
                        if r.status_code != 200 or r.headers.get("content-length") != str(size):
                            raise RuntimeError(f"HEAD: HTTP {r.status_code}, length {r.headers.get('content-length')}")
                        result.head = (
                            f"HTTP {r.status_code}, content-length {r.headers['content-length']}, "
                            f"accept-ranges {r.headers.get('accept-ranges')}"
                        )
                    else:
                        end = offset + SEEK_BYTES - 1
                        r = client.get(url, headers={"Range": f"bytes={offset}-{end}"})
                        expected = f"bytes {offset}-{end}/{size}"
                        if (
                            r.status_code != 206
                            or r.headers.get("content-range") != expected
                            or len(r.content) != SEEK_BYTES
                        ):
                            raise RuntimeError(
                                f"seek {offset}: HTTP {r.status_code}, {r.headers.get('content-range')}, "
                                f"{len(r.content)} bytes"
                            )
                        with lock:
                            result.seek_seconds.append(time.perf_counter() - started)
                except Exception as error:  # noqa: BLE001 - reported, and fails the run
                    with lock:
                        result.errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result


@dataclass
class Outcome:
    baseline: int
    peak: int
    after: int | None
    samples: int

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def bench_ours(root: Path, seed: int) -> Outcome:
    print("OURS: obscode run, custom Starlette media route (FileResponse with Range)")
    started = time.perf_counter()
    study = make_study(root)
    print(
        f"  study ready in {time.perf_counter() - started:.1f} s; recording {study.code}, stored media replaced by "
        f"a sparse {study.media_file.stat().st_size / GiB:g} GiB file ({study.media_file.stat().st_blocks * 512} "
        "bytes on disk)"
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {"OBSCODE_DATABASE_URL": study.url, "OBSCODE_MEDIA_DIR": str(study.media_dir)}
    server = Server("obscode run", [str(BIN / "obscode"), "run", "--port", str(port)], env, root, root / "ours.log")
    try:
        server.wait_healthy(base)
        cookie, url = media_url(study, base)
        with Sampler(server.pid) as sampler:
            started = time.perf_counter()
            load = run_load(url, cookie, OURS_SIZE, seed)
            elapsed = time.perf_counter() - started
            time.sleep(0.3)
        if load.errors:
            raise RuntimeError(f"{len(load.errors)} request(s) failed, first: {load.errors[0]}")
        seeks = sorted(load.seek_seconds)
        print(
            f"  load: {CLIENTS} clients, {elapsed:.1f} s; full read {load.full_bytes / GiB:g} GiB in "
            f"{load.full_seconds:.1f} s ({load.full_bytes / load.full_seconds / MB:,.0f} MB/s); "
            f"{len(seeks)} seeks of 1 MiB, median {statistics.median(seeks) * 1000:.0f} ms, "
            f"p95 {seeks[int(0.95 * len(seeks)) - 1] * 1000:.0f} ms; HEAD {load.head}"
        )
        print(
            f"  RSS (pid {server.pid}, {sampler.samples} samples): baseline {mb(sampler.baseline)}, "
            f"peak {mb(sampler.peak)}, after {mb(sampler.after)}; growth {sampler.growth / MB:+,.1f} MB"
            + ("" if sampler.hwm_reset else " (VmHWM could not be reset: peak from samples)")
        )
        return Outcome(sampler.baseline, sampler.peak, sampler.after, sampler.samples)
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# peer


def playable_video(root: Path, size: int) -> tuple[Path, float]:
    """An H.264 MP4 of exactly ``size`` bytes that Chromium plays and seeks: noisy frames encoded
    near-losslessly (so they are large), looped by stream copy, padded with a trailing free box."""
    segment = root / "segment.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1280x720:rate=10:duration=3,noise=alls=80:allf=t",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-qp",
        "1",
        "-g",
        "10",
        "-pix_fmt",
        "yuv420p",
        "-f",
        "mp4",
        str(segment),
    )
    copies = max(1, int(size * 0.97 // segment.stat().st_size))
    video = root / "peer.mp4"
    while True:
        ffmpeg(
            "-stream_loop",
            str(copies - 1),
            "-i",
            str(segment),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            str(video),
        )
        if video.stat().st_size <= size - 64 or copies == 1:
            break
        copies -= 1
    segment.unlink()
    padding = size - video.stat().st_size
    if padding < 8:
        raise RuntimeError("could not make the peer's video small enough to pad")
    with open(video, "ab") as f:
        f.write(struct.pack(">I4s", padding, b"free"))
    os.truncate(video, size)  # the rest of the free box: zeros, sparse
    return video, copies * 3.0


@dataclass
class PeerOutcome(Outcome):
    aborted: bool = False
    seeks_done: int = 0
    notes: list[str] = field(default_factory=list)


def bench_peer(root: Path) -> PeerOutcome:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    print(
        f"PEER: st.video(path) in a minimal Streamlit script, a {PEER_SIZE // MiB} MiB file (not 2 GiB, to keep "
        "the machine safe)"
    )
    started = time.perf_counter()
    video, duration = playable_video(root, PEER_SIZE)
    print(
        f"  playable H.264 file: {video.stat().st_size / MiB:g} MiB, {duration:g} s, made in "
        f"{time.perf_counter() - started:.1f} s"
    )
    script = root / "peer.py"
    script.write_text(f"import streamlit as st\n\nst.video({str(video)!r})\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    server = Server("peer streamlit", command, dict(os.environ), root, root / "peer.log")
    notes: list[str] = []
    ranges: list[str] = []  # the Range header of every media request the page made
    seeks_done = 0
    try:
        server.wait_healthy(base)
        sampler = Sampler(server.pid, abort_above=PEER_ABORT_BYTES, on_abort=server.kill)
        with sampler, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page()
                page.on("request", lambda r: "/media/" in r.url and ranges.append(r.headers.get("range", "(none)")))
                page.goto(base, timeout=60_000)
                page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=60_000)
                page.wait_for_function(
                    "() => { const v = document.querySelector('video');"
                    " return v && v.readyState >= 1 && v.duration > 0; }",
                    timeout=60_000,
                )
                print(
                    f"  page open: video duration {page.evaluate('document.querySelector(`video`).duration'):g} s, "
                    f"RSS now {mb(sampler.max_rss)} peak so far"
                )
                for fraction in PEER_SEEKS:
                    page.evaluate(
                        "f => { const v = document.querySelector('video'); v.currentTime = v.duration * f; }", fraction
                    )
                    try:
                        page.wait_for_function(
                            "() => { const v = document.querySelector('video');"
                            " return !v.seeking && v.readyState >= 2; }",
                            timeout=10_000,
                        )
                    except PlaywrightError:
                        notes.append(f"seek to {fraction:.0%} did not settle within 10 s (the page kept fetching)")
                    time.sleep(1.0)
                    seeks_done += 1
                    position = page.evaluate("document.querySelector('video').currentTime")
                    print(f"  seek {seeks_done}: currentTime {position:.1f} s, peak RSS so far {mb(sampler.max_rss)}")
                time.sleep(1.0)
            except PlaywrightError as error:
                if sampler.aborted_at is None:
                    raise
                notes.append(f"browser stopped: {str(error).splitlines()[0]}")
            finally:
                browser.close()
        if sampler.aborted_at is not None:
            notes.append(
                f"ABORTED: peer RSS reached {mb(sampler.aborted_at)} (> {PEER_ABORT_BYTES / 1e9:g} GB): killed"
            )
        print(
            f"  RSS (pid {server.pid}, {sampler.samples} samples): baseline {mb(sampler.baseline)}, "
            f"peak {mb(sampler.peak)}, after {mb(sampler.after)}; growth {sampler.growth / MB:+,.1f} MB"
        )
        print(f"  the page made {len(ranges)} media requests: {', '.join(ranges)}")
        for note in notes:
            print(f"  note: {note}")
        return PeerOutcome(
            sampler.baseline,
            sampler.peak,
            sampler.after,
            sampler.samples,
            sampler.aborted_at is not None,
            seeks_done,
            notes,
        )
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=20240305)
    parser.add_argument("--skip-peer", action="store_true", help="measure only ours")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the finally blocks run
    if not Path(CHROMIUM).exists() and not args.skip_peer:
        print(f"error: {CHROMIUM} not found", file=sys.stderr)
        return 2
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="obscode-bench-media-") as tmp:
        root = Path(tmp)
        (root / "ours").mkdir()
        (root / "peer").mkdir()
        ours = bench_ours(root / "ours", args.seed)
        print()
        peer = None if args.skip_peer else bench_peer(root / "peer")
    passed = ours.growth <= LIMIT_MB * MB
    print()
    print(f"media memory, {OURS_SIZE // GiB} GiB file, {CLIENTS} clients, full read + {SEEKS} seeks")
    print(
        f"  ours   : {ours.growth / MB:+,.1f} MB peak over baseline (limit {LIMIT_MB} MB)  "
        f"{'PASS' if passed else 'FAIL'}"
    )
    if peer is not None:
        scale = OURS_SIZE / PEER_SIZE
        aborted = "  ABORTED at the 8 GB guard, so at least this" if peer.aborted else ""
        print(
            f"  peer   : {peer.growth / MB:+,.1f} MB peak over baseline for a {PEER_SIZE // MiB} MiB file "
            "with st.video "
            f"({peer.seeks_done} seeks)  (~{peer.growth * scale / MB:,.0f} MB for {OURS_SIZE // GiB} GiB, "
            f"estimated as growth x {scale:g}){aborted}"
        )
        floor = max(ours.growth, 1 * MB)
        floored = " (ours floored at 1 MB)" if ours.growth < 1 * MB else ""
        print(
            f"  ratio  : peer / ours = {peer.growth / floor:,.0f} x  (measured peer at {PEER_SIZE // MiB} MiB vs "
            f"ours at {OURS_SIZE // GiB} GiB; ~{peer.growth * scale / floor:,.0f} x with the 2 GiB estimate){floored}"
        )
    print(f"  (MB = 10^6 bytes; whole run {time.perf_counter() - started:.0f} s)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
