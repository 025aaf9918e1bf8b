"""The leaderboard: who is ranked, in what order, ties, anonymity, and the four renderings."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from grader.errors import UsageError
from grader.publish.leaderboard import Leaderboard, build_leaderboard, pseudonym
from grader.publish.leaderboard_render import leaderboard_html, leaderboard_markdown
from grader.grading.result import Check, CheckStatus, Failure, FailureKind, FunctionTiming, GradeResult, SubmissionInfo

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "schemas" / "leaderboard.schema.json"
GENERATED_AT = "2025-03-01T12:00:00+00:00"
HOSTILE_NAME = "<script>alert(1)</script>"

# (speedup, ci_low, ci_high) of one function; None: the timing was not measured.
Speed = tuple[float, float, float] | None


# ------------------------------------------------------------------------- factory


def make_result(
    student_id: str,
    *,
    score: float = 10.0,
    max_score: float = 10.0,
    forward: Speed = (2.0, 1.9, 2.1),
    backward: Speed = (2.0, 1.9, 2.1),
    correct: bool = True,
    speed_check_passed: bool = True,
    gradable: bool = True,
    assignment: str = "conv-layers",
) -> GradeResult:
    """A valid GradeResult: one correctness check, one speed check, two timings."""
    checks = [
        Check(
            id="forward/visible-1/out",
            name="forward output on a small case",
            call="forward",
            function="conv_forward_naive",
            layer="cs231n-conv",
            group="correctness",
            status=CheckStatus.PASSED if correct else CheckStatus.FAILED,
            score=6.0 if correct else 0.0,
            max_score=6.0,
            message="ok" if correct else "3 of 96 elements differ",
        ),
        Check(
            id="speed/forward",
            name="forward speed",
            call="forward",
            function="conv_forward_naive",
            layer="cs231n-conv",
            group="speed",
            status=CheckStatus.PASSED if speed_check_passed else CheckStatus.FAILED,
            score=4.0 if speed_check_passed else 0.0,
            max_score=4.0,
            message="ok" if speed_check_passed else "slower than 0.5x the reference",
        ),
    ]
    timing = [_timing("forward", forward), _timing("backward", backward)]
    return GradeResult(
        grader_version="0.2.0",
        assignment=assignment,
        config_hash="c0ffee",
        submission=SubmissionInfo(id=student_id, source_name=f"{student_id}.py", kind="py", sha256="ab" * 32),
        seed=1,
        graded_at="2025-03-01T10:00:00+00:00",
        gradable=gradable,
        failure=None if gradable else Failure(kind=FailureKind.GRADER, message="Docker not reachable"),
        score=score,
        max_score=max_score,
        checks=checks,
        timing=timing,
        wall_time_s=1.5,
    )


def _timing(function: str, speed: Speed) -> FunctionTiming:
    if speed is None:
        return FunctionTiming(call=function, function=f"conv_{function}_naive", layer="cs231n-conv", measured=False,
                              reason="timing budget exhausted", case="large")
    speedup, low, high = speed
    return FunctionTiming(
        call=function,
        function=f"conv_{function}_naive",
        layer="cs231n-conv",
        measured=True,
        case="large",
        trials=21,
        student_median_s=0.01 / speedup,
        reference_median_s=0.01,
        speedup_vs_reference=speedup,
        ci_low=low,
        ci_high=high,
        ci_level=0.95,
    )


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def board_of(results: list[GradeResult], **options) -> Leaderboard:
    options.setdefault("generated_at", GENERATED_AT)
    return build_leaderboard(results, **options)


def standings(board: Leaderboard) -> list[tuple[int | None, str, str]]:
    return [(entry.rank, entry.student, entry.status) for entry in board.entries]


# ------------------------------------------------------------------------- ranking


def test_ranked_by_score_then_by_geometric_mean_speed():
    results = [
        make_result("slow-full", score=10, forward=(1.0, 0.98, 1.02), backward=(1.0, 0.98, 1.02)),
        make_result("low-score-fast", score=8, forward=(9.0, 8.9, 9.1), backward=(9.0, 8.9, 9.1)),
        # geomean(4, 1) = 2.0 beats geomean(1.5, 1.5) = 1.5, although backward is slower.
        make_result("fast-forward", score=10, forward=(4.0, 3.9, 4.1), backward=(1.0, 0.99, 1.01)),
        make_result("balanced", score=10, forward=(1.5, 1.45, 1.55), backward=(1.5, 1.45, 1.55)),
    ]
    board = board_of(results)
    assert standings(board) == [
        (1, "fast-forward", "ranked"),
        (2, "balanced", "ranked"),
        (3, "slow-full", "ranked"),
        (4, "low-score-fast", "ranked"),
    ]


def test_figures_that_cannot_be_told_apart_share_a_rank_competition_style():
    results = [
        make_result("a", forward=(3.0, 2.5, 3.5), backward=(3.0, 2.5, 3.5)),
        make_result("b", forward=(2.98, 2.4, 3.2), backward=(2.98, 2.4, 3.2)),  # a coin flip from a
        make_result("c", forward=(1.5, 1.4, 1.6), backward=(1.5, 1.4, 1.6)),  # overlaps nobody
    ]
    assert [(rank, name) for rank, name, _ in standings(board_of(results))] == [(1, "a"), (1, "b"), (3, "c")]


def test_overlapping_intervals_are_still_ordered_when_one_is_likely_faster():
    # The intervals overlap, but 3.0 against 2.8 with these widths is far more than a
    # coin flip (the old rule tied them).
    results = [
        make_result("a", forward=(3.0, 2.5, 3.5), backward=(3.0, 2.5, 3.5)),
        make_result("b", forward=(2.8, 2.4, 3.2), backward=(2.8, 2.4, 3.2)),
    ]
    assert [entry.rank for entry in board_of(results).entries] == [1, 2]


def test_separate_intervals_do_not_tie():
    results = [
        make_result("a", forward=(3.0, 2.9, 3.1), backward=(3.0, 2.9, 3.1)),
        make_result("b", forward=(2.0, 1.9, 2.1), backward=(2.0, 1.9, 2.1)),
    ]
    assert [entry.rank for entry in board_of(results).entries] == [1, 2]


def test_overlap_is_judged_on_the_combined_interval():
    # Forward intervals overlap ([2.8, 3.2] vs [1.0, 3.0]) but the combined ones,
    # a: [geomean(2.8, 2.8), geomean(3.2, 3.2)] = [2.8, 3.2] and
    # b: [geomean(1.0, 1.0), geomean(3.0, 1.2)] = [1.0, 1.897...], do not.
    results = [
        make_result("a", forward=(3.0, 2.8, 3.2), backward=(3.0, 2.8, 3.2)),
        make_result("b", forward=(2.0, 1.0, 3.0), backward=(1.1, 1.0, 1.2)),
    ]
    assert [entry.rank for entry in board_of(results).entries] == [1, 2]


def test_ties_do_not_chain():
    # a cannot be told from b, b cannot be told from c, but a can be told from c: a
    # neighbour rule would tie all three; here c is behind a (rank 2) and b is level
    # with both.
    results = [
        make_result("a", forward=(1.0, 0.9, 1.1), backward=(1.0, 0.9, 1.1)),
        make_result("b", forward=(0.995, 0.895, 1.095), backward=(0.995, 0.895, 1.095)),
        make_result("c", forward=(0.99, 0.89, 1.09), backward=(0.99, 0.89, 1.09)),
        make_result("d", forward=(0.5, 0.45, 0.55), backward=(0.5, 0.45, 0.55)),
    ]
    assert [(entry.student, entry.rank) for entry in board_of(results).entries] == [
        ("a", 1),
        ("b", 1),
        ("c", 2),
        ("d", 4),
    ]


def test_a_higher_figure_never_gets_a_worse_rank_even_with_a_narrow_interval():
    # b (2.0, narrow) is told apart from a; c (1.99, an enormous interval) cannot be told
    # from a or b. Raw ranks would be a 1, b 2, c 1: an inversion. The running maximum
    # gives c rank 2.
    results = [
        make_result("a", forward=(2.2, 2.15, 2.25), backward=(2.2, 2.15, 2.25)),
        make_result("b", forward=(2.0, 1.98, 2.02), backward=(2.0, 1.98, 2.02)),
        make_result("c", forward=(1.99, 0.1, 40.0), backward=(1.99, 0.1, 40.0)),
    ]
    assert [(entry.student, entry.rank) for entry in board_of(results).entries] == [("a", 1), ("b", 2), ("c", 2)]


def class_of_300(seed: int = 9, half_width: float = 0.03) -> list[GradeResult]:
    """300 correct students, speedups log-uniform over 0.001-1.5, intervals of +-3%."""
    import random

    rng = random.Random(seed)
    results = []
    for index in range(300):
        speed = math.exp(rng.uniform(math.log(0.001), math.log(1.5)))
        figure = (speed, speed * (1 - half_width), speed * (1 + half_width))
        results.append(make_result(f"s{index:03d}", forward=figure, backward=figure))
    return results


@pytest.mark.parametrize("seed", [9, 10, 11])
def test_a_class_of_300_is_separated_without_inversions(seed):
    board = board_of(class_of_300(seed))
    ranked = [entry for entry in board.entries if entry.status == "ranked"]
    assert len(ranked) == 300
    figures = [(e.speeds["forward"], e.speeds["backward"]) for e in ranked]
    speeds = [math.sqrt(f.speedup_vs_reference * b.speedup_vs_reference) for f, b in figures]
    intervals = [(math.sqrt(f.ci_low * b.ci_low), math.sqrt(f.ci_high * b.ci_high)) for f, b in figures]
    ranks = [entry.rank for entry in ranked]
    assert len(set(ranks)) >= 250, f"only {len(set(ranks))} distinct ranks"
    for i in range(300):
        for j in range(300):
            if speeds[i] > speeds[j]:
                assert ranks[i] <= ranks[j], f"inversion: {speeds[i]} ranked {ranks[i]}, {speeds[j]} ranked {ranks[j]}"
            disjoint = intervals[i][1] < intervals[j][0] or intervals[j][1] < intervals[i][0]
            if disjoint and i != j:
                assert ranks[i] != ranks[j], f"disjoint intervals share rank {ranks[i]}"


def test_different_scores_never_tie_even_when_speeds_overlap():
    results = [
        make_result("a", score=10, forward=(2.0, 1.0, 3.0), backward=(2.0, 1.0, 3.0)),
        make_result("b", score=9, forward=(2.0, 1.0, 3.0), backward=(2.0, 1.0, 3.0)),
    ]
    assert [entry.rank for entry in board_of(results).entries] == [1, 2]


def test_scores_differing_only_by_float_noise_are_equal():
    results = [
        make_result("a", score=0.1 + 0.2, forward=(1.0, 0.9, 1.1), backward=(1.0, 0.9, 1.1)),
        make_result("b", score=0.3, forward=(3.0, 2.9, 3.1), backward=(3.0, 2.9, 3.1)),
    ]
    assert [entry.student for entry in board_of(results).entries] == ["b", "a"]


def test_order_does_not_depend_on_input_order_and_equal_keys_go_by_id():
    results = [make_result(student_id) for student_id in ("carol", "alice", "bob")]
    forwards = board_of(results)
    backwards = board_of(list(reversed(results)))
    assert standings(forwards) == standings(backwards) == [
        (1, "alice", "ranked"),
        (1, "bob", "ranked"),
        (1, "carol", "ranked"),
    ]


def test_unranked_groups_follow_the_ranked_ones_in_a_fixed_order():
    results = [
        make_result("broken-grader", gradable=False, score=0),
        make_result("wrong-low", correct=False, score=2),
        make_result("untimed", backward=None, score=10),
        make_result("ranked-one", score=4),
        make_result("wrong-high", correct=False, score=7),
        make_result("another-broken", gradable=False, score=0),
    ]
    board = board_of(results)
    assert standings(board) == [
        (1, "ranked-one", "ranked"),
        (None, "untimed", "not_timed"),
        (None, "wrong-high", "failed_correctness"),
        (None, "wrong-low", "failed_correctness"),
        (None, "another-broken", "not_gradable"),
        (None, "broken-grader", "not_gradable"),
    ]
    assert board.counts.model_dump() == {"ranked": 1, "not_timed": 1, "failed_correctness": 2, "not_gradable": 2}


def test_failed_speed_check_still_ranks_but_failed_correctness_does_not():
    results = [
        make_result("slow-but-right", speed_check_passed=False, score=6),
        make_result("fast-but-wrong", correct=False, score=4, forward=(5.0, 4.9, 5.1)),
    ]
    board = board_of(results)
    assert standings(board) == [
        (1, "slow-but-right", "ranked"),
        (None, "fast-but-wrong", "failed_correctness"),
    ]
    # A failed student's measured speed is still reported, just not ranked.
    assert board.entries[1].speeds["forward"].model_dump(exclude_none=True) == {"speedup_vs_reference": 5.0, "ci_low": 4.9,
                                                                      "ci_high": 5.1, "ci_level": 0.95}


def test_entry_carries_result_fields_and_submission_time():
    board = board_of(
        [make_result("alice", score=7.5, forward=(2.0, 1.8, 2.2), backward=None)],
        submitted_at={"alice": "2025-02-28T23:59:00+00:00"},
    )
    assert board.model_dump(mode="json") == {
        "schema_version": "2.0",
        "assignment": "conv-layers",
        "calls": ["forward", "backward"],
        "generated_at": GENERATED_AT,
        "grader_version": "0.2.0",
        "entries": [
            {
                "rank": None,
                "student": "alice",
                "student_id": "alice",
                "score": 7.5,
                "max_score": 10.0,
                "speeds": {
                    "forward": {"speedup_vs_reference": 2.0, "ci_low": 1.8, "ci_high": 2.2, "ci_level": 0.95,
                                "gflops": None, "percent_of_peak": None},
                    "backward": {"speedup_vs_reference": None, "ci_low": None, "ci_high": None, "ci_level": None,
                                 "gflops": None, "percent_of_peak": None},
                },
                "submitted_at": "2025-02-28T23:59:00+00:00",
                "graded_at": "2025-03-01T10:00:00+00:00",
                "grader_version": "0.2.0",
                "status": "not_timed",
                "reason": None,
                "finals_rank": None,
            }
        ],
        "counts": {"ranked": 0, "not_timed": 1, "failed_correctness": 0, "not_gradable": 0},
        "title": None,
        "finals": None,
        "finals_note": None,
        "function_boards": [],
    }


def test_generated_at_defaults_to_now_in_utc():
    board = build_leaderboard([make_result("alice")])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", board.generated_at)


@pytest.mark.parametrize(
    ("results", "message"),
    [
        pytest.param([], "no results", id="empty"),
        pytest.param(
            [make_result("a"), make_result("b", assignment="max-pool")],
            "'b' is for 'max-pool', 'a' is for 'conv-layers'",
            id="mixed-assignments",
        ),
        pytest.param([make_result("a"), make_result("a")], "two results for submission 'a'", id="duplicate"),
    ],
)
def test_invalid_result_sets_are_refused(results, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        build_leaderboard(results)


# ---------------------------------------------------------------- names, anonymity


def test_roster_names_are_shown_and_missing_ones_fall_back_to_the_id():
    board = board_of([make_result("s1"), make_result("s2")], roster={"s1": "Ada Lovelace"})
    assert [(entry.student, entry.student_id) for entry in board.entries] == [("Ada Lovelace", "s1"), ("s2", "s2")]


def test_pseudonym_is_sha256_of_salt_and_id():
    # printf 'peppers1' | sha256sum  ->  788ea681fe14...
    assert pseudonym("s1", "pepper") == "student-788ea681"
    assert pseudonym("s1", "pepper") == pseudonym("s1", "pepper")
    assert pseudonym("s1", "salt") != pseudonym("s1", "pepper")


def test_anonymized_board_hides_ids_and_names_everywhere(schema):
    results = [make_result("s1-secret-id"), make_result("s2-secret-id", correct=False, score=3)]
    roster = {"s1-secret-id": "Ada Lovelace", "s2-secret-id": "Alan Turing"}
    board = board_of(results, roster=roster, anonymize=True, anonymize_salt="pepper")

    assert [entry.student for entry in board.entries] == [
        pseudonym("s1-secret-id", "pepper"),
        pseudonym("s2-secret-id", "pepper"),
    ]
    assert all(entry.student_id is None for entry in board.entries)
    outputs = {
        "json": board.model_dump_json(),
        "markdown": leaderboard_markdown(board),
        "html": leaderboard_html(board),
    }
    for kind, text in outputs.items():
        for secret in ("secret", "Ada", "Lovelace", "Alan", "Turing"):
            assert secret not in text, f"{secret!r} leaks into the {kind} output"
    jsonschema.validate(board.model_dump(mode="json"), schema)


def test_anonymized_board_is_stable_across_runs():
    results = [make_result("s1"), make_result("s2")]
    first = board_of(results, anonymize=True, anonymize_salt="pepper")
    second = board_of(list(reversed(results)), anonymize=True, anonymize_salt="pepper")
    assert first == second


def test_anonymize_without_salt_is_refused():
    with pytest.raises(UsageError, match="needs a secret anonymize_salt"):
        build_leaderboard([make_result("s1")], anonymize=True)


def test_pseudonym_collision_is_refused():
    # Find two ids whose 32-bit pseudonyms collide (a birthday search: ~100k hashes).
    seen: dict[str, str] = {}
    for number in range(1_000_000):
        student_id = f"s{number}"
        name = pseudonym(student_id, "pepper")
        if name in seen:
            colliding = [seen[name], student_id]
            break
        seen[name] = student_id
    with pytest.raises(UsageError, match="same pseudonym"):
        build_leaderboard([make_result(i) for i in colliding], anonymize=True, anonymize_salt="pepper")


# ------------------------------------------------------------------------- schema


def _varied_boards() -> list[Leaderboard]:
    results = [
        make_result("a", forward=(3.0, 2.5, 3.5), backward=(3.0, 2.5, 3.5)),
        make_result("b", forward=(2.8, 2.4, 3.2), backward=(2.8, 2.4, 3.2)),
        make_result("c", backward=None),
        make_result("d", correct=False, score=1),
        make_result("e", gradable=False, score=0),
    ]
    return [
        board_of(results),
        board_of(results, roster={"a": HOSTILE_NAME}, submitted_at={"a": "2025-02-28T10:00:00Z"}),
        board_of(results, anonymize=True, anonymize_salt="pepper"),
        board_of([make_result("only-failed", correct=False, score=0)]),
    ]


@pytest.mark.parametrize("board", _varied_boards(), ids=["plain", "roster", "anonymized", "none-ranked"])
def test_every_board_validates_against_the_published_schema(board, schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(board.model_dump_json()), schema, cls=jsonschema.Draft202012Validator)
    assert Leaderboard.model_validate_json(board.model_dump_json()) == board


# ----------------------------------------------------------------------- markdown


def test_markdown_table_exact():
    results = [
        make_result("a", forward=(3.0, 2.5, 3.5), backward=(2.0, 1.8, 2.2)),
        make_result("b", score=7.5, forward=(0.0123, 0.012, 0.0126), backward=(1.0, 0.9, 1.1)),
        make_result("c", correct=False, score=3),
        make_result("d", gradable=False, score=0),
    ]
    markdown = leaderboard_markdown(board_of(results, roster={"a": "Ada | <b>Love*lace</b>"}))
    assert markdown == (
        "# Leaderboard: conv-layers\n"
        "\n"
        "Generated 1 March 2025, 12:00 UTC by convgrade 0.2.0. Speed is reference time / student time "
        "(CPU time of each call, over several worker pairs): \"0.80x the reference's speed\" means the reference "
        "runs 1.25 times as fast, and far below it the figure reads \"470x slower than the reference\"; above 1x "
        "is faster than the reference. The interval is its confidence interval, labelled with its level (\"95% "
        "interval\"). Rank is 1 + the students with a higher score, or the same score and a speed more "
        "likely than not (over 55%) ahead of yours; so two students share a rank only when their speeds cannot "
        "be told apart, and never when their intervals are disjoint.\n"
        "\n"
        "| Rank | Student | Score | Forward speed | Backward speed |\n"
        "|---:|---|---:|---|---|\n"
        "| 1 | Ada \\| \\<b\\>Love\\*lace\\</b\\> | 10 / 10 | 3.0x the reference's speed (95% interval 2.5-3.5) "
        "| 2.0x the reference's speed (95% interval 1.8-2.2) |\n"
        "| 2 | b | 7.5 / 10 | 81x slower than the reference (95% interval 79-83x slower) "
        "| 1.0x the reference's speed (95% interval 0.90-1.1) |\n"
        "\n"
        "## Not ranked\n"
        "\n"
        "| Student | Score | Why |\n"
        "|---|---:|---|\n"
        "| c | 3 / 10 | failed a correctness check |\n"
        "| d | — | not gradable (a grader error, not a grade) |\n"
    )


def test_markdown_without_ranked_students_says_so():
    markdown = leaderboard_markdown(board_of([make_result("c", correct=False, score=3)]))
    assert "No submission is ranked yet.\n\n## Not ranked" in markdown
    assert "| Rank |" not in markdown


def test_markdown_keeps_a_multiline_name_on_one_row():
    markdown = leaderboard_markdown(board_of([make_result("a")], roster={"a": "Ada\n| 0 | forged |"}))
    assert "| 1 | Ada \\| 0 \\| forged \\| | 10 / 10 |" in markdown


# --------------------------------------------------------------------------- html


class _PageDigest(HTMLParser):
    """What a test asks of the page: elements by id, rows, circles, scripts, external references."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.open_tables: list[str] = []
        self.rows: dict[str, list[dict[str, str]]] = {}
        self.circles: list[dict[str, str]] = []
        self.all_circles: list[dict[str, str]] = []
        self.tags: list[str] = []
        self.references: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append(tag)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "table":
            self.open_tables.append(attributes.get("id", ""))
        if tag == "tr" and self.open_tables and "data-student" in attributes:
            self.rows.setdefault(self.open_tables[-1], []).append(attributes)
        if tag == "circle" and attributes.get("data-plot", "wide") == "wide":  # the phone drawing repeats them
            self.circles.append(attributes)
            self.all_circles.append(attributes)
        elif tag == "circle":
            self.all_circles.append(attributes)
        self.references += [attributes[name] for name in ("src", "href") if name in attributes]

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.open_tables:
            self.open_tables.pop()


def digest(page: str) -> _PageDigest:
    parser = _PageDigest()
    parser.feed(page)
    parser.close()
    return parser


def _sample_board() -> Leaderboard:
    results = [
        make_result("a", forward=(3.0, 2.5, 3.5), backward=(2.0, 1.8, 2.2)),
        make_result("b", forward=(0.05, 0.045, 0.055), backward=(0.2, 0.18, 0.22)),
        make_result("c", score=8, forward=(1.2, 1.1, 1.3), backward=(0.9, 0.85, 0.95)),
        make_result("d", correct=False, score=3),
        make_result("e", gradable=False, score=0),
    ]
    return board_of(results, roster={"a": HOSTILE_NAME, "b": "Bea \"quoted\" & co"})


def test_html_has_the_table_and_one_circle_per_ranked_student_and_function():
    page = digest(leaderboard_html(_sample_board()))
    assert {"ranking", "unranked", "speedup-plot", "reference-line"} <= page.ids
    assert [row["data-student"] for row in page.rows["ranking"]] == [HOSTILE_NAME, 'Bea "quoted" & co', "c"]
    assert [row["data-rank"] for row in page.rows["ranking"]] == ["1", "2", "3"]
    assert [row["data-student"] for row in page.rows["unranked"]] == ["d", "e"]
    assert sorted((c["data-function"], c["data-student"], c["data-speedup"]) for c in page.circles) == sorted(
        [
            ("forward", HOSTILE_NAME, "3.0"),
            ("backward", HOSTILE_NAME, "2.0"),
            ("forward", 'Bea "quoted" & co', "0.05"),
            ("backward", 'Bea "quoted" & co', "0.2"),
            ("forward", "c", "1.2"),
            ("backward", "c", "0.9"),
        ]
    )


def test_html_escapes_student_supplied_text_and_loads_nothing():
    page_text = leaderboard_html(_sample_board())
    assert HOSTILE_NAME not in page_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page_text
    page = digest(page_text)
    assert "script" not in page.tags
    assert page.references == []  # no external stylesheet, image, font or script
    assert 'content="default-src \'none\'; style-src \'unsafe-inline\'"' in page_text


def test_html_plot_places_dots_on_a_log_axis_around_the_reference():
    page_text = leaderboard_html(_sample_board())
    page = digest(page_text)
    x = {(c["data-student"], c["data-function"]): float(c["cx"]) for c in page.circles}
    reference = float(re.search(r'id="reference-line" class="reference" x1="([\d.]+)"', page_text)[1])
    assert x[("c", "backward")] < reference < x[("c", "forward")]  # 0.9x left of 1x, 1.2x right of it
    # Log axis: distance is log10 of the ratio. Backward 0.2 -> 2.0 is one decade;
    # 0.2 -> 1.0 (the reference) is log10(5) = 0.699 of it.
    decade = x[(HOSTILE_NAME, "backward")] - x[('Bea "quoted" & co', "backward")]
    assert reference - x[('Bea "quoted" & co', "backward")] == pytest.approx(0.69897 * decade, abs=0.2)


def test_html_without_ranked_students_still_has_the_plot_and_table():
    page_text = leaderboard_html(board_of([make_result("d", correct=False, score=3)]))
    page = digest(page_text)
    assert {"ranking", "speedup-plot", "unranked"} <= page.ids
    assert page.circles == []
    assert "No ranked submission yet." in page_text


# ---------------------------------------------------------------------------- csv


# -- issue 26: a board's calls are the pack's own ---------------------------------------------------

def with_alt(student_id: str, speeds: tuple[float, float, float]) -> GradeResult:
    """A result that times three calls (a batchnorm's forward, backward and backward_alt)."""
    base = make_result(student_id)
    timing = [_timing(call, (speed, speed * 0.95, speed * 1.05)).model_copy(
                  update={"function": f"batchnorm_{call}", "layer": "cs231n-batchnorm"})
              for call, speed in zip(("forward", "backward", "backward_alt"), speeds)]
    return base.model_copy(update={"timing": timing})


def test_a_board_ranks_and_shows_every_call_the_results_time():
    board = board_of([with_alt("even", (2.0, 2.0, 2.0)), with_alt("alt-fast", (1.0, 1.0, 27.0))])
    assert board.calls == ["forward", "backward", "backward_alt"]
    # geomean(1, 1, 27) = 3 beats geomean(2, 2, 2) = 2: a gain in any call counts the same.
    assert [(e.student, e.rank) for e in board.entries] == [("alt-fast", 1), ("even", 2)]
    assert board.entries[0].speeds["backward_alt"].speedup_vs_reference == 27.0
    jsonschema.validate(board.model_dump(mode="json"), json.loads(SCHEMA_PATH.read_text()))
    markdown = leaderboard_markdown(board)
    assert "| Rank | Student | Score | Forward speed | Backward speed | Backward_alt speed |" in markdown
    page = leaderboard_html(board)
    assert "<th>Backward_alt speed</th>" in page and 'class="speedup backward_alt call-2"' in page
    assert "Forward, backward and backward_alt speed against the reference" in page


def test_a_call_missing_from_one_result_keeps_it_off_the_ranking():
    two = make_result("two-calls")  # times forward and backward only
    short = two.model_copy(update={"timing": [t.model_copy(update={"layer": "cs231n-batchnorm"}) for t in two.timing]})
    board = board_of([with_alt("three-calls", (2.0, 2.0, 2.0)), short])
    assert board.calls == ["forward", "backward", "backward_alt"]
    statuses = {e.student: e.status for e in board.entries}
    assert statuses == {"three-calls": "ranked", "two-calls": "not_timed"}


def as_bundle(timing: list, key: str, layer: str) -> list:
    """Timing rows as a bundle reports them: the call under the layer's key ("conv/forward")."""
    return [t.model_copy(update={"call": f"{key}/{t.call}", "layer": layer}) for t in timing]


def test_gradescope_names_a_column_per_call_and_a_bundles_with_its_layer():
    from grader.publish.gradescope import to_gradescope

    one_layer = to_gradescope(make_result("solo"))
    assert [row["name"] for row in one_layer["leaderboard"]] == ["forward speedup", "backward speedup"]
    base = make_result("bundle")
    timing = as_bundle(base.timing, "conv", "cs231n-conv") + as_bundle(base.timing, "maxpool", "cs231n-maxpool")
    bundle = to_gradescope(base.model_copy(update={"timing": timing}))
    assert [row["name"] for row in bundle["leaderboard"]] == [
        "conv/forward speedup", "conv/backward speedup", "maxpool/forward speedup", "maxpool/backward speedup"]


def test_calls_of_several_layers_are_told_apart_by_their_layer():
    """A whole assignment graded at once times several layers' forward and backward: the
    bundle's call names carry the layer, so one layer's speed is never read as another's."""
    base = make_result("bundle", forward=(2.0, 1.9, 2.1), backward=(2.0, 1.9, 2.1))
    pool = [_timing(call, (8.0, 7.5, 8.5)) for call in ("forward", "backward")]
    timing = as_bundle(base.timing, "conv", "cs231n-conv") + as_bundle(pool, "maxpool", "cs231n-maxpool")
    board = board_of([base.model_copy(update={"timing": timing})])
    assert board.calls == ["conv/forward", "conv/backward", "maxpool/forward", "maxpool/backward"]
    speeds = board.entries[0].speeds
    assert speeds["conv/forward"].speedup_vs_reference == 2.0
    assert speeds["maxpool/backward"].speedup_vs_reference == 8.0
    assert board.entries[0].status == "ranked"


def test_a_board_can_rank_by_the_calls_a_course_names():
    """A course that races one call (batchnorm_backward_alt) ranks by it alone; the others'
    timings, missing or not, keep nobody off the board."""
    slow_alt = with_alt("slow-alt", (9.0, 9.0, 1.0))
    untimed = with_alt("untimed-forward", (2.0, 2.0, 2.0))
    untimed = untimed.model_copy(update={"timing": [_timing("forward", None).model_copy(
        update={"layer": "cs231n-batchnorm"})] + untimed.timing[1:]})
    board = board_of([slow_alt, untimed], calls=["backward_alt"])
    assert board.calls == ["backward_alt"]
    assert [(e.student, e.rank) for e in board.entries] == [("untimed-forward", 1), ("slow-alt", 2)]
    assert set(board.entries[0].speeds) == {"backward_alt"}
    from grader.publish.boards import BoardOptions, build_boards

    boards = build_boards([slow_alt, untimed], BoardOptions(calls=["backward_alt"], generated_at=GENERATED_AT))
    assert [(e.student, e.rank) for e in boards.entries] == [("untimed-forward", 1), ("slow-alt", 2)]
    # Every timed call keeps its own board: the class board's rule picks only the ranking.
    assert [b.call for b in boards.function_boards] == ["forward", "backward", "backward_alt"]
    assert [e.student for e in boards.function_boards[0].entries] == ["slow-alt"]  # the other's forward is untimed
