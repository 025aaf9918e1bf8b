"""finals.json against its schema and its pages; the board marking finalists, linking the
finals and taking their order; who the finalists are."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from grader.batch.finals import finals_config, grading_figure, round_order
from grader.batch.finals_select import choose_finalists
from grader.errors import UsageError
from grader.grading.config import GradingConfig
from grader.publish.boards import BoardOptions, build_boards
from grader.publish.finals import Finals, FinalsGrading, FinalsRound, build_finals, finals_document, load_finals
from grader.publish.finals_render import finals_html, finals_markdown
from grader.publish.leaderboard_render import leaderboard_html, leaderboard_markdown
from tests.unit.publish.test_leaderboard import make_result

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
SHA = "ab" * 32


def finals_of(figures: dict[str, list[float | None]], board_ranks: dict[str, int], sha: dict[str, str] | None = None,
              ) -> Finals:
    rounds = []
    for index in range(len(next(iter(figures.values())))):
        order = sorted(figures)
        rounds.append(FinalsRound(round=index + 1, order=order, host="h", gradings=[
            FinalsGrading(student_id=s, host="h", started=10.0 * index + k, finished=10.0 * index + k + 1,
                          figure=figures[s][index], speedups={"forward": figures[s][index], "backward": figures[s][index]})
            for k, s in enumerate(order)]))
    finalists = {s: {"sha256": (sha or {}).get(s, SHA), "board_rank": board_ranks[s]} for s in figures}
    return build_finals(assignment="conv-layers", calls=["forward", "backward"], seed=7, rounds_planned=len(rounds),
                        top=2, finalists=finalists, rounds=rounds, generated_at="2025-03-02T12:00:00+00:00")


def class_of_four():
    # The board puts B (2.0) above C (1.9); the finals find C 10% faster in every round.
    return [make_result("A", forward=(3.0, 2.9, 3.1), backward=(3.0, 2.9, 3.1)),
            make_result("B", forward=(2.0, 1.9, 2.1), backward=(2.0, 1.9, 2.1)),
            make_result("C", forward=(1.9, 1.8, 2.0), backward=(1.9, 1.8, 2.0)),
            make_result("D", forward=(1.0, 0.95, 1.05), backward=(1.0, 0.95, 1.05))]


def c_beats_b() -> Finals:
    return finals_of({"A": [3.0, 3.3, 3.1], "B": [1.8, 1.98, 1.89], "C": [2.0, 2.2, 2.1]}, {"A": 1, "B": 2, "C": 3})


def test_finals_json_validates_against_its_schema_and_reads_back(tmp_path):
    finals = c_beats_b()
    document = json.loads(finals_document(finals))
    jsonschema.validate(document, json.loads((SCHEMAS / "finals.schema.json").read_text()))
    assert [(e["student_id"], e["rank"], e["rank_best"], e["rank_worst"]) for e in document["entries"]] == [
        ("A", 1, 1, 1), ("C", 2, 2, 2), ("B", 3, 3, 3)]
    assert document["seed"] == 7 and [r["order"] for r in document["rounds"]][0] == ["A", "B", "C"]
    assert document["entries"][1]["faster_than"] == ["B"] and document["entries"][1]["board_rank"] == 3
    (tmp_path / "finals.json").write_text(finals_document(finals))
    assert load_finals(tmp_path / "missing", tmp_path) == finals
    assert load_finals(tmp_path / "missing") is None


def test_the_board_takes_the_finalists_order_marks_them_and_links_the_finals():
    board = build_boards(class_of_four(), BoardOptions(finals=c_beats_b()))
    ranked = [(e.student_id, e.rank, e.finals_rank) for e in board.entries]
    assert ranked == [("A", 1, 1), ("C", 2, 2), ("B", 3, 3), ("D", 4, None)]
    assert board.finals == "finals.html"
    page = leaderboard_html(board)
    assert 'class="entry finalist" id="row-C"' in page
    assert '<a class="finals-mark" href="finals.html#row-C">\u2605 finals #2</a>' in page
    assert '<a href="finals.html">finals</a>' in page
    markdown = leaderboard_markdown(board)
    assert "| 2 | C \u2605 finals #2 | 10 / 10 |" in markdown
    assert "[finals](finals.html)" in markdown
    plain = build_boards(class_of_four())
    assert [(e.student_id, e.finals_rank) for e in plain.entries][:3] == [("A", None), ("B", None), ("C", None)]
    assert plain.finals is None and "finals" not in leaderboard_html(plain)


def test_a_finalist_regraded_since_the_finals_keeps_its_board_place():
    finals = finals_of({"A": [3.0, 3.3], "B": [1.8, 1.98], "C": [2.0, 2.2]}, {"A": 1, "B": 2, "C": 3},
                       sha={"C": "cd" * 32})
    board = build_boards(class_of_four(), BoardOptions(finals=finals))
    assert [(e.student_id, e.finals_rank) for e in board.entries] == [("A", 1), ("B", 3), ("C", None), ("D", None)]


def test_the_finals_pages_say_how_ranks_are_formed_and_escape_ids():
    finals = finals_of({"<b>x</b>": [2.0, 2.2], "y": [1.0, 1.1]}, {"<b>x</b>": 1, "y": 2})
    page = finals_html(finals)
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "paired" in page and "t-interval over rounds" in page and 'href="leaderboard.html"' in page
    markdown = finals_markdown(finals)
    assert "| 1 | 1 | \\<b\\>x\\</b\\> | 2.1x the reference's speed (95% interval 1.1-3.8) | 2 | 1 |" in markdown
    assert "| \\<b\\>x\\</b\\> | y | 2.0000x (95% interval 2.0000-2.0000): told apart |" in markdown


def test_finalists_are_the_top_k_and_everyone_overlapping_the_kth():
    results = [make_result("A", forward=(3.0, 2.9, 3.1), backward=(3.0, 2.9, 3.1)),
               make_result("B", forward=(2.0, 1.9, 2.1), backward=(2.0, 1.9, 2.1)),
               make_result("C", forward=(1.85, 1.75, 1.95), backward=(1.85, 1.75, 1.95)),  # overlaps B's
               make_result("D", forward=(1.0, 0.95, 1.05), backward=(1.0, 0.95, 1.05)),
               make_result("E", forward=(5.0, 4.9, 5.1), backward=(5.0, 4.9, 5.1), correct=False)]
    finalists, calls = choose_finalists(results, top=2)
    assert [(f.student_id, f.board_rank) for f in finalists] == [("A", 1), ("B", 2), ("C", 3)]
    assert calls == ["forward", "backward"] and finalists[0].seed == 1 and finalists[0].sha256 == SHA
    with pytest.raises(UsageError, match="at least two ranked"):
        choose_finalists(results[3:], top=2)


def test_orders_are_shuffled_per_round_from_the_seed_and_the_same_seed_gives_the_same():
    ids = [f"s{i}" for i in range(10)]
    orders = [round_order(ids, 7, r) for r in range(1, 4)]
    assert orders == [round_order(list(reversed(ids)), 7, r) for r in range(1, 4)]
    assert len({tuple(o) for o in orders}) == 3 and all(sorted(o) == ids for o in orders)
    assert round_order(ids, 8, 1) != orders[0]


def test_a_finals_grading_keeps_the_timing_and_one_hidden_case():
    config = finals_config(GradingConfig())
    assert config.hidden_cases == 1 and not config.what_if.enabled
    assert config.timing == GradingConfig().timing
    figure, speedups, contended, reason, out = grading_figure(make_result("A", forward=(4.0, 3.9, 4.1),
                                                                          backward=(1.0, 0.9, 1.1)), ["forward", "backward"], 2)
    assert figure == pytest.approx(2.0) and speedups == {"forward": 4.0, "backward": 1.0}
    assert (contended, reason, out) == (False, None, False)


def test_student_code_failing_or_untimed_in_a_round_is_out_of_the_finals_a_grader_failure_is_not():
    untimed = grading_figure(make_result("A", backward=None), ["forward", "backward"], 3)
    assert untimed[0] is None and untimed[3:] == ("failed in finals round 3: backward was not timed", True)
    wrong = grading_figure(make_result("A", correct=False), ["forward", "backward"], 2)
    assert wrong[3:] == ("failed in finals round 2: failed forward output on a small case: 3 of 96 elements differ", True)
    grader = grading_figure(make_result("A", gradable=False), ["forward", "backward"], 2)
    assert grader[3:] == ("not gradable: the grader failed", False)


def test_a_finalist_out_in_one_round_is_unranked_with_that_reason():
    finals = finals_of({"A": [3.0, 3.3, 3.1], "B": [1.8, 1.98, 1.89], "C": [2.0, 2.2, 2.1]}, {"A": 1, "B": 2, "C": 3})
    rounds = [r.model_copy(update={"gradings": [g.model_copy(update={
        "figure": None, "out": True, "reason": "failed in finals round 2: backward was not timed"})
        if (r.round, g.student_id) == (2, "C") else g for g in r.gradings]}) for r in finals.rounds]
    rebuilt = build_finals(assignment="conv-layers", calls=["forward", "backward"], seed=7, rounds_planned=3, top=2,
                           finalists={s: {"sha256": SHA, "board_rank": i + 1} for i, s in enumerate("ABC")},
                           rounds=rounds, generated_at="2025-03-02T12:00:00+00:00")
    assert [(e.student_id, e.rank, e.reason) for e in rebuilt.entries] == [
        ("A", 1, None), ("B", 2, None), ("C", None, "failed in finals round 2: backward was not timed")]


def test_a_grading_the_grader_failed_is_run_again_once_within_the_round(monkeypatch):
    from grader.batch import finals_round
    from grader.batch.finals_round import RoundTask, run_round

    answers = iter([make_result("A", gradable=False), make_result("A"), make_result("B", gradable=False),
                    make_result("B", gradable=False)])
    attempts = []

    def grade(task):
        attempts.append((task.student_id, task.attempt))
        return next(answers).model_dump_json()

    monkeypatch.setattr(finals_round, "grade_task", grade)
    monkeypatch.setattr(finals_round, "_current_slot", lambda: None)
    tasks = tuple(type("T", (), {"student_id": s, "attempt": 1})() for s in "AB")
    monkeypatch.setattr(finals_round, "replace", lambda task, attempt: type("T", (), {
        "student_id": task.student_id, "attempt": attempt})())
    done = json.loads(run_round(RoundTask(1, tasks, "batch-test")))
    assert attempts == [("A", 1), ("A", 2), ("B", 1), ("B", 2)]
    assert [(d["student_id"], d["retried"], json.loads(d["result"])["gradable"]) for d in done] == [
        ("A", True, True), ("B", True, False)]


def test_incomplete_finals_leave_the_board_its_own_order_and_say_why():
    finals = finals_of({"A": [3.0, 3.3, 3.1], "B": [1.8, 1.98, 1.89], "C": [2.0, None, 2.1]}, {"A": 1, "B": 2, "C": 3})
    assert [(e.student_id, e.rank, e.reason) for e in finals.entries] == [
        ("A", 1, None), ("B", 2, None), ("C", None, "timed in 2 of 3 planned rounds")]
    board = build_boards(class_of_four(), BoardOptions(finals=finals))
    assert [(e.student_id, e.rank, e.finals_rank) for e in board.entries] == [
        ("A", 1, None), ("B", 2, None), ("C", 3, None), ("D", 4, None)]
    assert board.finals is None
    assert board.finals_note == ("The board keeps its own order: the finals are incomplete (1 of 3 finalists "
                                 "unranked, e.g. C: timed in 2 of 3 planned rounds).")
    assert f'<p class="explanation" id="finals-note">{board.finals_note}</p>' in leaderboard_html(board)
    assert "| — | unranked: timed in 2 of 3 planned rounds | C |" in finals_markdown(finals)


def contended(result):
    return result.model_copy(update={"timing": [t.model_copy(update={"contended_pairs": 2}) for t in result.timing]})


def test_a_contended_grading_is_run_again_and_if_still_contended_kept_marked():
    from grader.batch.finals_round import redo_reason

    assert redo_reason(contended(make_result("A")).model_dump_json()) == "contended"
    assert redo_reason(make_result("A", gradable=False).model_dump_json()) == "the grader failed"
    assert redo_reason(make_result("A").model_dump_json()) is None
    figure, _, was_contended, reason, out = grading_figure(contended(make_result("A")), ["forward", "backward"], 1)
    assert (figure, was_contended, reason, out) == (pytest.approx(2.0), True, None, False)


def test_finals_of_other_calls_another_assignment_or_not_the_top_leave_the_board_its_order():
    own = [("A", 1, None), ("B", 2, None), ("C", 3, None), ("D", 4, None)]
    other_calls = c_beats_b().model_copy(update={"calls": ["forward"]})
    board = build_boards(class_of_four(), BoardOptions(finals=other_calls))
    assert [(e.student_id, e.rank, e.finals_rank) for e in board.entries] == own and board.finals is None
    assert board.finals_note == ("The board keeps its own order: the finals ranked by forward, the board by "
                                 "forward, backward.")
    other = c_beats_b().model_copy(update={"assignment": "pooling"})
    board = build_boards(class_of_four(), BoardOptions(finals=other))
    assert board.finals_note == "The board keeps its own order: the finals are of another assignment (pooling)."
    # B, C, D as finalists: A (not a finalist) is first on the board, above them.
    not_top = finals_of({"B": [1.8, 1.98, 1.89], "C": [2.0, 2.2, 2.1], "D": [1.0, 1.1, 1.05]},
                        {"B": 2, "C": 3, "D": 4})
    board = build_boards(class_of_four(), BoardOptions(finals=not_top))
    assert [(e.student_id, e.rank, e.finals_rank) for e in board.entries] == own
    assert board.finals_note == ("The board keeps its own order: the finalists are not the top of this board any "
                                 "more (regraded since?).")


def test_without_a_finals_page_beside_the_board_the_marks_are_not_links(tmp_path):
    from grader.batch.grade_all import finals_page_beside

    board = build_boards(class_of_four(), BoardOptions(finals=c_beats_b(), finals_page=None))
    assert [(e.student_id, e.finals_rank) for e in board.entries][:3] == [("A", 1), ("C", 2), ("B", 3)]
    page = leaderboard_html(board)
    assert "finals.html" not in page and '<span class="finals-mark">\u2605 finals #2</span>' in page
    assert "their order and ranks come from the finals.</p>" in page
    assert "finals.html" not in leaderboard_markdown(board)
    assert finals_page_beside(tmp_path) is None
    (tmp_path / "finals.html").write_text("<!DOCTYPE html>")
    assert finals_page_beside(tmp_path) == "finals.html"


def test_the_page_says_told_apart_only_when_holm_does():
    # a-b alone p = 0.035 (its interval excludes 1), but Holm over the three pairs keeps them together.
    import math

    logs = [0.04, 0.06, 0.08]
    finals = finals_of({"a": [math.exp(x) for x in logs], "b": [1.0, 1.0, 1.0],
                        "c": [math.exp(x + 0.01) for x in logs]}, {"a": 2, "b": 3, "c": 1})
    assert [(e.student_id, e.rank) for e in finals.entries] == [("c", 1), ("a", 2), ("b", 2)]
    pair = next(p for p in finals.comparisons if (p.a, p.b) == ("a", "b"))
    assert pair.ci_low > 1 and pair.verdict == "not different" and pair.p_value == pytest.approx(0.0351, abs=1e-4)
    assert "| a | b | 1.0618x (95% interval 1.0104-1.1159): not told apart |" in finals_markdown(finals)
    assert "| c | a | 1.0101x (95% interval 1.0101-1.0101): told apart |" in finals_markdown(finals)
