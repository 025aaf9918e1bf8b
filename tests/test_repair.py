"""The mechanical repairs: each rule makes its change, and refuses one whose meaning is uncertain."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.intake.hints import SourceContext, hint_for, mechanical_class
from grader.intake.syntax_errors import EntrySyntaxError, syntax_error
from grader.intake.repair import conflicts, python2_divisions, repair_source

MECHANICAL = Path(__file__).resolve().parents[1] / "submissions" / "mechanical"
SHAPES = "def f(x, w, conv_param):\n    N, C, H, W = x.shape\n    F, _, HH, WW = w.shape\n" \
         "    stride, pad = conv_param['stride'], conv_param['pad']\n"


def test_division_of_shape_arithmetic_becomes_floor_division_in_python2_code():
    text = SHAPES + "    H_out = 1 + (H + 2 * pad - HH) / stride\n    size = H_out\n" \
                    "    out = np.zeros((N, F, size, W / stride))\n    return out[:, :, :H / 2]\n"
    repaired = repair_source(text, python2=True)
    assert "H_out = 1 + (H + 2 * pad - HH) // stride" in repaired.text
    assert "np.zeros((N, F, size, W // stride))" in repaired.text and "out[:, :, :H // 2]" in repaired.text
    assert [(r.line, r.rule) for r in repaired.repairs] == [(5, "python2_division"), (7, "python2_division"),
                                                             (8, "python2_division")]


def test_an_integer_division_that_is_not_a_size_is_left_alone():
    # Python 2 floored this too, but nothing says the author wanted 0: only sizes and indices are repaired.
    text = SHAPES + "    scale = 1 / (HH * WW)\n    return x * scale\n"
    assert repair_source(text, python2=True).repairs == []


@pytest.mark.parametrize("line", [
    pytest.param("    v = x.sum() / N", id="array-operand"),
    pytest.param("    v = H / 2.0", id="float-literal"),
    pytest.param("    v = dout / stride", id="parameter-of-unknown-type"),
    pytest.param("    v = (H if flag else 0.5) / W", id="mixed-branches"),
])
def test_division_that_may_be_true_division_is_left_alone(line):
    text = SHAPES + line + "\n    return np.zeros((N, int(v)))\n"
    assert repair_source(text, python2=True).repairs == []
    assert python2_divisions(text) == []


def test_division_is_not_touched_without_python2_evidence():
    text = SHAPES + "    H_out = int(1 + (H + 2 * pad - HH) / stride)\n    return np.float(H_out)\n"
    repaired = repair_source("import numpy as np\n" + text)
    assert {r.rule for r in repaired.repairs} == {"numpy_alias"}
    assert "/ stride" in repaired.text


def test_a_name_reassigned_to_a_float_is_not_an_integer():
    text = SHAPES + "    H_out = H\n    H_out = H_out * 0.5\n    return range(H_out / stride)\n"
    assert repair_source(text, python2=True).repairs == []


def test_print_statements_become_calls_but_not_inside_a_docstring():
    text = 'def f(x):\n    """Example:\n    print x\n    """\n    print "x is", x\n    print x,\n    return x\n'
    repaired = repair_source(text)
    assert repaired.error is None
    assert '    print x\n' in repaired.text  # the docstring is data
    assert 'print("x is", x)' in repaired.text and 'print(x, end=" ")' in repaired.text
    assert [r.line for r in repaired.repairs] == [5, 6]


def test_print_redirection_becomes_a_file_argument():
    text = "import sys\nprint >>sys.stderr, 'x', 1,\nprint>>sys.stderr\nprint 'y'\n"
    repaired = repair_source(text)
    assert repaired.error is None
    assert repaired.text == "import sys\nprint('x', 1, file=sys.stderr, end=\" \")\nprint(file=sys.stderr)\nprint('y')\n"
    assert [r.line for r in repaired.repairs] == [2, 3, 4]


def test_a_print_continued_on_the_next_line_keeps_its_lines():
    text = "def f(N, D):\n    print 'N:%d, D:%d' \\\n        % (N, D)\n    print 'x', (N,\n           D),  # both\n" \
           "    print\n    return N\n"
    repaired = repair_source(text)
    assert repaired.error is None
    assert repaired.text == ("def f(N, D):\n    print('N:%d, D:%d' \\\n        % (N, D))\n"
                             "    print('x', (N,\n           D), end=\" \")  # both\n    print()\n    return N\n")
    assert [(r.line, r.end_line, r.after) for r in repaired.repairs] == [
        (2, 3, "print('N:%d, D:%d' \\ % (N, D))"), (4, 5, "print('x', (N, D), end=\" \")  # both"),
        (6, None, "print()")]
    # A statement still open after 20 lines is not guessed at: left alone, the copy does not compile.
    endless = "print 'x', (1,\n" + "2,\n" * 30 + "\n"
    assert repair_source(endless).repairs == [] and repair_source(endless).error is not None


def test_tabs_whose_meaning_depends_on_the_width_are_not_expanded():
    # 4 spaces then a tab: column 8 at width 8 (inside the if), column 4 at width 4 (after it).
    text = "def f(a):\n    if a:\n        a = 1\n\ta = 2\n    return a\n"
    eight = text.replace("\t", " " * 8)
    four = text.replace("\t", " " * 4)
    compile(eight, "x", "exec"), compile(four, "x", "exec")
    assert repair_source(text).repairs == []


def test_tabs_read_as_python2_did_are_expanded():
    text = "def f(a):\n    if a:\n\ta = 2\n    return a\n"
    repaired = repair_source(text)
    assert repaired.text == "def f(a):\n    if a:\n        a = 2\n    return a\n"
    assert [(r.line, r.end_line, r.rule) for r in repaired.repairs] == [(3, 3, "tabs")]


def test_xrange_is_left_alone_when_the_file_defines_it():
    text = "try:\n    xrange\nexcept NameError:\n    xrange = range\nfor i in xrange(3):\n    pass\n"
    assert repair_source(text).repairs == []


def test_numpy_bool_is_not_touched():
    # np.bool exists again in NumPy 2 as np.bool_, a different object from the builtin.
    assert repair_source("import numpy as np\nx = np.bool(1)\ny = np.float(2)\n").text == \
        "import numpy as np\nx = np.bool(1)\ny = float(2)\n"


def test_only_unused_imports_of_missing_modules_are_dropped():
    text = "import numpy as np\nimport matplotlib.pyplot as plt\nfrom IPython import display\n\n" \
           "def f(x):\n    display(x)\n    return np.sum(x)\n"
    repaired = repair_source(text, missing_modules=frozenset({"matplotlib", "IPython"}))
    assert [(r.line, r.rule, r.after) for r in repaired.repairs] == [(2, "unused_missing_import", "")]
    assert "from IPython import display" in repaired.text


def test_dynamic_lookups_keep_every_import():
    text = "import matplotlib.pyplot as plt\n\ndef f(x):\n    return globals()['plt']\n"
    assert repair_source(text, missing_modules=frozenset({"matplotlib"})).repairs == []


def test_merge_conflicts_keep_one_side_and_report_the_block():
    text = "a = 1\n<<<<<<< HEAD\nb = 2\n||||||| base\nb = 0\n=======\nb = 3\n>>>>>>> other\nc = b\n"
    [block] = conflicts(text)
    assert (block.start, block.base, block.middle, block.end) == (2, 4, 6, 8)
    assert repair_source(text, conflict_side=0).text == "a = 1\nb = 2\nc = b\n"
    assert repair_source(text, conflict_side=1).text == "a = 1\nb = 3\nc = b\n"


def test_lines_are_those_of_the_file_as_submitted_after_a_conflict():
    text = "<<<<<<< HEAD\nx = 1\n=======\nx = 2\n>>>>>>> b\nfor i in xrange(x):\n    pass\n"
    repaired = repair_source(text, conflict_side=1)
    assert [(r.line, r.rule) for r in repaired.repairs] == [(1, "merge_conflict"), (6, "xrange")]


@pytest.mark.parametrize("size", [7, 8, 12])
def test_merge_markers_of_any_size_from_seven_are_git_markers(size):
    """Git writes longer markers for a conflict inside a rename or with conflict-marker-size."""
    lt, eq, gt = "<" * size, "=" * size, ">" * size
    text = (f"a = 1\n{lt} HEAD:assignments/assignment1/cs231n/layers.py\nb = 2\n{eq}\nb = 3\n"
            f"{gt} be31d0e (fix the pad)\nc = b\n")
    [block] = conflicts(text)
    assert (block.start, block.middle, block.end) == (2, 4, 6)
    assert (block.first_label, block.second_label) == ("HEAD:assignments/assignment1/cs231n/layers.py",
                                                       "be31d0e (fix the pad)")
    assert repair_source(text, conflict_side=0).text == "a = 1\nb = 2\nc = b\n"
    assert repair_source(text, conflict_side=1).text == "a = 1\nb = 3\nc = b\n"
    assert repair_source(text, conflict_side=1).repairs[0].before == (
        f"{lt} HEAD:assignments/assignment1/cs231n/layers.py ... {eq} ... {gt} be31d0e (fix the pad)")
    error = _syntax_error(text)
    assert error.cause == "merge_conflict"
    assert error.message == "layers.py still holds unresolved git merge-conflict markers (lines 2-6)"


@pytest.mark.parametrize("line", ["<<<<<<<HEAD", "<<<<<<", "x <<<<<<< HEAD", "<<<<<<<\tHEAD"])
def test_what_is_not_a_marker_by_gits_rule(line):
    """A run of 7 or more at the start of a line, then a space or the line's end."""
    assert conflicts(f"{line}\nb = 2\n=======\nb = 3\n>>>>>>> x\n") == []


def test_a_block_keeps_the_size_of_its_first_marker():
    text = "<<<<<<<< HEAD\nb = 2\n=======\nb = 4\n========\nb = 3\n>>>>>>>> x\n"
    [block] = conflicts(text)
    assert (block.start, block.middle, block.end) == (1, 5, 7)


def test_syntax_error_names_merge_markers_and_tab_lines():
    conflict = "x = 1\n<<<<<<< HEAD\ny = 1\n=======\ny = 2\n>>>>>>> fix\n"
    error = _syntax_error(conflict)
    assert error.message == "layers.py still holds unresolved git merge-conflict markers (lines 2-6)"
    assert error.cause == "merge_conflict"
    tabs = "def f(a):\n    if a:\n\ta = 2\n\ta = 3\n    return a\n"
    error = _syntax_error(tabs)
    assert error.message == ("layers.py mixes tabs and spaces in its indentation (first refused at line 3; "
                             "tab-indented lines: 3-4)")
    assert error.cause == "tabs"


def _syntax_error(text: str) -> EntrySyntaxError:
    try:
        compile(text, "layers.py", "exec")
    except SyntaxError as exc:
        return syntax_error("layers.py", text, exc)
    raise AssertionError("compiled")


def test_division_hint_names_the_lines():
    text = "import numpy as np\n" + SHAPES + "    H_out = 1 + (H + 2 * pad - HH) / stride\n" \
           "    return np.zeros((N, F, H_out, H_out))\n"
    error = "TypeError: 'float' object cannot be interpreted as an integer"
    assert mechanical_class(error) == "python2_division"
    assert hint_for(error, SourceContext("layers.py", text)).endswith(
        "layers.py line 6: `H_out = 1 + (H + 2 * pad - HH) / stride`")


def test_a_used_missing_module_is_not_called_unused():
    text = "import matplotlib.pyplot as plt\n\ndef f(x):\n    plt.plot(x)\n"
    hint = hint_for("ModuleNotFoundError: No module named 'matplotlib'", SourceContext("layers.py", text))
    assert hint == ("matplotlib is not installed in the grading environment; layers.py uses it (imported at line 1): "
                    "remove that code, or ask staff to add it")


# --- hostile sizes: the repairs and the what-if stay linear and bounded ------------------


def _conflict_file(blocks: int) -> str:
    """A 500 KB layers file: the example's code, then ``blocks`` small conflict blocks."""
    head = (MECHANICAL / "merge_conflict.py").read_text()
    return head + "<<<<<<<\nv=1\n=======\nv=2\n>>>>>>>\n" * blocks


def test_sixteen_thousand_conflict_blocks_are_scanned_in_one_pass():
    """The scan re-split the whole text for every block: 16,000 blocks took minutes to grade."""
    import time

    text = _conflict_file(16_000)
    started = time.monotonic()
    error = _syntax_error(text)
    sides = [repair_source(text, conflict_side=side, conflict_scan=error.conflict_scan) for side in (0, 1)]
    assert time.monotonic() - started < 10
    assert len(error.conflict_scan.blocks) == 16_001
    assert all(len(side.repairs) == 16_001 and side.error is None for side in sides)
    assert error.message.endswith("(lines 37-42, 44-80043)")


def test_a_grading_scans_the_conflicts_once(quick_config, monkeypatch):
    """The what-if scans once for both sides (not once per side, nor per round). The loader's
    own scan runs in its bounded child (grader.intake.bounded_load), which is not counted here."""
    from grader.intake import repair
    from grader.intake import syntax_errors

    calls = []
    original = repair.scan_conflicts

    def counted(text):
        calls.append(len(text))
        return original(text)

    monkeypatch.setattr(repair, "scan_conflicts", counted)
    monkeypatch.setattr(syntax_errors, "scan_conflicts", counted)
    result = _grade(MECHANICAL / "merge_conflict.py", quick_config)
    assert len(result.what_if.variants) == 2 and all(v.checks for v in result.what_if.variants)
    assert len(calls) == 1


def test_a_hundred_thousand_xrange_lines_make_a_bounded_what_if(tmp_path, quick_config):
    """100,000 repairs are counted, not listed: the result was 22 MB (155 MB at the upload cap)."""
    import json
    import time

    from grader.grading.result_words import describe_what_if as describe
    from grader.grading.whatif import MAX_LISTED_REPAIRS

    example = (MECHANICAL / "xrange_loops.py").read_text()
    text = example + "\n\ndef _unused():\n" + "    xrange\n" * 100_000
    started = time.monotonic()
    repaired = repair_source(text)
    assert time.monotonic() - started < 10
    xranges = len(repair_source(example).repairs) + 100_000
    assert len(repaired.repairs) == xranges and repaired.error is None

    path = tmp_path / "xrange_everywhere.py"
    path.write_text(text)
    result = _grade(path, quick_config)
    [variant] = result.what_if.variants
    assert len(variant.repairs) == MAX_LISTED_REPAIRS and variant.repairs_not_listed == xranges - MAX_LISTED_REPAIRS
    assert variant.total == 37 and variant.error is None  # the copy was graded
    assert result.what_if.summary.startswith(f"With these {xranges} mechanical fixes, your convolution would pass")
    assert len(json.dumps(result.model_dump(mode="json"))) < 100_000
    assert describe(result.what_if).endswith(f"  ... and {xranges - MAX_LISTED_REPAIRS} more")


def _grade(path, config):
    from grader.grading.grade import grade_submission
    from grader.sandbox import get_sandbox

    result = grade_submission(path, get_sandbox("process"), config, seed=20261128)
    assert result.gradable
    return result


def test_a_module_beside_the_entry_is_never_called_missing():
    """`from im2col import *` in cs231n/layers.py, with cs231n/im2col.py in the submission."""
    text = "import numpy as np\nfrom im2col import *\n\ndef f(x):\n    return im2col_indices(x)\n"
    hint = hint_for("ModuleNotFoundError: No module named 'im2col'",
                    SourceContext("cs231n/layers.py", text, frozenset({"im2col", "layers", "cs231n"})))
    assert hint == ("`im2col` is in your submission's package (cs231n/), but Python 3 does not look there for "
                    "`import im2col` (Python 2's implicit relative import did): write `from .im2col import ...`")
    repaired = repair_source(text, beside=frozenset({"im2col"}))
    assert [(r.line, r.rule, r.after) for r in repaired.repairs] == [
        (2, "implicit_relative_import", "from .im2col import *")]


def test_an_absolute_import_in_python2_is_left_alone():
    text = "from __future__ import absolute_import\nfrom im2col import *\nimport im2col\n"
    assert repair_source(text, beside=frozenset({"im2col"})).repairs == []
    assert repair_source("import im2col.sub\n", beside=frozenset({"im2col"})).repairs == []


def test_print_statements_left_open_cost_linear_work(monkeypatch):
    """Each line of a never-closed print was the start of a 20-line attempt: 20 tokenizations
    a line. An attempt now moves past the lines it read."""
    from grader.intake import repair

    calls = []
    original = repair._print_call

    def counted(rest):
        calls.append(rest.count("\n") + 1)
        return original(rest)

    monkeypatch.setattr(repair, "_print_call", counted)
    lines = 2_000
    repaired = repair_source("def f(x):\n" + "    print 'a', (\n" * lines)
    assert repaired.repairs == [] and repaired.error is not None
    assert len(calls) <= lines + 1


def test_many_unused_imports_are_found_in_linear_time():
    """Whether an import shares its line was asked of the whole body for each import."""
    import time

    lines = 50_000
    text = "import matplotlib\n" * lines + "def f(x):\n    return x\n"
    started = time.monotonic()
    repaired = repair_source(text, missing_modules=frozenset({"matplotlib"}))
    assert time.monotonic() - started < 10
    assert len(repaired.repairs) == lines and repaired.error is None
