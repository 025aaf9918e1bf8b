"""The seed of the hidden cases: a keyed hash of the submission's content, and the
environment's course secret wins over the configuration's (regrades: tests/test_seeds.py)."""

from __future__ import annotations

from grader.grading.seeds import COURSE_SECRET, DEFAULT_SECRET, SECRET_ENV, course_secret, derive_seed

SHA = "ab" * 32


def test_the_seed_is_a_keyed_hash_of_the_content():
    seed, how = derive_seed(SHA, "cs231n-conv", "course-secret")
    assert how == COURSE_SECRET
    assert derive_seed(SHA, "cs231n-conv", "course-secret") == (seed, COURSE_SECRET)
    assert 0 <= seed < 2**62
    assert derive_seed("cd" * 32, "cs231n-conv", "course-secret")[0] != seed  # other content
    assert derive_seed(SHA, "cs231n-conv", "another-secret")[0] != seed  # other course
    assert derive_seed(SHA, "cs231n-pool", "course-secret")[0] != seed  # other assignment
    default_seed, default_how = derive_seed(SHA, "cs231n-conv", None)
    assert default_how == DEFAULT_SECRET and default_seed != seed
    assert derive_seed(SHA, "cs231n-conv", None) == (default_seed, DEFAULT_SECRET)


def test_the_environment_secret_wins_over_the_configuration(monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    assert course_secret(None) is None
    assert course_secret("from-config") == "from-config"
    monkeypatch.setenv(SECRET_ENV, "from-env")
    assert course_secret("from-config") == "from-env"
