"""Reading a codebook file: what is wrong is named by the file's own name."""

from __future__ import annotations

import pytest

from coding_app import codebook
from coding_app.codebook import CodebookError, load_codebook


def test_a_missing_codebook_is_named_the_shipped_one_too(tmp_path, monkeypatch):
    with pytest.raises(CodebookError, match=r"^codebook study\.toml: no such file$"):
        load_codebook(tmp_path / "study.toml")
    monkeypatch.setattr(codebook, "DEFAULT_CODEBOOK", tmp_path / "codebook.toml")
    with pytest.raises(CodebookError, match=r"^codebook codebook\.toml: no such file$"):
        load_codebook()
