"""The long-format agreement table: one row per subscale x coder pair, every error named by row."""

import krippendorff
import numpy as np
import pandas as pd
import pytest

from reliability import STATISTICS, RatingsError, Scale, agreement_table, cohen_kappa, krippendorff_alpha
from reliability.alpha import LEVELS

EA = Scale(1, 7, 0.5, threshold=5.5)
VIPP = Scale(1, 5, 1, threshold=3)


def long(scores: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    """{(coder, subscale): scores by unit} -> long format, units u1, u2, ..."""
    rows = [
        (f"u{i + 1}", coder, subscale, score)
        for (coder, subscale), values in scores.items()
        for i, score in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["unit", "coder", "subscale", "score"])


A_SENS = [5, 5.5, 6, 3, 4, 6.5, 2, 5]
B_SENS = [5, 6, 6, 3.5, 4, 6.5, 2.5, 5]
C_SENS = [4.5, 6, 6.5, 3, 4, 7, 2, np.nan]


def test_one_row_per_subscale_and_coder_pair_with_every_statistic():
    ratings = long(
        {
            ("A", "sens"): A_SENS,
            ("B", "sens"): B_SENS,
            ("C", "sens"): C_SENS,
            ("A", "adh"): [3, 4, 5, 2],
            ("B", "adh"): [3, 4, 4, 2],
        }
    )
    table = agreement_table(ratings, {"sens": EA, "adh": VIPP}, seed=7)
    assert table[["subscale", "coder_a", "coder_b"]].values.tolist() == [
        ["sens", "A", "B"],
        ["sens", "A", "C"],
        ["sens", "B", "C"],
        ["adh", "A", "B"],
    ]
    for statistic in STATISTICS:
        for suffix in ("", "_se", "_ci_low", "_ci_high"):
            assert statistic + suffix in table.columns
    ab = table.iloc[0]
    assert ab.n == 8 and ab.n_unpaired == 0
    assert ab.kappa_quadratic == pytest.approx(cohen_kappa(A_SENS, B_SENS, EA, "quadratic").estimate)
    assert ab.alpha == pytest.approx(krippendorff_alpha([A_SENS, B_SENS], EA, n_boot=0).estimate)
    ac = table.iloc[1]
    assert ac.n == 7 and ac.n_unpaired == 1
    assert table.attrs["seed"] == 7


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_at_every_level_on_the_integer_vipp_scale(level):
    """Scale(1, 5, 1) as the codebook declares VIPP adherence: ratio alpha used to crash on its integer levels."""
    a, b = [3, 4, 5, 2, 4, 3, 5, 1], [3, 4, 4, 2, 5, 3, 5, 2]
    row = agreement_table(long({("A", "adh"): a, ("B", "adh"): b}), VIPP, level=level, n_boot=200, seed=3).iloc[0]
    expected = krippendorff.alpha(reliability_data=[a, b], value_domain=[1, 2, 3, 4, 5], level_of_measurement=level)
    assert row.alpha == pytest.approx(expected, rel=1e-9)
    assert row.alpha_ci_low <= row.alpha <= row.alpha_ci_high
    alone = krippendorff_alpha([a, b], VIPP, level, n_boot=200, seed=3)
    assert [alone.estimate, *alone.ci] == pytest.approx([row.alpha, row.alpha_ci_low, row.alpha_ci_high])


def test_table_is_reproducible_from_its_seed():
    ratings = long({("A", "sens"): A_SENS, ("B", "sens"): B_SENS})
    first = agreement_table(ratings, EA)
    again = agreement_table(ratings, EA, seed=first.attrs["seed"])
    pd.testing.assert_frame_equal(first, again)


def test_undefined_statistics_are_explained_in_notes():
    ratings = long({("A", "sens"): [6, 6, 6], ("B", "sens"): [6, 6, 6]})
    row = agreement_table(ratings, EA, n_boot=10, seed=1).iloc[0]
    assert np.isnan(row.kappa_quadratic) and np.isnan(row.alpha)
    assert "kappa_quadratic undefined: expected agreement is 1" in row.notes
    assert "alpha undefined" in row.notes
    assert row.ac1 == pytest.approx(1.0)


def test_pair_with_one_shared_unit_is_listed_with_a_note_and_no_numbers():
    ratings = long({("A", "sens"): [5, 6, np.nan], ("B", "sens"): [5, np.nan, 6]})
    row = agreement_table(ratings, EA, seed=1).iloc[0]
    assert row.n == 1 and row.n_unpaired == 2
    assert row.notes == "fewer than two units scored by both coders"
    assert all(np.isnan(row[s]) for s in STATISTICS)


def test_class_statistics_are_empty_without_a_threshold():
    ratings = long({("A", "sens"): A_SENS, ("B", "sens"): B_SENS})
    row = agreement_table(ratings, Scale(1, 7, 0.5), seed=1).iloc[0]
    assert np.isnan(row.class_kappa) and not np.isnan(row.kappa_linear)


def test_every_bad_row_is_named_at_once():
    ratings = pd.DataFrame(
        {
            "unit": ["u1", "u1", "u2", "u2", "", "u3", "u1"],
            "coder": ["A", "B", "A", "B", "A", "A", "A"],
            "subscale": ["sens", "sens", "sens", "other", "sens", "sens", "sens"],
            "score": [5, 5.25, "high", 4, 5, 9, 6],
        },
        index=range(2, 9),
    )
    with pytest.raises(RatingsError) as error:
        agreement_table(ratings, {"sens": EA})
    problems = error.value.problems
    assert "row 6: field 'unit' is blank" in problems
    assert "row 5: subscale 'other' has no declared scale (declared: sens)" in problems
    assert "row 3: score 5.25 is not on the scale 1-7 in steps of 0.5" in problems
    assert "row 4: score 'high' is not a number" in problems
    assert "row 7: score 9 is outside the scale 1-7 in steps of 0.5" in problems
    assert "rows 2 and 8: the same unit, coder and subscale rated more than once" in problems
    assert str(error.value).startswith("6 problems in the ratings:")


def test_missing_columns_are_named():
    with pytest.raises(RatingsError, match="columns subscale, score missing"):
        agreement_table(pd.DataFrame({"unit": [], "coder": []}), EA)


def test_no_overlapping_coders_is_an_error():
    ratings = long({("A", "sens"): [5, 6]})
    with pytest.raises(RatingsError, match="no subscale has two coders"):
        agreement_table(ratings, EA)
