"""The codebook: which scales a study rates, their grids, thresholds and anchor texts."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from types import EllipsisType
from typing import TypeVar

from reliability import Scale

from .store.models import KINDS, RecordingKind

T = TypeVar("T")

DEFAULT_CODEBOOK = resources.files("coding_app") / "codebook.toml"


class CodebookError(ValueError):
    """A codebook that cannot be used; the message names the scale and field at fault."""


@dataclass(frozen=True)
class ScaleDefinition:
    """One scale of the codebook."""

    key: str
    label: str
    kind: RecordingKind
    scale: Scale
    anchors: dict[float, str]

    @property
    def classes(self) -> tuple[str, str]:
        return self.scale.class_labels

    def class_of(self, score: float) -> str | None:
        """The class label ``score`` falls in, or None when the scale has no threshold."""
        if self.scale.threshold is None:
            return None
        return self.classes[int(self.scale.classify([score])[0])]


def _definition(key: str, entry: dict) -> ScaleDefinition:
    def field(name: str, kind: type[T] | tuple[type[T], ...], default: T | EllipsisType = ...) -> T:
        if name not in entry:
            if isinstance(default, EllipsisType):
                raise CodebookError(f"scale {key!r}: field {name!r} is missing")
            return default
        value = entry[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CodebookError(f"scale {key!r}: field {name!r} has the wrong type ({value!r})")
        return value

    number = (int, float)
    kind = field("kind", str)
    if kind not in KINDS:
        raise CodebookError(f"scale {key!r}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    threshold = field("threshold", number, None)
    classes = field("classes", list, ["below threshold", "at or above threshold"])
    if len(classes) != 2 or not all(isinstance(c, str) for c in classes):
        raise CodebookError(f"scale {key!r}: classes must be two labels, [below, at or above]")
    try:
        scale = Scale(
            field("low", number),
            field("high", number),
            field("step", number, 1),
            threshold=threshold,
            class_labels=tuple(classes),
        )
    except ValueError as error:
        raise CodebookError(f"scale {key!r}: {error}") from None
    anchors = {}
    for point, text in field("anchors", dict, {}).items():
        try:
            level = scale.index([point])[0]
        except ValueError:
            raise CodebookError(f"scale {key!r}: anchor {point!r} is not a point on {scale}") from None
        if not isinstance(text, str):
            raise CodebookError(f"scale {key!r}: anchor {point!r} must be text")
        anchors[float(scale.levels[level])] = text
    return ScaleDefinition(key, field("label", str, key), kind, scale, dict(sorted(anchors.items())))


# Statistics a coder may be certified on, against the master codes (keys of reliability's STATISTICS).
CERTIFICATION_STATISTICS = (
    "kappa_quadratic",
    "kappa_linear",
    "ac2_quadratic",
    "icc_single",
    "exact_agreement",
    "within_agreement",
)


@dataclass(frozen=True)
class CertificationRule:
    """When a coder counts as certified on a scale: ``statistic`` against the master codes reaches
    ``threshold`` over at least ``min_recordings`` training recordings."""

    statistic: str = "kappa_quadratic"
    threshold: float = 0.80
    min_recordings: int = 8

    def describe(self) -> str:
        return (
            f"{self.statistic.replace('_', ' ')} >= {self.threshold:g} over at least {self.min_recordings} recordings"
        )


def _section(rule: type, values: dict, section: str, source: str):  # noqa: ANN202 - an instance of ``rule``
    """A codebook section as its rule dataclass, every field optional; a field the rule has not is refused by name."""
    unknown = set(values) - {f.name for f in fields(rule)}
    if unknown:
        raise CodebookError(f"codebook {source}: [{section}] has unknown field {', '.join(sorted(unknown))}")
    return rule(**values)


def certification_rule(values: dict, source: str) -> CertificationRule:
    """The [certification] section; every field optional, each checked."""
    rule = _section(CertificationRule, values, "certification", source)
    if rule.statistic not in CERTIFICATION_STATISTICS:
        raise CodebookError(
            f"codebook {source}: [certification] statistic must be one of "
            f"{', '.join(CERTIFICATION_STATISTICS)}, not {rule.statistic!r}"
        )
    if isinstance(rule.threshold, bool) or not isinstance(rule.threshold, int | float) or not 0 < rule.threshold <= 1:
        raise CodebookError(
            f"codebook {source}: [certification] threshold must be a number in (0, 1], not {rule.threshold!r}"
        )
    if isinstance(rule.min_recordings, bool) or not isinstance(rule.min_recordings, int) or rule.min_recordings < 2:
        raise CodebookError(
            f"codebook {source}: [certification] min_recordings must be a whole number of at "
            f"least 2, not {rule.min_recordings!r}"
        )
    return rule


# What a withdrawal does to the participant's submitted ratings: what her consent form allows.
WITHDRAWN_RATINGS = {"keep": "stay in the analysis", "exclude": "leave the analysis"}

ANALYSIS_SCORES = {
    "consensus_else_primary": "the PI's consensus rating where there is one, else the primary coder's submitted score",
    "primary": "the primary coder's submitted score (consensus ratings are not used)",
    "mean": "the mean of every coder's latest submitted score (consensus ratings are not used)",
}


@dataclass(frozen=True)
class AnalysisRule:
    """How the analysis dataset is made: which score counts for a recording coded more than once,
    the control arm and the baseline timepoint (None: not declared)."""

    score: str = "consensus_else_primary"
    control: str | None = None
    baseline: str | None = None

    def describe(self) -> str:
        return f"score that counts ({self.score}): {ANALYSIS_SCORES[self.score]}"


def analysis_rule(values: dict, source: str) -> AnalysisRule:
    """The [analysis] section; every field optional, each checked."""
    rule = _section(AnalysisRule, values, "analysis", source)
    if rule.score not in ANALYSIS_SCORES:
        raise CodebookError(
            f"codebook {source}: [analysis] score must be one of {', '.join(ANALYSIS_SCORES)}, not {rule.score!r}"
        )
    for name in ("control", "baseline"):
        if getattr(rule, name) is not None and not (
            isinstance(getattr(rule, name), str) and getattr(rule, name).strip()
        ):
            raise CodebookError(f"codebook {source}: [analysis] {name} must be a label, not {getattr(rule, name)!r}")
    return rule


@dataclass(frozen=True)
class Codebook:
    scales: dict[str, ScaleDefinition]
    arms: tuple[str, ...] = ()
    """Declared arm labels; empty means any label is accepted."""
    timepoints: tuple[str, ...] = ()
    certification: CertificationRule = CertificationRule()
    analysis: AnalysisRule = AnalysisRule()
    normalise_media: bool | None = None
    """Re-encode every recording to one profile on import; None when the codebook does not say."""
    withdrawn_ratings: str | None = None
    """What happens to a participant's ratings when her consent is withdrawn (WITHDRAWN_RATINGS); None: not declared."""

    def for_kind(self, kind: RecordingKind) -> list[ScaleDefinition]:
        """The scales that rate recordings of this kind, in codebook order."""
        return [s for s in self.scales.values() if s.kind == kind]

    def __getitem__(self, key: str) -> ScaleDefinition:
        try:
            return self.scales[key]
        except KeyError:
            raise CodebookError(f"no scale {key!r} in the codebook (it has {', '.join(self.scales)})") from None


def load_codebook(path: Path | None = None) -> Codebook:
    """Read a codebook file; the shipped default when ``path`` is None."""
    source = DEFAULT_CODEBOOK if path is None else path
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodebookError(f"codebook {source.name}: no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise CodebookError(f"codebook {source.name}: not valid TOML ({error})") from None
    entries = data.get("scales")
    if not isinstance(entries, dict) or not entries:
        raise CodebookError(f"codebook {source.name}: no [scales.NAME] tables")
    study = data.get("study", {})
    declared: dict[str, tuple[str, ...]] = {}
    for name in ("arms", "timepoints"):
        values = study.get(name, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise CodebookError(f"codebook {source.name}: [study] {name} must be a list of labels")
        declared[name] = tuple(v.strip() for v in values)
    normalise = study.get("normalise_media")
    if normalise is not None and not isinstance(normalise, bool):
        raise CodebookError(f"codebook {source.name}: [study] normalise_media must be true or false, not {normalise!r}")
    withdrawn = study.get("withdrawn_ratings")
    if withdrawn is not None and withdrawn not in WITHDRAWN_RATINGS:
        raise CodebookError(
            f"codebook {source.name}: [study] withdrawn_ratings must be one of "
            f"{', '.join(WITHDRAWN_RATINGS)}, not {withdrawn!r}"
        )
    rule = certification_rule(data.get("certification", {}), source.name)
    analysis = analysis_rule(data.get("analysis", {}), source.name)
    return Codebook(
        {key: _definition(key, entry) for key, entry in entries.items()},
        **declared,
        analysis=analysis,
        certification=rule,
        normalise_media=normalise,
        withdrawn_ratings=withdrawn,
    )
