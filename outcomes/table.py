"""The trial's outcome tables from a long table of scores: per subscale and timepoint, and follow-up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reliability import RatingsError, Scale, ScoreError
from reliability.scale import by_row, is_missing

from .binary import NO_CHANGE, Change, ClassComparison, change_from_baseline, compare_classes
from .continuous import ScoreComparison, compare_scores
from .proportion import clopper_pearson

COLUMNS = ("participant", "arm", "timepoint", "subscale", "score")

ROW_FIELDS = (
    "subscale",
    "timepoint",
    "n_treatment",
    "events_treatment",
    "n_control",
    "events_control",
    "risk_difference",
    "risk_difference_ci_low",
    "risk_difference_ci_high",
    "risk_ratio",
    "risk_ratio_ci_low",
    "risk_ratio_ci_high",
    "change_treatment",
    "change_control",
    "change_difference",
    "mean_treatment",
    "sd_treatment",
    "mean_control",
    "sd_control",
    "mean_difference",
    "mean_difference_ci_low",
    "mean_difference_ci_high",
    "hedges_g",
    "hedges_g_ci_low",
    "hedges_g_ci_high",
)
FOLLOW_UP_FIELDS = ("timepoint", "arm", "n", "of", "rate", "ci_low", "ci_high")
ALL_ARMS = "all"


@dataclass(frozen=True)
class Design:
    """What the scores are compared by, for :func:`check_scores` and :func:`outcome_tables`.

    ``control`` and ``baseline`` name the control arm and the baseline timepoint; ``treatment`` the arm
    compared with it (None: the one other arm); ``timepoints`` the declared timepoints in order (None: any,
    baseline first); ``randomised`` participant -> arm from the allocation (None: those seen at baseline).
    """

    control: str
    baseline: str
    treatment: str | None = None
    timepoints: Sequence[str] | None = None
    randomised: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Comparison:
    """Everything computed for one subscale at one timepoint; ``change`` is all NaN at baseline."""

    subscale: str
    timepoint: str
    classes: ClassComparison
    scores: ScoreComparison
    change: Change

    def row(self) -> dict[str, object]:
        """This comparison as one row of :data:`ROW_FIELDS` (NaN where undefined)."""
        c, s = self.classes, self.scores
        fields: dict[str, object] = {
            "subscale": self.subscale,
            "timepoint": self.timepoint,
            "n_treatment": c.treatment.n,
            "events_treatment": c.treatment.events,
            "n_control": c.control.n,
            "events_control": c.control.events,
        }
        for name, effect in (
            ("risk_difference", c.risk_difference),
            ("risk_ratio", c.risk_ratio),
            ("mean_difference", s.mean_difference),
            ("hedges_g", s.hedges_g),
        ):
            fields |= {name: effect.estimate, f"{name}_ci_low": effect.ci[0], f"{name}_ci_high": effect.ci[1]}
        fields |= {
            "change_treatment": self.change.treatment,
            "change_control": self.change.control,
            "change_difference": self.change.difference,
            "mean_treatment": s.treatment.mean,
            "sd_treatment": s.treatment.sd,
            "mean_control": s.control.mean,
            "sd_control": s.control.sd,
        }
        return {name: fields[name] for name in ROW_FIELDS}

    def notes(self) -> list[str]:
        """Why any statistic of this comparison is undefined, one line each."""
        effects = (
            self.classes.risk_difference,
            self.classes.risk_ratio,
            self.scores.mean_difference,
            self.scores.hedges_g,
        )
        return [
            f"{self.subscale} at {self.timepoint}: {e.statistic} {e.undefined}"
            if e.defined
            else f"{self.subscale} at {self.timepoint}: {e.statistic} undefined: {e.undefined}"
            for e in effects
            if e.undefined
        ]


@dataclass(frozen=True)
class OutcomeTables:
    """The outcome tables and how they were made.

    ``rows``: one per subscale x timepoint with the columns :data:`ROW_FIELDS` (proportions
    and changes as fractions; NaN where undefined, every change NaN at baseline).
    ``follow_up``: one per timepoint x arm (treatment, control, then ``"all"``) with
    :data:`FOLLOW_UP_FIELDS`. ``comparisons`` holds the full results behind each row (each
    arm's share with its exact interval, methods, reasons), keyed by (subscale, timepoint);
    ``notes`` says why any value is undefined; ``scales`` gives each subscale's scale and threshold.
    """

    rows: pd.DataFrame
    follow_up: pd.DataFrame
    comparisons: Mapping[tuple[str, str], Comparison]
    notes: tuple[str, ...]
    treatment: str
    control: str
    baseline: str
    timepoints: tuple[str, ...]
    complete_case: bool
    correction: bool
    confidence: float
    scales: Mapping[str, Scale]


def _rows(labels: Sequence[object]) -> str:
    return f"row{'s' if len(labels) > 1 else ''} {' and '.join(str(r) for r in labels)}"


def _arms(frame: pd.DataFrame, control: str, treatment: str | None) -> tuple[str | None, list[str]]:
    """The treatment arm (given, or the one arm besides control) and the problems with the arms."""
    present = list(dict.fromkeys(frame["arm"]))
    named = ", ".join(map(repr, present))
    if control not in present:
        # Every other row would look like a stray arm: the control's name is what to fix.
        return None, [f"no row has the control arm {control!r} (arms in the data: {named})"]
    if treatment is not None and treatment not in present:
        return None, [f"no row has the treatment arm {treatment!r} (arms in the data: {named})"]
    treatment = treatment or next((arm for arm in present if arm != control), None)
    if treatment is None:
        return None, [f"every row is in the control arm {control!r}: there is no arm to compare it with"]
    stray = ~frame["arm"].isin([control, treatment])
    return treatment, [
        f"row {row}: arm {arm!r} is a third arm; outcomes compare {treatment!r} with the control {control!r}"
        for row, arm in frame.loc[stray, "arm"].items()
    ]


def _two_arms(frame: pd.DataFrame, randomised: Mapping[str, str] | None) -> list[str]:
    """Rows that put a participant in a second arm, or in an arm other than their allocation."""
    by_participant = frame.groupby("participant", sort=False)
    first_arm = by_participant["arm"].transform("first")
    first_row = pd.Series(frame.index, index=frame.index).groupby(frame["participant"], sort=False).transform("first")
    problems = [
        f"row {row}: participant {frame.at[row, 'participant']!r} is in arm {frame.at[row, 'arm']!r} here "
        f"but in arm {first_arm[row]!r} in row {first_row[row]}"
        for row in frame.index[frame["arm"] != first_arm]
    ]
    if randomised is not None:
        allocated = frame["participant"].astype(object).map(randomised)  # NaN where not allocated
        for row in frame.index[(frame["arm"] == first_arm) & allocated.ne(frame["arm"].astype(object))]:
            who, arm = frame.at[row, "participant"], frame.at[row, "arm"]
            problems.append(
                f"row {row}: participant {who!r} (arm {arm!r}) is not in the allocation"
                if pd.isna(allocated[row])
                else f"row {row}: participant {who!r} is allocated to {allocated[row]!r}, not to arm {arm!r}"
            )
    return problems


def check_scores(scores: pd.DataFrame, scales: Mapping[str, Scale] | Scale, design: Design) -> pd.DataFrame:
    """The long table of scores checked: columns participant, arm, timepoint, subscale, score, in_class.

    Raises :class:`~reliability.RatingsError` listing every problem, each naming its row by the
    frame's index label (give spreadsheet row numbers as the index): a column missing, a blank
    field, a subscale with no scale (or a scale with no threshold), a timepoint not among the
    design's ``timepoints`` (when given), a third arm (one neither ``control`` nor the treatment arm,
    which is ``treatment`` or else the one other arm), a control or baseline no row has, a
    participant in two arms (or, with ``randomised``, in an arm other than their allocation),
    a score off its grid, and the same participant, timepoint and subscale twice. Text fields
    are stripped; scores come back as their grid levels, ``in_class`` 1 at or above the
    threshold; ``.attrs`` names the treatment and control arms.

    >>> long = pd.DataFrame({"participant": ["p1", "p2"], "arm": ["VIPP", "Usual care"],
    ...                      "timepoint": "baseline", "subscale": "sensitivity", "score": ["5.5", "4"]})
    >>> checked = check_scores(long, Scale(1, 7, 0.5, threshold=5.5), Design("Usual care", "baseline"))
    >>> checked["in_class"].tolist()
    [1, 0]
    """
    control, baseline, treatment, timepoints = design.control, design.baseline, design.treatment, design.timepoints
    if not scores.index.is_unique:
        scores = scores.reset_index(drop=True)  # rows must be told apart; positions then name them
    missing = [c for c in COLUMNS if c not in scores.columns]
    if missing:
        raise RatingsError(
            [
                f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing "
                f"(the scores need {', '.join(COLUMNS)})"
            ]
        )
    frame = scores.loc[:, list(COLUMNS)].copy()
    text = ["participant", "arm", "timepoint", "subscale"]
    for column in text:
        frame[column] = frame[column].astype("string").str.strip()
    blank = {column: is_missing(frame[column].to_numpy()) for column in COLUMNS}
    problems = [
        f"row {row}: field '{column}' is blank"
        for position, row in enumerate(frame.index)
        for column in COLUMNS
        if blank[column][position]
    ]
    frame = frame[~np.logical_or.reduce(list(blank.values()))]
    if not isinstance(scales, Scale):
        unknown = ~frame["subscale"].isin(list(scales))
        problems += [
            f"row {row}: subscale {name!r} has no declared scale (declared: {', '.join(scales)})"
            for row, name in frame.loc[unknown, "subscale"].items()
        ]
        frame = frame[~unknown]
    if timepoints is not None and baseline not in timepoints:
        problems.append(f"the baseline {baseline!r} is not among the declared timepoints ({', '.join(timepoints)})")
    if timepoints is not None:
        undeclared = ~frame["timepoint"].isin(list(timepoints))
        problems += [
            f"row {row}: timepoint {name!r} is not declared (declared: {', '.join(timepoints)})"
            for row, name in frame.loc[undeclared, "timepoint"].items()
        ]
        frame = frame[~undeclared]
    if not frame.empty and baseline not in set(frame["timepoint"]):
        problems.append(f"no row is at the baseline timepoint {baseline!r}")
    if not frame.empty:
        treatment, wrong = _arms(frame, control, treatment)
        problems += wrong + _two_arms(frame, design.randomised)
    levels = pd.Series(np.nan, index=frame.index)
    in_class = pd.Series(0, index=frame.index)
    for subscale, group in frame.groupby("subscale", sort=False):
        scale = scales if isinstance(scales, Scale) else scales[subscale]
        if scale.threshold is None:
            problems.append(f"subscale {subscale!r} has no threshold, so no classes to compare")
            continue
        rows = group.index
        try:
            index = scale.index(group["score"].to_numpy(), by_row(rows))
        except ScoreError as error:
            problems += str(error).split("; ")
            continue
        levels[rows], in_class[rows] = scale.levels[index], (index >= scale.threshold_index).astype(int)
    repeated = frame[frame.duplicated(["participant", "timepoint", "subscale"], keep=False)]
    problems += [
        f"{_rows(group.index)}: the same participant, timepoint and subscale scored more than once"
        for _, group in repeated.groupby(["participant", "timepoint", "subscale"], sort=False)
    ]
    if frame.empty and not problems:
        problems.append("no scores")
    if problems:
        raise RatingsError(problems)
    clean = frame.assign(score=levels, in_class=in_class)
    clean.attrs = {"treatment": treatment, "control": control}
    return clean


def _follow_up(
    clean: pd.DataFrame,
    arms: tuple[str, str],
    baseline: str,
    timepoints: tuple[str, ...],
    randomised: Mapping[str, str] | None,
    confidence: float,
) -> pd.DataFrame:
    """Participants seen (any score) at each timepoint, of those randomised, per arm and in both together."""
    if randomised is None:
        at_baseline = clean[clean["timepoint"] == baseline]
        randomised = dict(zip(at_baseline["participant"], at_baseline["arm"], strict=True))
    allocation = pd.Series(randomised, dtype=object)
    allocation = allocation[allocation.isin(arms)]
    seen = clean[clean["participant"].isin(allocation.index)].drop_duplicates(["participant", "timepoint"])
    n = pd.crosstab(seen["timepoint"], seen["arm"]).reindex(index=list(timepoints), columns=list(arms), fill_value=0)
    n[ALL_ARMS] = n.sum(axis=1)
    of = allocation.value_counts().reindex(list(arms), fill_value=0)
    of[ALL_ARMS] = of.sum()
    table = n.stack().rename("n").reset_index().set_axis(["timepoint", "arm", "n"], axis=1)
    table["of"] = of[table["arm"]].to_numpy()
    low, high = clopper_pearson(table["n"], table["of"], confidence)
    rate = np.divide(table["n"], table["of"], out=np.full(len(table), np.nan), where=table["of"].to_numpy() > 0)
    return table.assign(rate=rate, ci_low=low, ci_high=high)[list(FOLLOW_UP_FIELDS)]


def _complete(clean: pd.DataFrame, timepoints: tuple[str, ...]) -> pd.DataFrame:
    """Only the scores of participants scored on that subscale at every timepoint."""
    visits = clean.groupby(["subscale", "participant"])["timepoint"].transform("nunique")
    return clean[visits == len(timepoints)]


def outcome_tables(
    scores: pd.DataFrame,
    scales: Mapping[str, Scale] | Scale,
    design: Design,
    *,
    complete_case: bool = False,
    correction: bool = False,
    confidence: float = 0.95,
) -> OutcomeTables:
    """The outcome tables of a long table of scores (participant, arm, timepoint, subscale, score).

    ``scales``: one :class:`~reliability.Scale` for every subscale or a mapping subscale ->
    Scale, each with its threshold (``in class`` = at or above it). Input is checked by
    :func:`check_scores` first (every bad row named, nothing computed until clean).

    For each subscale (in the mapping's order, else as they first appear) and timepoint
    (the design's ``timepoints`` in order if given, else baseline first and the others as they first
    appear): :func:`~outcomes.binary.compare_classes` (shares, risk difference, risk ratio;
    ``correction`` as in :func:`~outcomes.binary.risk_ratio`),
    :func:`~outcomes.binary.change_from_baseline` and
    :func:`~outcomes.continuous.compare_scores`, treatment against control.

    ``complete_case=True`` keeps, per subscale, only participants scored on it at every
    timepoint (the complete-case sensitivity analysis). Follow-up is of the whole data either
    way: a participant counts as seen at a timepoint with any score there, out of those
    randomised: the design's ``randomised`` (participant -> arm, from the allocation) or, without it,
    the participants seen at baseline, whose arm the data give.

    >>> long = pd.DataFrame({
    ...     "participant": ["p1", "p2", "p3", "p4"] * 2, "arm": ["VIPP", "VIPP", "UC", "UC"] * 2,
    ...     "timepoint": ["baseline"] * 4 + ["post"] * 4, "subscale": "sensitivity",
    ...     "score": [5, 4, 5.5, 3, 6, 5.5, 5, 4]})
    >>> tables = outcome_tables(long, Scale(1, 7, 0.5, threshold=5.5), Design("UC", "baseline"))
    >>> columns = ["timepoint", "events_treatment", "events_control", "risk_difference", "change_difference"]
    >>> tables.rows[columns].to_numpy().tolist()
    [['baseline', 0, 1, -0.5, nan], ['post', 2, 0, 1.0, 1.5]]
    >>> tables.follow_up.loc[tables.follow_up.timepoint == "post", ["arm", "n", "of", "rate"]].to_numpy().tolist()
    [['VIPP', 2, 2, 1.0], ['UC', 2, 2, 1.0], ['all', 4, 4, 1.0]]
    """
    clean = check_scores(scores, scales, design)
    treatment, control, baseline, timepoints = (
        clean.attrs["treatment"],
        design.control,
        design.baseline,
        design.timepoints,
    )
    order = (
        tuple(timepoints)
        if timepoints is not None
        else (baseline, *dict.fromkeys(clean["timepoint"][clean["timepoint"] != baseline]))
    )
    subscales = (
        [s for s in scales if s in set(clean["subscale"])]
        if not isinstance(scales, Scale)
        else list(dict.fromkeys(clean["subscale"]))
    )
    analysed = _complete(clean, order) if complete_case else clean
    comparisons: dict[tuple[str, str], Comparison] = {}
    for subscale in subscales:
        classes, scored = {}, {}
        for timepoint in order:
            at = analysed[(analysed["subscale"] == subscale) & (analysed["timepoint"] == timepoint)]
            one, two = at[at["arm"] == treatment], at[at["arm"] == control]
            classes[timepoint] = compare_classes(
                int(one["in_class"].sum()),
                len(one),
                int(two["in_class"].sum()),
                len(two),
                confidence,
                correction=correction,
            )
            scored[timepoint] = compare_scores(one["score"], two["score"], confidence)
        for timepoint in order:
            change = NO_CHANGE if timepoint == baseline else change_from_baseline(classes[baseline], classes[timepoint])
            comparisons[subscale, timepoint] = Comparison(
                subscale, timepoint, classes[timepoint], scored[timepoint], change
            )
    rows = pd.DataFrame([c.row() for c in comparisons.values()], columns=list(ROW_FIELDS))
    follow_up = _follow_up(clean, (treatment, control), baseline, order, design.randomised, confidence)
    notes = tuple(note for c in comparisons.values() for note in c.notes())
    used = {subscale: scales if isinstance(scales, Scale) else scales[subscale] for subscale in subscales}
    return OutcomeTables(
        rows,
        follow_up,
        comparisons,
        notes,
        treatment,
        control,
        baseline,
        order,
        complete_case,
        correction,
        confidence,
        used,
    )


def class_changes(clean: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """How many participants of each arm moved between classes from baseline to each later timepoint.

    ``clean`` as :func:`check_scores` returns it. One row per subscale x later timepoint x arm
    x class at baseline x class then (0 below the threshold, 1 at or above), with ``n``
    participants scored on the subscale at both; every combination is listed, 0 where none
    (the flows of a Sankey diagram or the segments of stacked bars).

    >>> long = pd.DataFrame({"participant": ["p1", "p2", "p1", "p2"], "arm": ["VIPP", "UC"] * 2,
    ...                      "timepoint": ["baseline"] * 2 + ["post"] * 2, "subscale": "sens", "score": [5, 6, 6, 6]})
    >>> clean = check_scores(long, Scale(1, 7, 0.5, threshold=5.5), Design("UC", "baseline"))
    >>> moved = class_changes(clean, "baseline")
    >>> moved[moved.n > 0][["arm", "class_baseline", "class_then", "n"]].to_numpy().tolist()
    [['VIPP', 0, 1, 1], ['UC', 1, 1, 1]]
    """
    key = ["subscale", "participant"]
    at_baseline = clean.loc[clean["timepoint"] == baseline, [*key, "in_class"]].rename(
        columns={"in_class": "class_baseline"}
    )
    later = clean[clean["timepoint"] != baseline].rename(columns={"in_class": "class_then"}).merge(at_baseline, on=key)
    levels = ["subscale", "timepoint", "arm", "class_baseline", "class_then"]
    every = pd.MultiIndex.from_product(
        [
            list(dict.fromkeys(clean["subscale"])),
            list(dict.fromkeys(clean.loc[clean["timepoint"] != baseline, "timepoint"])),
            [clean.attrs["treatment"], clean.attrs["control"]],
            [0, 1],
            [0, 1],
        ],
        names=levels,
    )
    return later.groupby(levels).size().reindex(every, fill_value=0).rename("n").reset_index()
