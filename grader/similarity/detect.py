"""Pairs of similar graded code, by winnowing fingerprints (copydetect, as MOSS does).

copydetect tokenizes with Pygments and replaces every name (variables, attributes,
functions) by one letter and every string by another, dropping comments and whitespace,
so renaming and reformatting change nothing; then it hashes k-grams of what is left and
keeps a winnowed subset, which guarantees that any match of ``guarantee`` characters
is found and ignores matches shorter than ``noise``.

Fingerprints of the starter template (the assignment pack's STARTER_TEMPLATE) never count. With a class of
at least COMMON_MIN_CLASS students, fingerprints found in more than ``common_fraction`` of
them are treated the same way: an idiom half the class writes (``for n in range(N):``
with four nested loops, after renaming) says nothing about copying, as MOSS's -m option
holds. A known public solution's fingerprints are never discounted this way.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from grader.harness import assignments
from grader.similarity.library import copydetect
from grader.similarity.sources import GradedCode

# copydetect's own defaults (noise threshold 25 characters, guarantee 30).
NOISE_CHARACTERS = 25
GUARANTEE_CHARACTERS = 30
# Pairs at or above this overlap are listed (the larger of the two directions).
DEFAULT_THRESHOLD = 0.6
DEFAULT_COMMON_FRACTION = 0.5
COMMON_MIN_CLASS = 10
PARALLEL_FROM = 40  # below this, starting processes costs more than lexing in one
MAX_TOKENIZE_PROCESSES = 8


@dataclass(frozen=True)
class Pair:
    left: GradedCode
    right: GradedCode
    overlap: tuple[float, float]
    """Share of each side's (fingerprinted) code found in the other, 0..1."""
    spans: tuple[list[tuple[int, int]], list[tuple[int, int]]]
    """(start, end) character spans of each side's code that match the other."""

    @property
    def score(self) -> float:
        return max(self.overlap)


@dataclass
class _Fingerprint:
    """What copydetect.compare_files reads of a CodeFingerprint. Built here so that each
    submission is tokenized once (Pygments is most of the time) and fingerprinted twice:
    once to count the class's common fingerprints, once without them."""

    filtered_code: str
    offsets: np.ndarray
    k: int
    hashes: set
    hash_idx: dict
    token_coverage: float


def _tokenized(code: str) -> tuple[str, np.ndarray]:
    # The file name is only shown in copydetect's warnings; the code never touches disk.
    return copydetect().utils.filter_code(code, "graded.py", language="python")


def _tokenize_all(codes: list[GradedCode]) -> list[tuple[str, np.ndarray]]:
    """Pygments' lexing is most of the time: spread it over the usable cores for a big class."""
    texts = [code.code for code in codes]
    workers = min(len(os.sched_getaffinity(0)), MAX_TOKENIZE_PROCESSES)
    if len(texts) < PARALLEL_FROM or workers < 2:
        return [_tokenized(text) for text in texts]
    copydetect()  # its folder on sys.path before the children start
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_tokenized, texts, chunksize=max(1, len(texts) // (4 * workers))))


def _fingerprint(tokens: tuple[str, np.ndarray], ignored: set[int]) -> _Fingerprint:
    filtered, offsets = tokens
    window = GUARANTEE_CHARACTERS - NOISE_CHARACTERS + 1
    boilerplate = np.array(sorted(ignored), dtype=np.int64)
    utils = copydetect().utils
    hashes, idx = utils.get_document_fingerprints(filtered, NOISE_CHARACTERS, window, boilerplate)
    return _Fingerprint(filtered, offsets, NOISE_CHARACTERS, hashes, idx,
                        utils.get_token_coverage(idx, NOISE_CHARACTERS, len(filtered)))


def _template_hashes(template: str | None = None) -> set[int]:
    """Every k-gram of the starter template (window 1, not a winnowed sample of them);
    the default pack's template when none is given."""
    filtered, _offsets = _tokenized(assignments.default().STARTER_TEMPLATE if template is None else template)
    hashes, _idx = copydetect().utils.get_document_fingerprints(filtered, NOISE_CHARACTERS, 1)
    return set(int(h) for h in hashes)


def _common_hashes(codes: list[GradedCode], tokens: list, common_fraction: float) -> set[int]:
    """Fingerprints in more than ``common_fraction`` of the class's own submissions, except
    those of a known public solution: half a class copying one public solution is exactly
    what --known is there to find."""
    students = [i for i, code in enumerate(codes) if not code.known]
    if len(students) < COMMON_MIN_CLASS:
        return set()
    counts = Counter()
    for i in students:
        counts.update(_fingerprint(tokens[i], set()).hashes)
    published = set().union(*(_fingerprint(tokens[i], set()).hashes for i, code in enumerate(codes) if code.known))
    limit = common_fraction * len(students)
    return {digest for digest, count in counts.items() if count > limit} - published


def similar_pairs(codes: list[GradedCode], *, threshold: float = DEFAULT_THRESHOLD,
                  common_fraction: float = DEFAULT_COMMON_FRACTION, template: str | None = None) -> list[Pair]:
    """Every pair (student-student, or student-known solution) whose overlap reaches
    ``threshold``, most similar first. Known solutions are not compared with each other.
    ``template``: the starter code every student began from (default: the default pack's)."""
    tokens = _tokenize_all(codes)
    ignored = _template_hashes(template) | _common_hashes(codes, tokens, common_fraction)
    prints = [_fingerprint(token_list, ignored) for token_list in tokens]
    occurrences = [_occurrences(fingerprint) for fingerprint in prints]
    pairs = []
    for i in range(len(codes)):
        for j in range(i + 1, len(codes)):
            if codes[i].known and codes[j].known:
                continue
            shared = prints[i].hashes & prints[j].hashes
            if not shared or max(_overlap(occurrences[i], shared), _overlap(occurrences[j], shared)) < threshold:
                continue
            # Above the threshold: copydetect itself, for its figures and the matching spans.
            _tokens, overlap, slices = copydetect().compare_files(prints[i], prints[j])
            spans = tuple([(int(s), int(e)) for s, e in zip(*side)] if len(side[0]) else [] for side in slices)
            pairs.append(Pair(codes[i], codes[j], (float(overlap[0]), float(overlap[1])), spans))
    return sorted(pairs, key=lambda pair: (-pair.score, pair.left.owner, pair.right.owner))


@dataclass
class _Occurrences:
    """Where each fingerprint occurs in one submission's filtered code."""

    starts: dict
    """fingerprint -> the token positions its occurrences start at (each covers [p, p + k))"""
    length: int
    k: int
    coverage: float


def _occurrences(fingerprint: _Fingerprint) -> _Occurrences:
    # Positions only: memory linear in the code's size. (A matrix of fingerprints by
    # positions grew as the square of it: 120 GiB for one 1.1 MB submission.)
    starts = {digest: np.asarray(positions, dtype=np.int64) for digest, positions in fingerprint.hash_idx.items()}
    return _Occurrences(starts, len(fingerprint.filtered_code) + fingerprint.k, fingerprint.k,
                        fingerprint.token_coverage)


def _overlap(occurrences: _Occurrences, shared: set) -> float:
    """copydetect's overlap figure for one side, without its slices: the token positions covered
    by the shared fingerprints' occurrences over those covered by all (what compare_files divides),
    at a fraction of its cost, so that only pairs above the threshold pay for compare_files."""
    if not occurrences.coverage or not shared:
        return 0.0
    starts = np.concatenate([occurrences.starts[digest] for digest in shared])
    covered = np.zeros(occurrences.length, dtype=bool)
    for offset in range(occurrences.k):
        covered[starts + offset] = True
    return float(np.count_nonzero(covered)) / occurrences.coverage
