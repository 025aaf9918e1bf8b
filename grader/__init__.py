"""convgrade: a sandboxed autograder for numpy neural-network layers (one
assignment pack per assignment: ``grader.harness.assignments``).

Nothing is imported here on purpose: ``grader.harness`` runs inside the sandbox with
numpy and the standard library only, and importing it must not pull in the host side.
"""

__version__ = "0.2.0"
