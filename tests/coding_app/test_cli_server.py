"""`obscode run`: the Streamlit server it starts for a study."""

from typer.testing import CliRunner

from coding_app.cli import app, server


def test_the_app_does_not_collect_all_garbage_after_every_script_run(study, monkeypatch):
    """Streamlit's default full collection after each run cost every score key about 150 ms of the server's CPU,
    more than the rest of the key's rerun; Python's own collector still runs as the heap grows."""
    started = []
    monkeypatch.setattr(server.os, "execve", lambda path, arguments, environment: started.append(arguments))
    result = CliRunner().invoke(app, ["--db", study.store.url, "run", "--port", "8599"])
    assert result.exit_code == 0, result.output
    (arguments,) = started
    assert arguments[arguments.index("--runner.postScriptGC") + 1] == "false"
