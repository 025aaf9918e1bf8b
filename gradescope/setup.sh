#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image.
# It installs convgrade offline, from the wheels in this zip (no package index needed),
# into a virtual environment of the image's own Python.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV=/opt/convgrade/venv
WANT="$(cat "$SOURCE/python-version")"   # the Python the wheels were built for, e.g. 3.11

PYTHON=""
for candidate in "python$WANT" python3; do
    if command -v "$candidate" >/dev/null &&
       [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" = "$WANT" ]; then
        PYTHON="$(command -v "$candidate")"
        break
    fi
done
if [ -z "$PYTHON" ]; then
    echo "setup.sh: this autograder's wheels need Python $WANT, which this image does not have." >&2
    echo "setup.sh: pick a Gradescope base image with Python $WANT, or rebuild with 'make gradescope GS_PYTHON=X.Y'." >&2
    exit 1
fi

# --without-pip: Debian and Ubuntu ship venv without ensurepip; pip runs from its wheel.
"$PYTHON" -m venv --without-pip "$VENV"
PIP_WHEEL="$(ls "$SOURCE"/wheels/pip-*.whl | head -n 1)"
PIP_ROOT_USER_ACTION=ignore "$VENV/bin/python" "$PIP_WHEEL/pip" install --quiet --no-index --no-cache-dir \
    --disable-pip-version-check --find-links "$SOURCE/wheels" convgrade

# The student's code runs under a private uid (no CAP_SYS_ADMIN here, so no namespaces):
# it must be able to run the interpreter and numpy, and must not read the grader, the
# reference implementations or the course secret in this folder.
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
chmod -R go-rwx "$SITE/grader" "$SITE/reference" "$SOURCE"
chmod 0755 /opt/convgrade "$VENV"

# What isolation and timing conditions this image gives (shown in the build log).
"$VENV/bin/convgrade" doctor || true
