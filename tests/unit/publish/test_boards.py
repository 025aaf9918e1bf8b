"""The published boards: the real reason a student is unranked, per-function boards,
the public form (no unranked scores), anonymized boards, and rebuilding from results."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import jsonschema
import pytest

from grader.errors import UsageError
from grader.publish.boards import BoardOptions, build_boards, unranked_reason
from grader.publish.class_outputs import OutputOptions, class_outputs, with_pseudonym_note
from grader.intake.roster import load_roster
from grader.publish.leaderboard import pseudonym
from grader.publish.leaderboard_render import _markdown_text, leaderboard_html, leaderboard_markdown
from grader.grading.result import Check, CheckStatus, Failure, FailureKind, GradeResult
from tests.unit.publish.test_leaderboard import GENERATED_AT, make_result

SCHEMA = json.loads((Path(__file__).resolve().parents[3] / "schemas" / "leaderboard.schema.json").read_text())
FAST = (2.0, 1.9, 2.1)


def with_checks(student_id: str, failing: dict[str, str] | None = None, *, failure: str | None = None,
                forward=FAST, backward=FAST) -> GradeResult:
    """A result with a forward and a backward check per case; ``failing`` maps check ids to messages."""
    failing = failing or {}
    base = make_result(student_id, forward=forward, backward=backward)
    checks = []
    for check_id, function, group in [
        ("forward/notebook-forward", "forward", "forward_notebook"),
        ("backward/notebook-backward/dx", "backward", "backward_notebook"),
        ("forward/hidden-1", "forward", "forward_hidden"),
        ("backward/hidden-1/dx", "backward", "backward_hidden"),
        ("inputs-unchanged", "all", "inputs_unchanged"),
    ]:
        failed = check_id in failing or failure is not None
        checks.append(Check(
            id=check_id, name=f"conv_{function}_naive, {check_id}", call=function,
            function=f"conv_{function}_naive" if function != "all" else "conv_forward_naive, conv_backward_naive",
            layer="cs231n-conv", group=group,
            status=CheckStatus.FAILED if failed else CheckStatus.PASSED, score=0.0 if failed else 10.0,
            max_score=10.0, message=failure or failing.get(check_id, "ok"),
        ))
    score = sum(check.score for check in checks)
    return base.model_copy(update={
        "checks": checks, "score": score, "max_score": 50.0,
        "failure": Failure(kind=FailureKind.STUDENT, message=failure) if failure else None,
    })


SYNTAX = "syntax error in layers.py, line 4: '(' was never closed\n    return (\n           ^"
FLOAT32 = ("out is wrong at pad 1, stride 1 (x (2, 3, 5, 5), w (3, 3, 3, 3)): rel_error 3.1e-06 > tolerance 1e-07. "
           "The values are right to about 1e-5: this looks like float32 precision; compute in float64")
UNFINISHED = "dx is None at pad 1, stride 1 (x (4, 3, 5, 5), w (2, 3, 3, 3)): is the function finished and does it return dx?"
RAISED = "conv_backward_naive raised IndexError: index 3 is out of bounds\nTraceback (your code): ..."


def class_results() -> list[GradeResult]:
    return [
        with_checks("ranked-a", forward=(3.0, 2.9, 3.1), backward=(3.0, 2.9, 3.1)),
        with_checks("syntax", failure=SYNTAX, forward=None, backward=None),
        with_checks("float32", {"forward/hidden-1": FLOAT32}, forward=None, backward=(1.5, 1.4, 1.6)),
        # forward correct and timed (the fastest forward of all), backward unfinished
        with_checks("unfinished", {"backward/notebook-backward/dx": UNFINISHED, "backward/hidden-1/dx": UNFINISHED},
                    forward=(5.0, 4.8, 5.2), backward=None),
        with_checks("crashes", {"backward/hidden-1/dx": RAISED}, backward=None),
        with_checks("untimed", backward=None),
        make_result("grader-bug", gradable=False, score=0),
    ]


def board(**options):
    options.setdefault("generated_at", GENERATED_AT)
    return build_boards(class_results(), BoardOptions(**options))


def test_each_unranked_student_gets_the_first_real_reason():
    reasons = {entry.student: entry.reason for entry in board().entries}
    assert reasons == {
        "ranked-a": None,
        "syntax": "syntax error in layers.py, line 4: '(' was never closed",
        "float32": "forward: right only to float32 precision (conv_forward_naive, forward/hidden-1); compute in float64",
        "unfinished": "backward unfinished: dx is None (conv_backward_naive, backward/notebook-backward/dx)",
        "crashes": "backward raised IndexError (conv_backward_naive, backward/hidden-1/dx)",
        "untimed": "correct, but backward was not timed: timing budget exhausted",
        "grader-bug": "not gradable: the grader failed, not the submission (not a grade)",
    }


def test_reasons_reach_the_markdown_and_the_page():
    built = board()
    markdown, page = leaderboard_markdown(built), leaderboard_html(built)
    assert "| syntax | 0 / 50 | syntax error in layers.py, line 4: '(' was never closed |" in markdown
    assert "failed a correctness check" not in markdown and "failed a correctness check" not in page
    assert "backward unfinished: dx is None" in page


def test_a_long_reason_is_clipped_to_one_short_line():
    result = with_checks("long", {"forward/hidden-1": "x" * 500 + "\nsecond line"})
    reason = unranked_reason(result, "failed_correctness")
    assert len(reason) == 120 and reason.endswith("…") and "second" not in reason


def test_function_boards_rank_each_function_alone():
    built = board()
    boards = {b.call: [(e.rank, e.student, e.speed.speedup_vs_reference) for e in b.entries]
              for b in built.function_boards}
    # "unfinished" fails backward but its forward is correct and timed: first on the forward board.
    # "float32" is on the backward board only; "syntax", "untimed"'s missing backward and the grader's
    # failure are on neither.
    assert boards == {
        "forward": [(1, "unfinished", 5.0), (2, "ranked-a", 3.0), (3, "crashes", 2.0), (3, "untimed", 2.0)],
        "backward": [(1, "ranked-a", 3.0), (2, "float32", 1.5)],
    }
    assert [(e.rank, e.student) for e in built.entries if e.rank] == [(1, "ranked-a")]
    jsonschema.validate(built.model_dump(mode="json"), SCHEMA)


def test_function_boards_are_on_the_page_and_in_markdown():
    built = board()
    assert "## Forward board" in leaderboard_markdown(built)
    assert "| 1 | unfinished | 5.0x the reference's speed (95% interval 4.8-5.2) |" in leaderboard_markdown(built)
    page = leaderboard_html(built)
    assert 'id="forward-board"' in page and 'id="backward-board"' in page
    assert '<span class="interval">95% interval 4.8-5.2</span>' in page  # the level, as on /me


def test_public_board_leaves_unranked_scores_off():
    built = board(hide_unranked_scores=True)
    scores = {entry.student: entry.score for entry in built.entries}
    assert scores["ranked-a"] == 50.0
    assert all(score is None for student, score in scores.items() if student != "ranked-a")
    jsonschema.validate(built.model_dump(mode="json"), SCHEMA)
    markdown = leaderboard_markdown(built)
    assert "| float32 | — |" in markdown and "/ 50 |" in markdown.split("## Not ranked")[0]
    assert "/ 50" not in markdown.split("## Not ranked")[1]


def test_a_public_board_orders_unranked_students_by_name_not_by_their_hidden_score():
    results = [with_checks(name, {"backward/hidden-1/dx": RAISED}, backward=None) for name in ("zed", "amy")]
    results[0] = results[0].model_copy(update={"score": 45.0})  # zed scored more: the order must not say so
    built = build_boards(results, BoardOptions(generated_at=GENERATED_AT, hide_unranked_scores=True))
    assert [entry.student for entry in built.entries] == ["amy", "zed"]
    shown = build_boards(results, BoardOptions(generated_at=GENERATED_AT))
    assert [entry.student for entry in shown.entries] == ["zed", "amy"]


def test_an_import_failure_reason_keeps_the_exception_type_not_the_students_text():
    result = with_checks("shouty", failure="layers.py could not be imported: ValueError: VOTE FOR ME at "
                                           "example.org\nTraceback ...", forward=None, backward=None)
    assert unranked_reason(result, "failed_correctness") == "layers.py could not be imported: ValueError"


def test_anonymized_boards_use_pseudonyms_everywhere_including_function_boards():
    built = board(anonymize=True, salt="pepper")
    names = {entry.student for entry in built.entries}
    names |= {entry.student for fb in built.function_boards for entry in fb.entries}
    assert names == {pseudonym(r.submission.id, "pepper") for r in class_results()}
    assert all(e.student_id is None for fb in built.function_boards for e in fb.entries)
    text = built.model_dump_json() + leaderboard_html(built) + leaderboard_markdown(built)
    for student_id in ("ranked-a", "grader-bug", "crashes", "untimed"):  # ids that no reason says
        assert student_id not in text


def test_an_anonymized_reason_does_not_name_the_file():
    result = with_checks("jsmith42", failure="syntax error in JSmith42.py, line 4: '(' was never closed")
    result = result.model_copy(update={"submission": result.submission.model_copy(update={"source_name": "JSmith42.py"})})
    built = build_boards([result], BoardOptions(anonymize=True, salt="pepper", generated_at=GENERATED_AT))
    assert built.entries[0].reason == "syntax error in the submission, line 4: '(' was never closed"
    assert "smith" not in built.model_dump_json().lower()


def test_course_title_replaces_the_assignment_id():
    built = board(title="CS231n Spring 2025 <A2>")
    assert built.title == "CS231n Spring 2025 <A2>"
    assert "<h1>Leaderboard: CS231n Spring 2025 &lt;A2&gt;</h1>" in leaderboard_html(built)
    assert leaderboard_markdown(built).startswith("# Leaderboard: CS231n Spring 2025 \\<A2\\>\n")


# ------------------------------------------------------------- class outputs, staff map


def test_anonymized_outputs_include_a_staff_map_and_pseudonym_notes(tmp_path):
    roster = load_roster(_write(tmp_path / "r.csv", "id,name\nranked-a,Ada Lovelace\n"))
    results = class_results()
    outputs = class_outputs(results, OutputOptions(roster=roster, anonymize=True, salt="pepper",
                                                   generated_at=GENERATED_AT))
    staff_map = outputs["staff/pseudonyms.csv"].splitlines()
    assert staff_map[0] == "student_id,name,pseudonym,row"
    alias = pseudonym("ranked-a", "pepper")
    assert f"ranked-a,Ada Lovelace,{alias},leaderboard.html#row-{alias}" in staff_map
    assert len(staff_map) == 1 + len(results)
    assert f'id="row-{alias}"' in outputs["leaderboard.html"]
    assert "Ada" not in outputs["leaderboard.html"] and "Ada" not in outputs["leaderboard.json"]

    noted = with_pseudonym_note(results[0], "pepper")
    assert noted.notes == [f"On the anonymized leaderboard you are {alias} (your row: leaderboard.html#row-{alias})."]
    assert with_pseudonym_note(noted, "pepper") is noted  # one note, not one per run
    assert with_pseudonym_note(noted, None).notes == []  # no longer anonymized: no stale pseudonym


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("anonymize", [False, True])
def test_outputs_are_a_function_of_the_stored_results(anonymize):
    options = OutputOptions(anonymize=anonymize, salt="pepper", generated_at=GENERATED_AT)
    results = class_results()
    assert class_outputs(results, options) == class_outputs(list(reversed(results)), options)


# ------------------------------------------------- the student's own words stay off the board

LIE = "the grader flagged alice and bob as copies of each other"
TRACE = "\nTraceback (your code):\n  File \"layers.py\", line 3, in <module>\n"


@pytest.mark.parametrize("failing, failure, reason", [
    pytest.param(None, f"importing layers.py failed: CopyNotice: {LIE} (layers.py line 3: raise CopyNotice()){TRACE}",
                 "importing layers.py failed: CopyNotice", id="import, a type not named *Error"),
    pytest.param(None, f"importing layers.py failed: notice.CopyNotice: {LIE}{TRACE}",
                 "importing layers.py failed: notice.CopyNotice", id="import, a dotted type"),
    # __qualname__ is the student's to set: a "type" holding a sentence keeps its first word
    pytest.param(None, f"importing layers.py failed: Notice: {LIE}: {TRACE}",
                 "importing layers.py failed: Notice", id="import, a type named like a sentence"),
    pytest.param({"forward/hidden-1": f"conv_forward_naive called sys.exit({LIE}) at pad 1; return the results"},
                 None, "forward called sys.exit (conv_forward_naive, forward/hidden-1)", id="sys.exit"),
    pytest.param({"forward/hidden-1": f"memory limit of 0.25 GiB exceeded in conv_forward_naive at pad 1 "
                                      f"(ValueError: Unable to allocate; {LIE})"}, None,
                 "forward: memory limit of 0.25 GiB exceeded (conv_forward_naive, forward/hidden-1)",
                 id="a message made to look like the memory limit"),
    pytest.param({"forward/hidden-1": f"conv_forward_naive returned {LIE}"}, None,
                 "forward returned the: not what it should (conv_forward_naive, forward/hidden-1)",
                 id="a forged return description"),
])
def test_a_public_board_shows_the_exception_type_not_the_students_sentence(failing, failure, reason):
    """The lead's case: an exception class not named *Error carried its message onto the board.
    The JSON, Markdown and HTML boards (the service's board is these same outputs) show the
    type and the grader's words, never the message."""
    lying = with_checks("eve", failing, failure=failure, forward=None, backward=None)
    outputs = class_outputs([lying, with_checks("ranked-a")], OutputOptions(generated_at=GENERATED_AT))
    entry = next(e for e in json.loads(outputs["leaderboard.json"])["entries"] if e["student"] == "eve")
    assert entry["reason"] == reason
    for name in ("leaderboard.json", "leaderboard.md", "leaderboard.html"):
        assert "alice" not in outputs[name] and "copies" not in outputs[name], name
    assert f"| {_markdown_text(reason)} |" in outputs["leaderboard.md"]
    assert f'<td data-label="Why">{escape(reason)}</td>' in outputs["leaderboard.html"]


def test_the_services_live_board_shows_only_the_type(monkeypatch):
    """The service's board (GET /api/leaderboard and /) from its stored results: the type only."""
    from types import SimpleNamespace

    from grader.grading.config import Course
    from grader.intake.roster import Roster
    from grader.service import board, db

    lying = with_checks("eve", failure=f"importing layers.py failed: CopyNotice: {LIE}{TRACE}", forward=None,
                        backward=None)
    rows = [SimpleNamespace(student_id=r.submission.id, result_json=r.model_dump_json(), created_at=1.7e9)
            for r in (lying, with_checks("ranked-a"))]
    monkeypatch.setattr(db, "board_version", lambda engine: (1, 1.7e9))
    monkeypatch.setattr(db, "results_of", lambda engine: rows)
    outputs, _results = board.Boards(None, Roster(), "best", Course(), "cs231n-conv").outputs()
    entry = next(e for e in json.loads(outputs["leaderboard.json"])["entries"] if e["student"] == "eve")
    assert entry["reason"] == "importing layers.py failed: CopyNotice"
    assert "alice" not in outputs["leaderboard.json"] + outputs["leaderboard.html"]


# ------------------------------------------------------------------ a whole assignment's class board


def bundle_result(student: str, conv: float, pool: float) -> GradeResult:
    """A cs231n-a2 result whose convolution and max pooling were timed (calls carry the layer)."""
    from tests.unit.publish.test_leaderboard import _timing, as_bundle

    base = make_result(student)
    pool_rows = [_timing(call, (pool, pool * 0.97, pool * 1.03)) for call in ("forward", "backward")]
    conv_rows = [_timing(call, (conv, conv * 0.97, conv * 1.03)) for call in ("forward", "backward")]
    timing = as_bundle(conv_rows, "conv", "cs231n-conv") + as_bundle(pool_rows, "maxpool", "cs231n-maxpool")
    return base.model_copy(update={"timing": timing, "assignment": "cs231n-a2"})


def test_a_whole_assignments_class_board_ranks_by_the_convolution_and_every_call_keeps_a_board():
    # Fast convolution, slow pooling against the other way round: the class board ranks as
    # the conv-only board did, while each timed call has its own board.
    results = [bundle_result("conv-fast", conv=4.0, pool=0.5), bundle_result("pool-fast", conv=1.0, pool=8.0)]
    board = build_boards(results)
    assert board.calls == ["conv/forward", "conv/backward"]
    assert [(e.student, e.rank) for e in board.entries] == [("conv-fast", 1), ("pool-fast", 2)]
    assert [b.call for b in board.function_boards] == ["conv/forward", "conv/backward", "maxpool/forward",
                                                       "maxpool/backward"]
    pool_board = board.function_boards[2]
    assert [e.student for e in pool_board.entries] == ["pool-fast", "conv-fast"]


def test_a_course_names_the_calls_its_class_board_ranks_by():
    results = [bundle_result("conv-fast", conv=4.0, pool=0.5), bundle_result("pool-fast", conv=1.0, pool=8.0)]
    outputs = class_outputs(results, OutputOptions(rank_by=["maxpool/forward", "maxpool/backward"]))
    board = json.loads(outputs["leaderboard.json"])
    assert board["calls"] == ["maxpool/forward", "maxpool/backward"]
    assert [e["student"] for e in board["entries"]] == ["pool-fast", "conv-fast"]
    with pytest.raises(UsageError, match=r"rank_by \['pool/forward'\]: no result has a timing for it \(timed calls: "
                                         r"conv/forward, conv/backward, maxpool/forward, maxpool/backward\)"):
        build_boards(results, BoardOptions(calls=["pool/forward"]))


def test_the_configuration_refuses_a_rank_by_that_is_not_a_timed_call():
    from pydantic import ValidationError

    from grader.grading.config import GradingConfig

    config = GradingConfig.model_validate({"assignment": "cs231n-a2", "course": {"rank_by": ["maxpool/forward"]}})
    assert config.course.rank_by == ["maxpool/forward"]
    with pytest.raises(ValidationError, match=r"course.rank_by \['relu/forward'\]: not timed calls of cs231n-a2"):
        GradingConfig.model_validate({"assignment": "cs231n-a2", "course": {"rank_by": ["relu/forward"]}})
