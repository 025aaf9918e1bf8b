"""`convgrade similarity`: a planted copy is found and ranked first, independent solutions
are not flagged, and the staff report escapes every character of student text."""

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

REPO = Path(__file__).resolve().parents[2]
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


@pytest.fixture(scope="module")
def class_of_50() -> list[GradedCode]:
    texts = synthetic_class(49, seed=50)
    codes = [graded(f"student{i:02d}", text) for i, text in enumerate(texts)]
    return codes + [graded("copier", planted_copy(texts[23]))]


def test_a_planted_renamed_and_reformatted_copy_is_ranked_first(class_of_50):
    original = class_of_50[23].code
    copied = class_of_50[-1].code
    assert copied != original and "stride" not in copied.split("conv_param")[0]  # renamed and reformatted
    pairs = detect.similar_pairs(class_of_50)
    assert {pairs[0].left.owner, pairs[0].right.owner} == {"student23", "copier"}
    assert min(pairs[0].overlap) > 0.9
    assert all(pair.score < pairs[0].score for pair in pairs[1:])


def test_two_independent_correct_loop_solutions_are_not_flagged():
    codes = [graded("a", INDEPENDENT_A.read_text()), graded("b", INDEPENDENT_B.read_text())]
    assert detect.similar_pairs(codes) == []
    every = detect.similar_pairs(codes, threshold=0.0)
    assert len(every) == 1 and every[0].score < detect.DEFAULT_THRESHOLD - 0.15  # a clear margin, not luck


def test_the_quick_overlap_is_copydetects_own_figure(class_of_50):
    """Pairs below the threshold skip compare_files on the strength of _overlap: it must give
    exactly what compare_files gives, for every pair that shares a fingerprint."""
    codes = class_of_50 + [graded(path.stem, path.read_text()) for path in (REPO / "submissions" / "examples").glob("*.py")]
    tokens = [detect._tokenized(code.code) for code in codes]
    prints = [detect._fingerprint(token_list, detect._template_hashes()) for token_list in tokens]
    occurrences = [detect._occurrences(fingerprint) for fingerprint in prints]
    compared = 0
    for i in range(len(codes)):
        for j in range(i + 1, len(codes)):
            shared = prints[i].hashes & prints[j].hashes
            if not shared:
                continue
            _tokens, overlap, _slices = copydetect().compare_files(prints[i], prints[j])
            assert (detect._overlap(occurrences[i], shared), detect._overlap(occurrences[j], shared)) == pytest.approx(overlap)
            compared += 1
    assert compared > 1000


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


def _notebook(code: str) -> str:
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": code.splitlines(keepends=True)}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


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
    assert len(collected.codes) == 8 and collected.skipped == []
    assert all(code.code.startswith("def max_pool_forward_naive(") and "def max_pool_backward_naive(" in code.code
               for code in collected.codes)
    names = tuple(pack.STUDENT_FUNCTIONS.values())
    starters = [GradedCode(owner, f"{owner}.py", f"{owner}.py", graded_functions_source(pack.STARTER_TEMPLATE, names))
                for owner in ("a", "b")]
    assert all(code.code.count("def max_pool_") == 2 for code in starters)
    assert detect.similar_pairs(starters, threshold=0.0, template=pack.STARTER_TEMPLATE) == []
    assert detect.similar_pairs(starters, threshold=0.9)  # under the other pack's template, they are copies


def _unrolled_submission(size: int) -> str:
    """A loadable submission whose forward is ``size`` bytes of distinct unrolled statements
    (distinct numbers: every fingerprint differs, the worst case for the comparison)."""
    lines, total, i = [], 0, 0
    while total < size:
        lines.append(f"    out[0, {i % 7}, {i % 5}, {i % 3}] += x[0, 0, {i % 11}, {i % 13}] * {i}\n")
        total += len(lines[-1])
        i += 1
    return ("import numpy as np\n\n\ndef conv_forward_naive(x, w, b, conv_param):\n    out = np.zeros((1, 7, 5, 3))\n"
            + "".join(lines) + "    return out, (x, w, b, conv_param)\n\n\n"
            "def conv_backward_naive(dout, cache):\n    return None, None, None\n")


def test_an_oversized_submission_is_skipped_with_its_reason_and_the_class_is_still_compared(tmp_path):
    """One 1.1 MB file made the comparison allocate a 124 GiB matrix and fail for the whole
    class. Under a 3 GiB address-space limit the report is written, names the file as not
    compared and why, and the planted copy among the others is still found."""
    import resource
    import subprocess
    import sys

    texts = synthetic_class(4, seed=7)
    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    for i, text in enumerate(texts):
        (folder / f"student{i}.py").write_text(text)
    (folder / "copier.py").write_text(planted_copy(texts[1]))
    (folder / "unrolled.py").write_text(_unrolled_submission(1_100_000))
    assert (folder / "unrolled.py").stat().st_size > 1_100_000
    (out / "summary.json").write_text(json.dumps({"submissions_dir": str(folder)}))

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    done = subprocess.run([sys.executable, "-m", "grader", "similarity", str(out)], capture_output=True, text=True,
                          timeout=300, preexec_fn=limit_memory, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    page = (out / "staff" / "similarity.html").read_text()
    assert re.search(r"<li>unrolled: too large to compare: the graded functions are 1,100,\d{3} characters "
                     r"\(at most 200,000 are compared\); read unrolled.py yourself</li>", page)
    assert "5 submissions compared" in page
    top = re.search(r'<h2 id="pair-1">1\. (\S+) and (\S+): (?:9\d|100)%</h2>', page)
    assert top and sorted(top.groups()) == ["copier", "student1"]


def test_the_overlap_of_a_large_submission_takes_memory_linear_in_its_size():
    """Without the size cap, the comparison itself stays linear: a 300 KB forward against a copy
    of itself, in a process limited to 1 GiB of address space (the matrix it once built: 9 GiB)."""
    import resource
    import subprocess
    import sys

    script = ("import sys, resource\n"
              "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
              "from tests.similarity.test_similarity import _unrolled_submission, graded\n"
              "from grader.similarity import detect\n"
              "text = _unrolled_submission(300_000)\n"
              "pairs = detect.similar_pairs([graded('a', text), graded('b', text)])\n"
              "print(len(pairs), round(pairs[0].score, 3))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "1.0"]
