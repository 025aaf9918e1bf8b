"""`convgrade similarity` on a synthetic class and on oversized submissions, whose reading
runs in bounded child processes: a planted copy is found and ranked first, the quick overlap
is copydetect's own figure, and memory stays linear (the units, from independent solutions to
the escaped report: tests/unit/similarity/test_similarity.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.synthetic_class import planted_copy, synthetic_class
from grader.similarity import detect
from grader.similarity.library import copydetect
from grader.similarity.sources import GradedCode
from tests.unit.similarity.test_similarity import _copydetect_installed, graded  # noqa: F401 (an autouse fixture)

REPO = Path(__file__).resolve().parents[2]


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
