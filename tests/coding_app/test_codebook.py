"""Reading a codebook file: what is wrong is named by the file's own name."""

from __future__ import annotations

import re

import pytest

from coding_app import codebook
from coding_app.codebook import CodebookError, load_codebook


def test_a_missing_codebook_is_named_the_shipped_one_too(tmp_path, monkeypatch):
    with pytest.raises(CodebookError, match=r"^codebook study\.toml: no such file$"):
        load_codebook(tmp_path / "study.toml")
    monkeypatch.setattr(codebook, "DEFAULT_CODEBOOK", tmp_path / "codebook.toml")
    with pytest.raises(CodebookError, match=r"^codebook codebook\.toml: no such file$"):
        load_codebook()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('kind = "video"\nhigh = 7', "scale 'ea': field 'low' is missing"),
        ('kind = "video"\nlow = "1"\nhigh = 7', "scale 'ea': field 'low' has the wrong type ('1')"),
        ('kind = "video"\nlow = true\nhigh = 7', "scale 'ea': field 'low' has the wrong type (True)"),
        ('kind = "photo"\nlow = 1\nhigh = 7', "scale 'ea': kind must be one of video, audio, not 'photo'"),
        ('kind = "video"\nlow = 1\nhigh = 7\nclasses = ["low"]', "scale 'ea': classes must be two labels"),
    ],
)
def test_a_scale_field_missing_or_of_the_wrong_type_is_named(tmp_path, entry, message):
    path = tmp_path / "study.toml"
    path.write_text(f"[scales.ea]\n{entry}\n")
    with pytest.raises(CodebookError, match=re.escape(message)):
        load_codebook(path)


def test_a_scale_s_defaults_fill_what_it_leaves_out(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text('[scales.ea]\nkind = "audio"\nlow = 1\nhigh = 5\n')
    ea = load_codebook(path)["ea"]
    assert (ea.label, ea.kind, ea.scale.step, ea.scale.threshold, ea.classes, ea.anchors) == (
        "ea",
        "audio",
        1,
        None,
        ("below threshold", "at or above threshold"),
        {},
    )
