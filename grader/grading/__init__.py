"""Grading: one submission through the sandbox to a scored, validated result.

Configuration, seeds, scoring, what-if, forbidden calls, machine figures, the result model
and its words.
"""
