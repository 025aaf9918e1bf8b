"""The seed of a grading's hidden cases (and timed inputs): where it comes from.

By default it is derived from the submission's content and a course secret:

    seed = first 62 bits of HMAC-SHA256(key=secret, message=assignment + NUL + submission sha256)

so the same file gets the same cases, checks, messages and score on every regrade, on
any machine, while a student who does not know the secret cannot predict its cases (nor
try files until one gets easy ones). The secret comes from the environment variable
``CONVGRADE_SEED_SECRET``, else from the configuration's ``seed_secret``; without either,
a fixed per-assignment default is used (public, so predictable: the CLI warns). An
explicit ``--seed`` overrides all of it. A result records which of these applied
(``seed_derivation``), never the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os

SECRET_ENV = "CONVGRADE_SEED_SECRET"

# What a result's ``seed_derivation`` says.
GIVEN = "given"  # --seed, or the caller's explicit seed
COURSE_SECRET = "content+course_secret"
DEFAULT_SECRET = "content+default_secret"

NO_SECRET_WARNING = (f"no course secret for the hidden cases' seed (set {SECRET_ENV} or the config's seed_secret): "
                     "seeds come from a public per-assignment default, so anyone with this grader can compute "
                     "a file's hidden cases")


def course_secret(configured: str | None) -> str | None:
    """The course secret: the environment's, else the configuration's; None without one."""
    return os.environ.get(SECRET_ENV) or configured or None


def default_secret(assignment: str) -> str:
    return f"convgrade default seed secret for {assignment}"


def derive_seed(sha256: str, assignment: str, secret: str | None) -> tuple[int, str]:
    """(seed, derivation) for a submission whose content hash is ``sha256``."""
    derivation = COURSE_SECRET if secret else DEFAULT_SECRET
    key = (secret or default_secret(assignment)).encode("utf-8")
    digest = hmac.new(key, f"{assignment}\0{sha256}".encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 2, derivation
