# convgrade sandbox image: python3 + numpy, the trusted harness and the references.
#
# Build it with `make image` (python -m grader.sandbox.image): that assembles the
# context (this file, grader/__init__.py, grader/harness/, reference/, wheels/),
# tags the image convgrade:<content hash> and convgrade:latest, and picks the base:
# python:3.11-slim when it is present or pullable, else a local Debian base made by
# docker/build-base.sh (--build-arg BASE_IMAGE=convgrade-base:bookworm).
# A plain `docker build .` works too once wheels/ holds the pinned wheels below.
#
# Nothing is fetched from the network: numpy and threadpoolctl are installed from the
# wheels in the context (pip --no-index), by a pip run from its own wheel, so the base
# needs python3 only. The pins must match the project's .venv (tests/test_image.py).
#
# At run time the container runs `python3 -m grader.harness` as root in
# /opt/convgrade/app (mode 0700: the student worker, under a uid >= 20000, cannot
# read the harness or the references); /submission is bind-mounted read-only, /tmp
# is a tmpfs and the root filesystem is read-only. Thread and bytecode environment
# variables are set by the harness, not here.
ARG BASE_IMAGE=python:3.11-slim

# ---- stage 1: install the wheels into /install (keeps wheels and pip out of the image)
FROM ${BASE_IMAGE} AS deps
ARG NUMPY_VERSION=2.4.6
ARG THREADPOOLCTL_VERSION=3.8.0
# line_profiler (and its one dependency): the student's worker profiles a timed function
# once after the trials, for the "where your time goes" feedback (harness/line_feedback.py).
ARG LINE_PROFILER_VERSION=5.1.0
ARG TYPING_EXTENSIONS_VERSION=4.16.0
ARG PIP_VERSION=26.3
COPY wheels/ /tmp/wheels/
# --root /install keeps the base's own install scheme: /usr/local/lib/python3.11/
# site-packages on python:3.11-slim, .../dist-packages on Debian's python3 (PEP 668
# there, hence PIP_BREAK_SYSTEM_PACKAGES; harmless on python:3.11-slim).
RUN PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 \
    python3 /tmp/wheels/pip-${PIP_VERSION}-py3-none-any.whl/pip install \
        --no-index --find-links /tmp/wheels --root /install --no-warn-script-location \
        "numpy==${NUMPY_VERSION}" "threadpoolctl==${THREADPOOLCTL_VERSION}" -r /tmp/wheels/packs.txt \
        "line_profiler==${LINE_PROFILER_VERSION}" "typing_extensions==${TYPING_EXTENSIONS_VERSION}" \
    && rm -rf /install/usr/local/bin

# ---- stage 2: the runtime image
FROM ${BASE_IMAGE}
COPY --from=deps /install/ /
# Fail the build here, not at grading time, if numpy does not import as a stranger.
RUN python3 -c "import numpy, threadpoolctl, line_profiler" \
    && mkdir -p /submission /opt/convgrade/app
# The app last: it changes most, and the layers above stay cached.
COPY grader/__init__.py /opt/convgrade/app/grader/__init__.py
COPY grader/harness/ /opt/convgrade/app/grader/harness/
COPY reference/ /opt/convgrade/app/reference/
RUN chown -R root:root /opt/convgrade \
    && chmod 0755 /opt/convgrade \
    && chmod -R go-rwx /opt/convgrade/app
WORKDIR /opt/convgrade/app
USER root
CMD ["python3", "-m", "grader.harness"]
