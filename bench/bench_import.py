"""What normalising media costs at import: the demo's recordings and a phone minute, copied vs normalised.

1. Every recording of the synthetic demo (30 videos of 6 s, 320x240, in MP4/H.264, MOV/MJPEG,
   MOV/MPEG-4 and MTS/MPEG-2; 30 session recordings of 20 s in M4A, WAV and MP3) converted into a
   media store as a study that copies would (H.264 copied without its SEI units, the rest
   re-encoded), then as one that normalises (all re-encoded to 1280x720 H.264 High 25 fps, AAC
   48 kHz mono). Wall-clock and ffmpeg CPU seconds per minute of recording.
2. One minute of 1080p30 H.264 as a phone records it, the same two ways.
3. The whole demo load (`make run`'s `python -m fixtures.load_demo`, clips already built) into a
   fresh SQLite study, copying and normalising.

Run from the repository root: ``.venv/bin/python bench/bench_import.py``. Figures depend on the
machine and on what else runs on it; the script prints the CPU count and load average with them.
"""

from __future__ import annotations

import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from coding_app.codebook import load_codebook
from coding_app.media import MediaStore, probe
from coding_app.store import Store
from coding_app.study_setup import initialise
from fixtures.demo import build_demo
from fixtures.load_demo import load_demo


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def convert(files: list[tuple[Path, str]], root: Path, normalise: bool) -> tuple[float, float]:
    """Wall-clock and ffmpeg CPU seconds to store every file."""
    media = MediaStore(root)
    wall, cpu = time.perf_counter(), children_cpu()
    with media.importing():
        for path, kind in files:
            media.add(path, kind, probe(path), normalise)
    return time.perf_counter() - wall, children_cpu() - cpu


def minutes(files: list[tuple[Path, str]]) -> float:
    return sum(probe(path).duration or 0 for path, _ in files) / 60


def row(label: str, files: list[tuple[Path, str]], work: Path) -> None:
    length = minutes(files)
    figures = []
    for normalise in (False, True):
        wall, cpu = convert(files, work / f"{label}-{normalise}", normalise)
        figures.append(f"{wall / length:6.1f} s wall {cpu / length:6.1f} s CPU")
    print(f"{label:34} {length:5.1f} min   copy: {figures[0]}   normalise: {figures[1]}  (per minute)")


def demo_load(demo: Path, work: Path, normalise: bool) -> float:
    store = Store(f"sqlite:///{work / f'demo-{normalise}.db'}")
    initialise(store, replace(load_codebook(), normalise_media=normalise), "bench")
    started = time.perf_counter()
    load_demo(store, MediaStore(work / f"demo-media-{normalise}"), demo)
    store.dispose()
    return time.perf_counter() - started


def main() -> int:
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        work = Path(folder)
        demo = work / "demo"
        started = time.perf_counter()
        manifest = build_demo(demo)
        print(f"demo clips built in {time.perf_counter() - started:.0f} s")
        with manifest.open(newline="", encoding="utf-8") as handle:
            recordings = [(demo / r["path"], r["kind"]) for r in csv.DictReader(handle)]
        row("demo videos (320x240, 15 fps)", [r for r in recordings if r[1] == "video"], work)
        row("demo session audio", [r for r in recordings if r[1] == "audio"], work)
        phone = work / "phone.mp4"
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=1920x1080:rate=30:duration=60",
                "-f",
                "lavfi",
                "-i",
                "sine=duration=60",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                str(phone),
            ],
            check=True,
        )
        row("phone video (1080p, 30 fps)", [(phone, "video")], work)
        for normalise in (False, True):
            print(
                f"demo load (make run), {'normalising' if normalise else 'copying'}: "
                f"{demo_load(demo, work, normalise):.0f} s"
            )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
