"""Comparing a grading result with its golden file.

Errors of correct float64 code sit at the level of rounding (1e-17 to 1e-14), and their
last digits depend on how numpy's SIMD loops meet the arrays' memory alignment, which
changes from run to run (an exact 0 is one of the outcomes). They say nothing about the
grader, so both sides show them as one token; a real error (1e-7 and up) keeps its digits.
"""

from __future__ import annotations

import re

ROUNDING_NOISE = re.compile(r"-?\d+(?:\.\d+)?e-(?:1[3-9]|[2-9]\d|\d{3})"  # 1e-13 and below
                            r"|\b0\.0+e\+00\b"  # an exact zero, as messages print it
                            r'|(?<="rel_error": )0\.0\b')  # an exact zero, as a number


def comparable(text: str) -> str:
    return ROUNDING_NOISE.sub("<rounding>", text)
