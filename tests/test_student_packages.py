"""Which packages a worker may import, tried in a child Python: a view imports exactly its
packages, and a course package missing from the grading environment is the grader's failure
(the units: tests/unit/harness/test_student_packages.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from grader.harness import student_packages


def test_a_view_imports_exactly_its_packages(tmp_path):
    """A Python without site-packages, with the view on its path: numpy imports (its
    compiled parts and bundled libraries through the links), the grader's pydantic does not."""
    view = student_packages.build_view(str(tmp_path / "view"), student_packages.for_student([]).entries)
    probe = ("import sys; sys.path.append(sys.argv[1]); import numpy; print(numpy.ones(3).sum())\n"
             "try:\n    import pydantic\nexcept ModuleNotFoundError as exc:\n    print(exc)\n")
    done = subprocess.run([os.path.realpath(sys.executable), "-s", "-S", "-c", probe, view], capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.splitlines() == ["3.0", "No module named 'pydantic'"], done.stderr[-2000:]


def test_a_course_package_missing_from_the_grading_environment_is_the_graders_failure(quick_config, examples_dir):
    """Never a zero for the student: the grading is not gradable and says what is missing."""
    from grader.grading.grade import grade_submission
    from grader.sandbox import get_sandbox

    config = quick_config.model_copy(update={"packages": ["no-such-distribution"]})
    result = grade_submission(examples_dir / "fast_strided.py", get_sandbox("process"), config, seed=1)
    assert not result.gradable and result.failure.kind.value == "grader"
    assert ("the configuration lets the student's code import no-such-distribution, which the grading environment "
            "does not have") in result.failure.message
