"""Finals ranks from paired per-round comparisons, on exact small inputs."""

from __future__ import annotations

import math

import pytest

from grader.publish.finals_ranks import compare, comparisons_of, log_t_interval, rank_finalists, ratio_cv


def test_a_constant_ratio_is_told_apart_however_much_the_rounds_drift():
    # The machine is 10% slower in round 2: both figures move, their ratio does not.
    figures = {"a": [2.0, 2.2, 2.1], "b": [1.0, 1.1, 1.05]}
    pair = compare("a", "b", figures)
    assert pair.ratio.value == pytest.approx(2.0)
    assert (pair.ratio.low, pair.ratio.high) == (pytest.approx(2.0), pytest.approx(2.0))
    assert pair.ratio.count == 3
    assert pair.verdict == "faster"
    assert compare("b", "a", figures).verdict == "slower"


def test_the_interval_is_a_t_interval_over_rounds_of_the_log_ratios():
    # log ratios 0.10, 0.12, 0.14: mean 0.12, sd 0.02, t(0.975, 2 df) = 4.303.
    figures = {"a": [math.exp(0.10), math.exp(0.12), math.exp(0.14)], "b": [1.0, 1.0, 1.0]}
    pair = compare("a", "b", figures)
    half = 4.302653 * 0.02 / math.sqrt(3)
    assert pair.ratio.value == pytest.approx(math.exp(0.12))
    assert pair.ratio.low == pytest.approx(math.exp(0.12 - half))
    assert pair.ratio.high == pytest.approx(math.exp(0.12 + half))
    assert pair.verdict == "faster"


def test_ratios_that_change_sides_are_not_told_apart():
    # log ratios -0.1 and +0.1 over two rounds: t(0.975, 1 df) = 12.706.
    figures = {"a": [1.0, 1.0], "b": [math.exp(0.1), math.exp(-0.1)]}
    pair = compare("a", "b", figures)
    half = 12.706205 * math.sqrt(0.02) / math.sqrt(2)
    assert pair.ratio.value == pytest.approx(1.0)
    assert pair.ratio.low == pytest.approx(math.exp(-half))
    assert pair.verdict == "not different"


def test_rounds_without_both_figures_are_left_out_and_one_round_tells_nobody_apart():
    figures = {"a": [2.0, None, 2.0], "b": [1.0, 1.0, None]}
    pair = compare("a", "b", figures)
    assert pair.ratio.count == 1 and pair.ratio.low is None
    assert pair.verdict == "not different"
    assert compare("a", "b", {"a": [None, 1.0], "b": [1.0, None]}) is None
    assert log_t_interval([math.log(3.0)]).value == pytest.approx(3.0)


def test_ranks_count_the_finalists_significantly_faster_with_rank_intervals():
    drift = [1.0, 1.1, 1.05]
    figures = {
        "A": [4 * d for d in drift],
        "B": [2 * d for d in drift],
        "C": [2 * d * e for d, e in zip(drift, [1.01, 0.99, 1.0])],  # B within noise
        "D": [1 * d for d in drift],
    }
    placings = rank_finalists(figures)
    assert [p.student_id for p in placings][0] == "A" and placings[-1].student_id == "D"
    assert {p.student_id for p in placings[1:3]} == {"B", "C"}
    assert [(p.rank, p.rank_best, p.rank_worst) for p in placings] == [(1, 1, 1), (2, 2, 3), (2, 2, 3), (4, 4, 4)]
    top = placings[0]
    assert top.faster_than == tuple(p.student_id for p in placings[1:]) and top.slower_than == ()
    assert top.figure.value == pytest.approx(4 * math.exp(sum(map(math.log, drift)) / 3))
    assert placings[-1].slower_than == tuple(p.student_id for p in placings[:3])


def test_every_pair_once_and_the_cv_of_per_round_ratios():
    figures = {"b": [1.0, 1.0], "a": [1.0, 1.2], "c": [2.0, 2.0]}
    assert [(c.a, c.b) for c in comparisons_of(figures)] == [("a", "b"), ("a", "c"), ("b", "c")]
    # ratios 1.0 and 1.2: mean 1.1, sample sd 0.1414.
    assert ratio_cv(figures["a"], figures["b"]) == pytest.approx(math.sqrt(0.02) / 1.1)
    assert ratio_cv([1.0, None], [1.0, 1.0]) is None


def test_a_finalist_without_a_figure_in_every_planned_round_is_unranked_and_listed_last():
    figures = {"a": [2.0, 2.2, 2.1], "b": [1.0, 1.1, 1.05], "c": [None, None, None], "d": [3.0, None, 3.1]}
    placings = rank_finalists(figures, rounds_planned=3)
    assert [(p.student_id, p.rank, p.reason) for p in placings] == [
        ("a", 1, None), ("b", 2, None), ("c", None, "timed in 0 of 3 planned rounds"),
        ("d", None, "timed in 2 of 3 planned rounds")]
    assert (placings[1].rank_best, placings[1].rank_worst) == (2, 2)


def test_when_every_round_fails_nobody_is_rank_one():
    placings = rank_finalists({"a": [None, None], "b": [None, None]}, rounds_planned=2)
    assert [p.rank for p in placings] == [None, None]


def test_rounds_not_yet_run_leave_everyone_unranked():
    placings = rank_finalists({"a": [2.0, 2.1], "b": [1.0, 1.1]}, rounds_planned=3)
    assert [(p.rank, p.reason) for p in placings] == [(None, "timed in 2 of 3 planned rounds")] * 2


@pytest.mark.parametrize("df, quantile", [(1, 12.706), (2, 4.303), (5, 2.571), (30, 2.042), (60, 2.000),
                                          (120, 1.980), (1000, 1.962)])
def test_t_quantiles_match_the_tables(df, quantile):
    from grader.publish.finals_ranks import t_975

    assert round(t_975(df), 3) == quantile


def test_p_values_of_the_paired_t_test():
    from grader.publish.finals_ranks import t_two_sided_p

    assert t_two_sided_p(4.303, 2) == pytest.approx(0.05, abs=1e-4)
    assert t_two_sided_p(2.042, 30) == pytest.approx(0.05, abs=1e-4)
    assert t_two_sided_p(0.0, 5) == pytest.approx(1.0)


def test_holm_keeps_a_pair_that_a_lone_95_percent_test_would_call_different():
    from grader.publish.finals_ranks import holm

    # Three pairs. a-b: log ratios 0.04, 0.06, 0.08 (t = 5.196, 2 df, p = 0.035): below 0.05
    # alone. Holm: a-c (p ~ 0) <= 0.05/3; then b-c (p = 0.026) > 0.05/2 stops it, so a-b and
    # b-c are not told apart.
    logs = [0.04, 0.06, 0.08]
    figures = {"a": [math.exp(x) for x in logs], "b": [1.0, 1.0, 1.0], "c": [math.exp(x + 0.01) for x in logs]}
    alone = compare("a", "b", figures)
    assert alone.verdict == "faster" and alone.p == pytest.approx(0.0351, abs=1e-4)
    assert compare("b", "c", figures).p == pytest.approx(0.0262, abs=1e-4)
    corrected = {(c.a, c.b): c.verdict for c in comparisons_of(figures)}
    assert corrected == {("a", "b"): "not different", ("a", "c"): "slower", ("b", "c"): "not different"}
    assert [(p.student_id, p.rank) for p in rank_finalists(figures)] == [("c", 1), ("a", 2), ("b", 2)]
    assert [c.verdict for c in holm([alone])] == ["faster"]
