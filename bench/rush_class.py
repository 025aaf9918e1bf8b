"""The deadline rush's class: who submits what, and when (seeded, so runs compare).

Each student hands in 1 to 3 submissions. Each is drawn from the examples in a real class's
mix: mostly loop solutions (distinct ones, from synthetic_class), some vectorised, some
broken, some with a mechanical first error, and a few the loader refuses (a file with no
convolution function, a notebook without the functions, conflict markers, a Python 2
print, mixed tabs): those are a student's first upload, followed by another. A student's upload times are drawn from
a deadline-shaped curve, density rising as t squared toward the deadline, so about 70%
arrive in the last third, then sorted. Every upload's bytes are distinct (a trailing
comment), so none shares another's grading.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from bench.synthetic_class import synthetic_class

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "submissions" / "examples"
MECHANICAL = ROOT / "submissions" / "mechanical"

# What a submission is, with its share of a class's uploads (refused ones are placed apart).
MIX = {"loops": 0.60, "vectorised": 0.17, "broken": 0.13, "mechanical": 0.10}
VECTORISED = ["fast_strided.py", "einsum_positions.py"]
BROKEN = ["bug_hout_both_axes.py", "bug_pad_hardcoded.py", "bug_pad_slice.py", "bug_square_kernel.py",
          "unfinished_none.py"]
# The mechanical examples the loader accepts (the grading then reports the error); the others
# (conflict markers, Python 2 prints, mixed tabs) it refuses, as it does a wrong file.
MECHANICAL_GRADED = ["arraypad_used.py", "cs231n_import.py", "numpy_alias.py", "private_numpy_import.py",
                     "py2_division.py", "py2_im2col.py", "scipy_signal.py", "unused_matplotlib.py", "xrange_loops.py"]
MECHANICAL_REFUSED = ["merge_conflict.py", "py2_print_xrange.py", "tabs_mixed.py"]
SUBMISSIONS_PER_STUDENT = {1: 0.40, 2: 0.35, 3: 0.25}
REFUSED_SHARE = 0.04
NO_CONV_FUNCTION = "import numpy as np\n\n\ndef affine_forward(x, w, b):\n    return x.reshape(len(x), -1) @ w + b\n"


@dataclass(frozen=True)
class Upload:
    student: str
    order: int
    """1 for the student's first upload, 2 for their second, ..."""
    at_s: float
    """Seconds after the rush starts, uncompressed (the deadline is at ``window_s``)."""
    kind: str
    """loops | vectorised | broken | mechanical | refused"""
    filename: str
    data: bytes


def refused_notebook(marker: str) -> bytes:
    """A notebook that defines no graded function: the loader refuses it."""
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": ["import numpy as np\n", f"# {marker}\n", "print(np.zeros(3))\n"]}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def deadline_times(count: int, window_s: float, rng: random.Random) -> list[float]:
    """``count`` sorted times in [0, window_s) with density proportional to t squared."""
    return sorted(window_s * rng.random() ** (1 / 3) for _ in range(count))


def rush_class(students: int, window_s: float = 600.0, seed: int = 0) -> list[Upload]:
    """Every upload of the class, sorted by time."""
    rng = random.Random(seed)
    counts = [rng.choices(list(SUBMISSIONS_PER_STUDENT), weights=list(SUBMISSIONS_PER_STUDENT.values()))[0]
              for _ in range(students)]
    kinds = [[rng.choices(list(MIX), weights=list(MIX.values()))[0] for _ in range(n)] for n in counts]
    # The wrong file first, for a few students who then send the right one.
    resubmitters = [index for index, n in enumerate(counts) if n > 1]
    for index in rng.sample(resubmitters, min(len(resubmitters), max(2, round(REFUSED_SHARE * sum(counts))))):
        kinds[index][0] = "refused"
    loops = iter(synthetic_class(sum(k.count("loops") for k in kinds), seed=seed))
    uploads = []
    for index, (student_kinds, n) in enumerate(zip(kinds, counts)):
        student = f"s{index:03d}"
        for order, (kind, at_s) in enumerate(zip(student_kinds, deadline_times(n, window_s, rng)), start=1):
            marker = f"rush upload {student}-{order}"
            filename = "layers.py"
            if kind == "loops":
                text = next(loops)
            elif kind == "vectorised":
                text = (EXAMPLES / rng.choice(VECTORISED)).read_text()
            elif kind == "broken":
                text = (EXAMPLES / rng.choice(BROKEN)).read_text()
            elif kind == "mechanical":
                text = (MECHANICAL / rng.choice(MECHANICAL_GRADED)).read_text()
            else:  # refused: a wrong file, a notebook without the functions, or a refused mechanical error
                wrong = rng.choice(["no function", "notebook", *MECHANICAL_REFUSED])
                text = NO_CONV_FUNCTION if wrong == "no function" else None if wrong == "notebook" else (
                    MECHANICAL / wrong).read_text()
                filename = "layers.ipynb" if text is None else filename
            data = refused_notebook(marker) if text is None else (text + f"\n# {marker}\n").encode()
            uploads.append(Upload(student, order, at_s, kind, filename, data))
    return sorted(uploads, key=lambda upload: (upload.at_s, upload.student, upload.order))
