"""The deadline rush's class (bench/rush_class.py): its shape, seeded."""

from __future__ import annotations

from collections import Counter

from bench.rush_class import deadline_times, rush_class


def test_the_class_is_seeded_distinct_and_deadline_shaped():
    uploads = rush_class(60, window_s=600, seed=0)
    assert uploads == rush_class(60, window_s=600, seed=0)
    assert len({upload.data for upload in uploads}) == len(uploads)  # none shares another's grading
    per_student = Counter(upload.student for upload in uploads)
    assert len(per_student) == 60 and set(per_student.values()) <= {1, 2, 3}
    assert [upload.at_s for upload in uploads] == sorted(upload.at_s for upload in uploads)
    assert all(0 <= upload.at_s < 600 for upload in uploads)
    assert sum(upload.at_s >= 400 for upload in uploads) > 0.6 * len(uploads)
    kinds = Counter(upload.kind for upload in uploads)
    assert kinds["loops"] > 0.5 * len(uploads) and kinds["refused"] >= 2
    # The wrong file is a student's first upload, and the right one follows.
    for upload in uploads:
        if upload.kind == "refused":
            assert upload.order == 1 and per_student[upload.student] > 1


def test_deadline_times_put_most_in_the_last_third():
    import random

    times = deadline_times(3000, 90.0, random.Random(1))
    share = sum(t >= 60 for t in times) / len(times)
    assert abs(share - (1 - (2 / 3) ** 3)) < 0.03  # 0.704 for density t squared
