"""The README's "Set up your own study" walked as written: from an empty folder, with only the example files and the
commands in its code block, to coders with work in their queues. The commands are read from the README, so the README
and this test cannot drift apart."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from coding_app import blinded
from coding_app.accounts import account_named
from coding_app.cli import app
from coding_app.store import Store

ROOT = Path(__file__).parents[1]
SECTION = "## Set up your own study"
PASSWORD = "example-password"


def walk() -> list[str]:
    """The command lines of the section's first `sh` code block, comments dropped."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.split("  #", 1)[0].strip()]


def run(line: str, here: Path) -> Path:
    """One README line, in folder ``here``; returns the folder the next line runs in.

    `obscode ...` runs in this process (the command the activated venv puts on the PATH); `cd` moves; `source`
    must name the venv's activate script; anything else runs in bash, as a reader's shell would.
    """
    for part in (p.strip() for p in line.split("&&")):
        words = shlex.split(part)
        if words[0] == "cd":
            here = (here / words[1]).resolve()
        elif words[0] == "source":
            assert (here / words[1]).resolve() == (ROOT / ".venv" / "bin" / "activate").resolve(), part
        elif words[0] == "obscode":
            said = CliRunner().invoke(
                app,
                words[1:],
                env={
                    "OBSCODE_PASSWORD": PASSWORD,
                    "OBSCODE_NEW_PASSWORD": PASSWORD,  # an account the PI adds (user add --as)
                    "OBSCODE_DATABASE_URL": None,
                    "OBSCODE_MEDIA_DIR": None,
                    "OBSCODE_USER": None,
                },
            )
            assert said.exit_code == 0, (part, said.output)
            assert "warning" not in said.stderr, (part, said.stderr)
        else:
            subprocess.run(["bash", "-c", part], cwd=here, check=True, capture_output=True)
    return here


def test_the_readme_set_up_walk_takes_an_empty_folder_to_coders_at_work(tmp_path, monkeypatch):
    """Every line of the walk succeeds without a warning; each coder's queue holds what the walk says."""
    (tmp_path / "obscode").symlink_to(ROOT)  # the walk starts beside the obscode clone
    lines = walk()
    assert lines[-1] == "obscode run"  # serving is the end of the walk, not run here
    here = tmp_path
    for line in lines[:-1]:
        monkeypatch.chdir(here)
        here = run(line, here)
    assert here == tmp_path / "my-study"
    store = Store(f"sqlite:///{here / 'var' / 'obscode.db'}")
    with store.read() as db:
        coders = {name: account_named(db, name) for name in ("rater.one", "rater.two", "fidelity.one")}
    queues = {name: blinded.queue(store, account) for name, account in coders.items()}
    store.dispose()
    # Two training videos (scored in ratings.csv), then work: every live video; the reliability and fidelity draws.
    waiting = {name: sum(item.status == "not started" for item in queue) for name, queue in queues.items()}
    submitted = {name: sum(item.status == "submitted" for item in queue) for name, queue in queues.items()}
    assert waiting == {"rater.one": 6, "rater.two": 4, "fidelity.one": 2}
    assert submitted == {"rater.one": 2, "rater.two": 2, "fidelity.one": 0}
