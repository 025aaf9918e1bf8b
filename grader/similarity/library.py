"""copydetect, found where `make venv` puts it: outside the grading environment.

copydetect imports matplotlib at import time. The process sandbox runs student code with
the grader's own Python, where an unused `import matplotlib` must fail as it does in the
sandbox image, so copydetect lives in <venv>/similarity-packages and is put at the end of
sys.path only in the process that compares code (never a grading process).
"""

from __future__ import annotations

import sys
from pathlib import Path

from grader.errors import UsageError

PACKAGES_FOLDER = Path(sys.prefix) / "similarity-packages"


def copydetect():
    """The copydetect package (compare_files, utils), or a UsageError saying how to install it."""
    if PACKAGES_FOLDER.is_dir() and str(PACKAGES_FOLDER) not in sys.path:
        sys.path.append(str(PACKAGES_FOLDER))  # last: the grader's own numpy stays first
    try:
        import copydetect
        import copydetect.utils  # noqa: F401  (the tokenizer and fingerprint functions)
    except ImportError as exc:
        raise UsageError("convgrade similarity needs copydetect: `make venv` installs it into "
                         f"{PACKAGES_FOLDER}; elsewhere, install convgrade[similarity] in a staff-only "
                         f"environment, not the one that grades ({exc})") from exc
    return copydetect
