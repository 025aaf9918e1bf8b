"""The Python 2 division analysis (grader.intake.repair.python2_divisions) on hostile text: it runs
on the host, on the student's bytes, so it must be linear in the file and never recurse
as deep as the file nests."""

from __future__ import annotations

import time

from grader.intake.hints import SourceContext, hint_for
from grader.intake.repair import python2_divisions, repair_source

FLOAT_SIZE = "conv_forward_naive raised TypeError: 'float' object cannot be interpreted as an integer"
HEAD = ("import numpy as np\n\n\ndef conv_forward_naive(x, w, b, conv_param):\n    N, C, H, W = x.shape\n"
        "    stride = conv_param['stride']\n    H_out = 1 + (H - w.shape[2]) / stride\n"
        "    return np.zeros((N, H_out)), None\n")


def chain_of_assignments(size: int) -> str:
    """A helper whose values are each the previous one's, the first a float: proving each
    name is not an int took one pass over the whole scope per name (quadratic)."""
    lines = ["\n\ndef scale(x, stride):", "    v0 = x.mean()"]
    while sum(len(line) + 1 for line in lines) + len(HEAD) < size:
        lines.append(f"    v{len(lines) - 1} = v{len(lines) - 2} * 2 + 1")
    lines.append(f"    return x[:v{len(lines) - 2} / stride]")
    return HEAD + "\n".join(lines) + "\n"


def test_a_long_chain_of_assignments_is_analysed_in_linear_time():
    text = chain_of_assignments(107_000)
    started = time.process_time()
    assert python2_divisions(text) == [7]  # the float chain's `/` is not an integer division
    # Was 7.3 s (a quadratic fixpoint); now about 0.15 s. Generous against a loaded machine.
    assert time.process_time() - started < 2.0


def test_a_deep_chain_of_divisions_does_not_exhaust_the_stack():
    # `n / 2 / 2 ...` nests 2500 deep: the parser accepts it, a recursive analysis did not
    # (RecursionError in the hint, a traceback instead of a grade).
    text = HEAD + "\n\ndef halve(x):\n    n = x.shape[0]\n    return x[n" + " / 2" * 2500 + "]\n"
    assert python2_divisions(text) == [7, 13]
    hint = hint_for(FLOAT_SIZE, SourceContext("deep.py", text))
    assert hint.startswith("Python 2 division: use // for shape arithmetic (in Python 3, `/` always gives a float): "
                           "deep.py line 7: `H_out = 1 + (H - w.shape[2]) / stride`; line 13: `return x[n / 2 / 2")
    repaired = repair_source(text, python2=True)
    assert "return x[n" + " // 2" * 2500 + "]" in repaired.text


CAST = ("conv_forward_naive raised TypeError: Cannot cast array data from dtype('float64') to dtype('int64') "
        "according to the rule 'same_kind'")
INDEX = "conv_forward_naive raised IndexError: arrays used as indices must be of integer (or boolean) type"
TAKE = HEAD.replace("return np.zeros((N, H_out)), None", "return np.take(x, np.arange(H_out)), None")


def test_a_float_index_is_python2_division_only_when_the_source_shows_python2():
    from grader.intake.hints import mechanical_class

    python2 = "from __future__ import print_function\n" + TAKE + "\n\ndef f(n):\n    return xrange(n)\n"
    context = SourceContext("layers.py", python2)
    for error in (CAST, INDEX):
        assert mechanical_class(error, context) == "python2_division"
        assert hint_for(error, context) == (
            "Python 2 division: use // for shape arithmetic (in Python 3, `/` always gives a float): layers.py "
            "line 8: `H_out = 1 + (H - w.shape[2]) / stride` (the file is Python 2: `from __future__ import "
            "print_function` at line 1, `xrange` at line 13)")
    # The same symptom, without other Python 2, without an integer `/`, or with true division asked for:
    # another bug, not Python 2's floor division.
    no_signs = SourceContext("layers.py", TAKE)
    no_division = SourceContext("layers.py", python2.replace(") / stride", ") // stride"))
    true_division = SourceContext("layers.py", "from __future__ import division\n" + python2)
    for other in (no_signs, no_division, true_division, None):
        assert mechanical_class(CAST, other) is None and hint_for(CAST, other) is None
