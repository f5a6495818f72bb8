"""The wheel holds everything the installed tool needs at run time: every module, the page scripts (run by path,
not imported), the player's script and style, the waveform library it serves, the default codebook and the
Alembic migrations. Built from a copy of the tree, with the build backend of the test extra."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coding_app.web import assets

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]
PACKAGES = ("coding_app", "reliability", "outcomes")
# Files other than modules that the code reads from its own folders.
DATA = (
    "coding_app/codebook.toml",
    "coding_app/store/migrations/script.py.mako",
    "coding_app/web/*.js",
    "coding_app/web/*.css",
)
BUILT = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")


def _in_tree(path: Path) -> bool:
    return "node_modules" not in path.parts and "__pycache__" not in path.parts


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=BUILT)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, source],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("obscode-*.whl")
    return built


def test_the_wheel_holds_every_module_page_asset_codebook_and_migration(wheel):
    with zipfile.ZipFile(wheel) as archive:
        held = set(archive.namelist())
    modules = {p.relative_to(ROOT).as_posix() for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    data = {p.relative_to(ROOT).as_posix() for pattern in DATA for p in ROOT.glob(pattern)}
    library = {
        assets.asset(url.rsplit("/", 1)[1]).relative_to(ROOT).as_posix() for url in assets.module_urls().values()
    }
    needed = {name for name in modules if _in_tree(Path(name))} | data | library
    assert {"coding_app/web/views/code.py", "coding_app/store/migrations/versions/0001_initial_schema.py"} <= needed
    assert sorted(needed - held) == []


def test_the_installed_wheel_loads_its_codebook_migrates_a_study_and_finds_the_player_library(wheel, tmp_path):
    """Unpacked alone (not the source tree) and run in a fresh interpreter."""
    installed = tmp_path / "installed"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    check = (
        "import coding_app, sys\n"
        "from coding_app.codebook import load_codebook\n"
        "from coding_app.store import Store\n"
        "from coding_app.web.assets import module_urls\n"
        "assert coding_app.__file__.startswith(sys.argv[1]), coding_app.__file__\n"
        "store = Store(f'sqlite:///{sys.argv[2]}')\n"
        "store.upgrade()\n"
        "assert store.is_current()\n"
        "print(len(load_codebook().scales), sorted(module_urls()))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", check, str(installed), str(tmp_path / "study.db")],
        cwd=installed,
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split(" ", 1)[1] == "['Timeline', 'WaveSurfer', 'Zoom']\n"
