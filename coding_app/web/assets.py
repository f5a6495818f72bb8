"""The player's drawing library, wavesurfer.js with its timeline and zoom plugins (`make` installs it: npm ci
in coding_app/web/waveform), served by the app's own route under names that carry a hash of each file.

A browser keeps them for good and loads each once; a new version of the library is a new name. So the
player's arguments on a rerun carry their addresses, not their 70 kB.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

ASSETS_PATH = "/obscode/assets"
_DIST = Path(__file__).parent / "waveform" / "node_modules" / "wavesurfer.js" / "dist"
# The player imports each by this name (player.js); the plugins are bundled whole (they import nothing).
_MODULES = {"WaveSurfer": "wavesurfer.esm.js", "Timeline": "plugins/timeline.esm.js", "Zoom": "plugins/zoom.esm.js"}


@cache
def _files() -> dict[str, tuple[str, Path]]:
    """{module: (served name, file)}; raises a RuntimeError that says how to install the library."""
    files = {}
    for module, relative in _MODULES.items():
        path = _DIST / relative
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        except FileNotFoundError:
            raise RuntimeError(
                f"wavesurfer.js is not installed ({path}): run `make` (or `npm ci --prefix coding_app/web/waveform`)"
            ) from None
        files[module] = (f"{Path(relative).name.removesuffix('.esm.js')}-{digest}.js", path)
    return files


def module_urls() -> dict[str, str]:
    """Where the player imports each module from."""
    return {module: f"{ASSETS_PATH}/{name}" for module, (name, _) in _files().items()}


def asset(name: str) -> Path | None:
    """The file served under ``name`` (as :func:`module_urls` names it), or None."""
    return next((path for served, path in _files().values() if served == name), None)
