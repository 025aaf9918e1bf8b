"""The mechanical repairs: each rule makes its change, and refuses one whose meaning is uncertain."""

from __future__ import annotations

import pytest

from grader.hints import SourceContext, hint_for, mechanical_class
from grader.syntax_errors import EntrySyntaxError, syntax_error
from grader.repair import conflicts, python2_divisions, repair_source

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


def test_print_redirection_is_not_rewritten():
    text = "import sys\nprint >>sys.stderr, 'x'\nprint 'y'\n"
    repaired = repair_source(text)
    assert [r.line for r in repaired.repairs] == [3]
    assert "print >>sys.stderr, 'x'" in repaired.text


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
