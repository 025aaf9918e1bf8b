"""Similarity of the graded functions' code across a class, for staff only.

    sources.py   each student's graded functions' source, through the grader's own loader
    detect.py    winnowing fingerprints (copydetect, as MOSS does) and the ranked pairs
    report.py    the staff-only HTML report: pairs, overlap %, side-by-side highlighted spans

`convgrade similarity OUT [--known FOLDER]` runs all three (grader.cli).
"""
