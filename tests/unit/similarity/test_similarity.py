"""`convgrade similarity`, as units: independent solutions are not flagged, a public
solution most of the class copied still counts, the staff report escapes every character of
student text, and the command reads a graded class (the synthetic class with its planted copy
and oversized submissions: tests/similarity/test_similarity.py)."""

from __future__ import annotations

import json
import os
import re
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.synthetic_class import planted_copy, synthetic_class
from grader.errors import UsageError
from grader.similarity import detect
from grader.similarity.library import copydetect
from grader.similarity.report import similarity_html
from grader.similarity.sources import GradedCode, graded_functions_source

REPO = Path(__file__).resolve().parents[3]
INDEPENDENT_A = REPO / "submissions" / "examples" / "naive_loops.py"
INDEPENDENT_B = Path(__file__).resolve().parent / "independent_loops_b.py"


@pytest.fixture(scope="module", autouse=True)
def _copydetect_installed():
    try:
        copydetect()
    except UsageError as exc:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set but {exc}", pytrace=False)
        pytest.skip(str(exc))


def graded(owner: str, text: str) -> GradedCode:
    return GradedCode(owner, f"{owner}.py", f"{owner}.py", graded_functions_source(text))


def _notebook(code: str) -> str:
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": code.splitlines(keepends=True)}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_two_independent_correct_loop_solutions_are_not_flagged():
    codes = [graded("a", INDEPENDENT_A.read_text()), graded("b", INDEPENDENT_B.read_text())]
    assert detect.similar_pairs(codes) == []
    every = detect.similar_pairs(codes, threshold=0.0)
    assert len(every) == 1 and every[0].score < detect.DEFAULT_THRESHOLD - 0.15  # a clear margin, not luck


def test_a_public_solution_most_of_the_class_copied_still_counts():
    """Fingerprints most of the class shares are discounted as idiom, but not those of a known solution."""
    texts = synthetic_class(6, seed=11)
    public = texts[0]
    codes = [graded(f"copier{i}", planted_copy(public)) for i in range(7)]
    codes += [graded(f"student{i}", text) for i, text in enumerate(texts[1:])]
    without_known = detect.similar_pairs(codes)
    assert not any("copier" in pair.left.owner and "copier" in pair.right.owner for pair in without_known)
    known = GradedCode("known:repo.py", "repo.py", "repo.py", graded_functions_source(public), known=True)
    found = {pair.left.owner: pair.score for pair in detect.similar_pairs(codes + [known])
             if pair.right.owner == "known:repo.py"}
    assert all(found.get(f"copier{i}", 0) > 0.95 for i in range(7))
    assert all(score < 0.95 for owner, score in found.items() if owner.startswith("student"))


def test_the_report_escapes_student_text():
    hostile = ('def conv_forward_naive(x, w, b, conv_param):\n'
               '    # </pre><script>alert(1)</script>\n'
               '    out = "<img src=x onerror=alert(2)>" * len(x)\n'
               '    return out, (x, w, b, conv_param)\n')
    code = GradedCode("<b>eve</b>", "eve.py", "eve.py", hostile)
    pair = detect.Pair(code, code, (1.0, 1.0), ([(0, len(hostile))], [(10, 60)]))
    page = similarity_html([pair], threshold=0.6, compared=2, skipped=[("<i>x</i>", "<script>")])
    assert "<script" not in page and "<img" not in page and "<b>eve" not in page and "<i>x" not in page
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">' in page


def test_the_command_reads_a_graded_class_of_files_zips_and_notebooks(tmp_path):
    from grader.cli import cli

    texts = synthetic_class(6, seed=7)
    folder, out, known = tmp_path / "class", tmp_path / "out", tmp_path / "known"
    folder.mkdir()
    out.mkdir()
    known.mkdir()
    for i, text in enumerate(texts[:4]):
        (folder / f"student{i}.py").write_text(text)
    with zipfile.ZipFile(folder / "zipped.zip", "w") as archive:  # a whole assignment folder, zipped
        archive.writestr("assignment2/cs231n/__init__.py", "")
        archive.writestr("assignment2/cs231n/layers.py", planted_copy(texts[1]))
    (folder / "notebooked.ipynb").write_text(_notebook(texts[4]))
    (folder / "broken.py").write_text("def conv_forward_naive(:\n")
    (known / "public_repo.py").write_text(planted_copy(texts[4]))
    (out / "summary.json").write_text(json.dumps({"submissions_dir": str(folder)}))

    result = CliRunner().invoke(cli, ["similarity", str(out), "--known", str(known)])
    assert result.exit_code == 0, result.output
    report = out / "staff" / "similarity.html"
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    page = report.read_text()
    top = re.findall(r'<h2 id="pair-[12]">\d\. (\S+) and (\S+): (?:9\d|100)%</h2>', page)
    assert sorted(sorted(names) for *names, in top) == [["known:public_repo.py", "notebooked"], ["student1", "zipped"]]
    assert "broken: not loadable" in page
    assert "7 submissions compared" in page  # 6 loadable students and one known solution


def test_the_pack_names_the_graded_functions_and_the_starter_template(tmp_path):
    """--assignment: the max-pooling pack's functions are the code compared, and its starter
    template is what never counts (a class that only kept the template is not similar)."""
    from grader.harness import assignments
    from grader.similarity.sources import collect

    pack = assignments.get("cs231n-maxpool")
    collected = collect(REPO / "submissions" / "maxpool", pack)
    assert len(collected.codes) == len(list((REPO / "submissions" / "maxpool").glob("*.py"))) and collected.skipped == []
    assert all(code.code.startswith("def max_pool_forward_naive(") and "def max_pool_backward_naive(" in code.code
               for code in collected.codes)
    names = tuple(pack.STUDENT_FUNCTIONS.values())
    starters = [GradedCode(owner, f"{owner}.py", f"{owner}.py", graded_functions_source(pack.STARTER_TEMPLATE, names))
                for owner in ("a", "b")]
    assert all(code.code.count("def max_pool_") == 2 for code in starters)
    assert detect.similar_pairs(starters, threshold=0.0, template=pack.STARTER_TEMPLATE) == []
    assert detect.similar_pairs(starters, threshold=0.9)  # under the other pack's template, they are copies


def test_the_assignment_compared_is_the_one_the_class_was_graded_as(tmp_path):
    """Without --assignment, similarity reads it from the stored results (a bundle's class is
    compared on every layer's functions); results of two assignments are refused, not guessed."""
    from grader.similarity.sources import graded_assignment

    out = tmp_path / "out"
    (out / "results").mkdir(parents=True)
    assert graded_assignment(out) is None  # nothing graded yet: the command's default then
    (out / "results" / "ada.json").write_text(json.dumps({"assignment": "cs231n-a2", "score": 100}))
    (out / "results" / "alan.json").write_text("{not json")  # unreadable: says nothing
    assert graded_assignment(out) == "cs231n-a2"
    (out / "results" / "grace.json").write_text(json.dumps({"assignment": "cs231n-conv"}))
    with pytest.raises(UsageError, match="graded as cs231n-a2, cs231n-conv: say which to compare with --assignment"):
        graded_assignment(out)
